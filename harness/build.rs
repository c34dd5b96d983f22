//! Embeds the scenario table (`../scenarios/*.toml`) into the binary and generates
//! one test per scenario file and backend it runs on, so one failing scenario
//! is one failing test, and a scenario for Docker only is no process test (a
//! test that returns early would count as passed). The tests run the
//! reference, so a scenario naming a claim the reference does not make (its
//! adapter's `[claims.not_made]`) gets none either: it is another target's.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let dir = manifest.join("..").join("scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let reference = manifest.join("..").join("adapters").join("reference.toml");
    println!("cargo:rerun-if-changed={}", reference.display());
    let not_made = not_made_claims(
        &std::fs::read_to_string(&reference).expect("adapters/reference.toml is readable"),
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut embedded = String::from("/// The default table: `(file name, TOML text)`, in name order.\npub const FILES: &[(&str, &str)] = &[\n");
    let mut process_tests = String::new();
    let mut docker_tests = String::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 scenario file name");
        let abs = f.canonicalize().expect("scenario file exists");
        writeln!(
            embedded,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("write to String");
        let text = std::fs::read_to_string(f).expect("scenario file is readable");
        let backends = backends_line(&text);
        let claims = claims_line(&text);
        if not_made
            .iter()
            .any(|c| claims.contains(&format!("\"{c}\"")))
        {
            continue;
        }
        for (backend, tests) in [
            ("\"process\"", &mut process_tests),
            ("\"docker\"", &mut docker_tests),
        ] {
            if backends.contains(backend) {
                writeln!(tests, "scenario_test!({}, {name:?});", test_name_of(name))
                    .expect("write to String");
            }
        }
    }
    embedded.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("embedded_scenarios.rs"), embedded)
        .expect("write embedded_scenarios.rs");
    std::fs::write(out.join("scenario_tests_process.rs"), process_tests)
        .expect("write scenario_tests_process.rs");
    std::fs::write(out.join("scenario_tests_docker.rs"), docker_tests)
        .expect("write scenario_tests_docker.rs");
}

/// The scenario's `backends = [...]` line (the loader requires one; a test
/// asserts the generated lists agree with it).
fn backends_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("backends") && l.contains('='))
        .unwrap_or("")
}

/// The scenario's `claims = [...]` line.
fn claims_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("claims") && l.contains('='))
        .unwrap_or("")
}

/// The keys of the reference adapter's `[claims.not_made]` table.
fn not_made_claims(adapter: &str) -> Vec<String> {
    let mut in_table = false;
    let mut out = Vec::new();
    for line in adapter.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[claims.not_made]";
        } else if let (true, Some((key, _))) = (in_table, line.split_once('=')) {
            out.push(key.trim().to_owned());
        }
    }
    out
}

include!("src/scenario/test_name.rs");
