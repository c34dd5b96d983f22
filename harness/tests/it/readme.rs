//! The documentation stays true:
//!
//! - the table under "What each scenario proves" in `docs/scenarios.md` has a row
//!   for every scenario of `scenarios/*.toml`, and every row names one that exists;
//! - every relative link in `README.md` and `docs/*.md` points at a file (or
//!   folder) of the repository, and a link to a heading of a markdown file names
//!   a heading that exists;
//! - no tracked file points at a `shared` folder beside the clone: a user's clone
//!   has none, and the contract lives in `docs/contract.md`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_scenario_table_has_a_row_for_every_scenario_and_no_other() {
    let root = root();
    let doc = read(&root.join("docs/scenarios.md"));
    let section = doc
        .split("\n## What each scenario proves")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/scenarios.md has a `## What each scenario proves` section");
    let mut rows: Vec<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect();
    rows.sort();

    let mut names: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let doc: toml::Table = read(&p)
                .parse()
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            doc["name"].as_str().expect("name").to_owned()
        })
        .collect();
    names.sort();

    assert_eq!(
        rows, names,
        "the table in docs/scenarios.md (## What each scenario proves) and scenarios/*.toml \
         disagree: add or remove rows"
    );
}

/// `README.md` and every `docs/*.md`.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The lines of a markdown file outside fenced code blocks, with their numbers
/// (from 1), and with inline code spans removed when `strip_code`.
fn prose_lines(text: &str, strip_code: bool) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        if marker.len() >= 3 && marker.chars().all(|c| c == marker.chars().next().unwrap()) {
            match &fence {
                None => fence = Some(marker),
                Some(open) if marker.starts_with(open.as_str()) => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_none() {
            let line = if strip_code {
                strip_code_spans(line)
            } else {
                line.to_owned()
            };
            out.push((i + 1, line));
        }
    }
    out
}

fn strip_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of inline links and images (`[text](target)`, `![alt](target)`)
/// and of reference definitions (`[label]: target`).
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].trim();
        // `(path "title")`: the title is not part of the target.
        let target = target.split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        out.push(target.to_owned());
        rest = &after[end..];
    }
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some(i) = trimmed.find("]: ") {
            if let Some(target) = trimmed[i + 3..].split_whitespace().next() {
                out.push(target.to_owned());
            }
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and
/// `_`), spaces to `-`; a repeated heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    // Headings keep their code spans: GitHub keeps the text inside backticks.
    for (_, line) in prose_lines(text, false) {
        let Some(title) = line
            .strip_prefix('#')
            .map(|l| l.trim_start_matches('#'))
            .and_then(|l| l.strip_prefix(' '))
        else {
            continue;
        };
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while seen.contains(&candidate) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
        seen.insert(candidate);
    }
    seen
}

#[test]
fn every_relative_link_in_the_docs_points_at_a_file_of_the_repository() {
    let root = root();
    let mut dead = Vec::new();
    let mut checked = 0;
    for file in markdown_files(&root) {
        let text = read(&file);
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (n, line) in prose_lines(&text, true) {
            for target in link_targets(&line) {
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = match target.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (target.as_str(), None),
                };
                let resolved = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().expect("a parent").join(path)
                };
                let Ok(real) = resolved.canonicalize() else {
                    dead.push(format!("{shown}:{n}: {target}: no such file"));
                    continue;
                };
                if !real.starts_with(&root) {
                    dead.push(format!("{shown}:{n}: {target}: outside the repository"));
                    continue;
                }
                if let Some(fragment) = fragment {
                    if real.extension().is_some_and(|x| x == "md")
                        && !anchors(&read(&real)).contains(fragment)
                    {
                        dead.push(format!("{shown}:{n}: {target}: no heading #{fragment}"));
                    }
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no relative link found: is the link parser broken?"
    );
    assert!(
        dead.is_empty(),
        "dead links in the documentation:\n{}",
        dead.join("\n")
    );
}

#[test]
fn no_tracked_file_points_outside_the_repository_at_a_shared_folder() {
    let root = root();
    // Spelled in two parts so that this file does not find itself.
    let needle = ["..", "shared/"].join("/");
    let out = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        .expect("git ls-files: this test needs git and a git checkout");
    assert!(
        out.status.success(),
        "git ls-files failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut hits = Vec::new();
    let mut files = 0;
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        // A tracked file deleted in the work tree has nothing to say.
        let Ok(bytes) = std::fs::read(root.join(&name)) else {
            continue;
        };
        files += 1;
        // Binary files are not read.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                hits.push(format!("{name}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(files > 0, "git ls-files listed no file");
    assert!(
        hits.is_empty(),
        "tracked files mention `{needle}`, which a user's clone does not have \
         (the contract is docs/contract.md):\n{}",
        hits.join("\n")
    );
}
