//! The mutant gate: the scenario table run against the reference gateway and
//! against each named mutant (a deliberate bug of the `mutants` build, selected
//! with `GATEWAY_MUTANT=<name>`), scored as a kill matrix the way a
//! mutation-testing tool scores a test suite.
//!
//! - [`matrix`]: the kill matrix as a pure function of outcomes (the rules).
//! - [`run`]: the orchestration (which runs, in which order, on which backend).
//! - [`report`]: the matrix for humans and as JSON.
//!
//! The mutant list is the gateway's own: `gateway mutants` (a hidden command)
//! prints one `name<TAB>sentence` line per mutant the build can enable (none
//! in a default build), and the harness reads it from the mutants-build binary
//! it runs, so the list cannot drift from what the binary can enable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

pub mod matrix;
pub mod report;
pub mod run;

/// One mutant, as the gateway lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MutantInfo {
    /// The `GATEWAY_MUTANT` value.
    pub name: String,
    /// The one-sentence real failure it models.
    pub describe: String,
}

/// Why the mutant gate could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum MutantsError {
    /// `gateway mutants` could not be run.
    #[error("running `{binary} mutants` to list the mutants: {detail}")]
    List {
        /// The binary.
        binary: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// `gateway mutants` printed something else than `name<TAB>sentence` lines.
    #[error("`{binary} mutants` line {line}: expected `name<TAB>sentence`, got {text:?}")]
    Listing {
        /// The binary.
        binary: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// `--mutant` named a mutant the gateway does not have.
    #[error("unknown mutant `{name}`{hint}; the gateway has: {allowed}")]
    UnknownMutant {
        /// The name given.
        name: String,
        /// ` (did you mean `x`?)`, or nothing.
        hint: String,
        /// The names the gateway lists.
        allowed: String,
    },
    /// No backend, or no gateway to run.
    #[error(transparent)]
    Select(#[from] crate::backend::SelectError),
    /// The gateway lists no mutant at all.
    #[error("`{0} mutants` lists no mutant")]
    NoMutants(PathBuf),
}

/// Parses the output of `gateway mutants`.
pub fn parse_listing(binary: &Path, text: &str) -> Result<Vec<MutantInfo>, MutantsError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || MutantsError::Listing {
            binary: binary.to_owned(),
            line: i + 1,
            text: line.to_owned(),
        };
        let (name, describe) = line.split_once('\t').ok_or_else(bad)?;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_name || describe.trim().is_empty() {
            return Err(bad());
        }
        out.push(MutantInfo {
            name: name.to_owned(),
            describe: describe.trim().to_owned(),
        });
    }
    if out.is_empty() {
        return Err(MutantsError::NoMutants(binary.to_owned()));
    }
    Ok(out)
}

/// Runs `<binary> mutants` and parses its listing. The binary must run on this
/// host (the Docker image's static binary does).
pub fn list_from_binary(binary: &Path) -> Result<Vec<MutantInfo>, MutantsError> {
    let err = |detail: String| MutantsError::List {
        binary: binary.to_owned(),
        detail,
    };
    let out = Command::new(binary)
        .arg("mutants")
        // A mutant in the harness's own environment must not change the listing.
        .env_remove("GATEWAY_MUTANT")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_listing(binary, &String::from_utf8_lossy(&out.stdout))
}

/// The mutants named by `wanted` (all of them when empty), in the gateway's order.
pub fn select(all: Vec<MutantInfo>, wanted: &[String]) -> Result<Vec<MutantInfo>, MutantsError> {
    if let Some(unknown) = wanted.iter().find(|w| !all.iter().any(|m| &m.name == *w)) {
        let names: Vec<String> = all.iter().map(|m| m.name.clone()).collect();
        return Err(MutantsError::UnknownMutant {
            name: unknown.clone(),
            hint: nearest(unknown, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default(),
            allowed: all
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(if wanted.is_empty() {
        all
    } else {
        all.into_iter()
            .filter(|m| wanted.contains(&m.name))
            .collect()
    })
}

/// The name of `names` nearest to `given`, when it is near enough to be a
/// typo of it (for a "did you mean").
fn nearest<'a>(given: &str, names: &'a [String]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (edit_distance(given, n), n))
        .filter(|(d, n)| *d <= 3 && *d * 3 <= n.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diag
            } else {
                1 + diag.min(above).min(row[j])
            };
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_named_with_its_nearest_mutant() {
        let names: Vec<String> = ["teardown-always-stopped", "never-give-up"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            nearest("teardown-alwys-stopped", &names),
            Some("teardown-always-stopped")
        );
        assert_eq!(nearest("nothing-like-it-at-all", &names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn parses_name_tab_sentence_lines() {
        let got = parse_listing(
            Path::new("gw"),
            "teardown-always-stopped\tEvery teardown persists `stopped`.\nnever-give-up\tinit never gives up.\n",
        )
        .expect("parses");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].name, "never-give-up");
        assert_eq!(got[1].describe, "init never gives up.");
    }

    #[test]
    fn rejects_anything_else() {
        for bad in ["no tab here\n", "Bad Name\tx\n", "name\t \n"] {
            assert!(
                matches!(
                    parse_listing(Path::new("gw"), bad),
                    Err(MutantsError::Listing { line: 1, .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_listing(Path::new("gw"), "\n"),
            Err(MutantsError::NoMutants(_))
        ));
    }

    #[test]
    fn select_keeps_the_gateways_order_and_names_unknown_mutants() {
        let all = parse_listing(Path::new("gw"), "a\tA.\nb\tB.\nc\tC.\n").expect("parses");
        let picked = select(all.clone(), &["c".into(), "a".into()]).expect("known");
        let names: Vec<&str> = picked.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(select(all.clone(), &[]).expect("all").len(), 3);
        let e = select(all, &["zz".into()]).expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown mutant `zz`; the gateway has: a, b, c"
        );
    }
}
