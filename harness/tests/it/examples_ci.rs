//! The CI recipes in `examples/ci/` stay usable: both parse as YAML, every
//! command line in them that invokes `restart-harness` (`cargo run -p
//! restart-harness -- ...` or a bare `restart-harness ...`) parses with the real
//! command-line definition, the gate runs on Docker against `--image` and writes
//! `--junit`, and the report is kept and cargo's dirs cached.

use std::path::{Path, PathBuf};

use clap::Parser as _;
use restart_harness::cli::{Cli, Command};
use serde_norway::Value;

fn example(name: &str) -> (PathBuf, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let yaml: Value = serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    (path, yaml)
}

/// Every string under a key that holds shell commands: GitHub's `run`, GitLab's
/// `script`, `before_script` and `after_script` (a string or a list of them).
fn shell_scripts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, v) in map {
                let is_script = matches!(
                    key.as_str(),
                    Some("run" | "script" | "before_script" | "after_script")
                );
                match (is_script, v) {
                    (true, Value::String(s)) => out.push(s.clone()),
                    (true, Value::Sequence(items)) => {
                        out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                    }
                    _ => shell_scripts(v, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| shell_scripts(v, out)),
        Value::Tagged(tagged) => shell_scripts(&tagged.value, out),
        _ => {}
    }
}

const OPERATORS: [&str; 5] = ["&&", "||", ";", "|", "&"];

/// The argv (argv[0] `restart-harness`) of every invocation of restart-harness
/// in a shell script, with the line it came from.
fn invocations(script: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let joined = script.replace("\\\n", " ");
    for line in joined.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words =
            shlex::split(line).unwrap_or_else(|| panic!("cannot split into shell words: {line}"));
        for command in words.split(|w| OPERATORS.contains(&w.as_str())) {
            // Leading `NAME=value` assignments, then the command; a redirection
            // or a comment ends the arguments.
            let command: Vec<&String> = command
                .iter()
                .skip_while(|w| is_assignment(w))
                .take_while(|w| !w.starts_with('>') && !w.starts_with('<') && !w.starts_with('#'))
                .collect();
            let Some(program) = command.first() else {
                continue;
            };
            let args: Option<Vec<String>> = if let Some(args) = in_the_harness_image(&command) {
                Some(args)
            } else if program.rsplit('/').next() == Some("restart-harness") {
                Some(command[1..].iter().map(|w| w.to_string()).collect())
            } else if program.as_str() == "cargo" && runs_restart_harness(&command[1..]) {
                Some(
                    command
                        .iter()
                        .skip_while(|w| w.as_str() != "--")
                        .skip(1)
                        .map(|w| w.to_string())
                        .collect(),
                )
            } else {
                None
            };
            if let Some(args) = args {
                let mut argv = vec!["restart-harness".to_owned()];
                argv.extend(args);
                found.push((line.to_owned(), argv));
            }
        }
    }
    found
}

/// `docker run [OPTIONS] IMAGE ARGS` of the harness image (`$HARNESS_IMAGE`,
/// or a `restart-harness/harness` tag): its ARGS, which the image's
/// entrypoint `restart-harness` gets.
fn in_the_harness_image(command: &[&String]) -> Option<Vec<String>> {
    if command.len() < 2 || command[0].as_str() != "docker" || command[1].as_str() != "run" {
        return None;
    }
    let image = command.iter().position(|w| {
        matches!(w.as_str(), "$HARNESS_IMAGE" | "${HARNESS_IMAGE}")
            || w.starts_with("restart-harness/harness")
    })?;
    Some(command[image + 1..].iter().map(|w| w.to_string()).collect())
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// `cargo [+toolchain] run ... (-p|--package|--bin) restart-harness ...`, up to `--`.
fn runs_restart_harness(cargo_args: &[&String]) -> bool {
    let before: Vec<&str> = cargo_args
        .iter()
        .map(|w| w.as_str())
        .take_while(|&w| w != "--")
        .collect();
    let subcommand = before.iter().find(|w| !w.starts_with('+'));
    if subcommand != Some(&"run") {
        return false;
    }
    before
        .windows(2)
        .any(|pair| matches!(pair[0], "-p" | "--package" | "--bin") && pair[1] == "restart-harness")
        || before.iter().any(|w| {
            matches!(
                *w,
                "-prestart-harness" | "--package=restart-harness" | "--bin=restart-harness"
            )
        })
}

/// The values a job's shell sees for its variables, as far as the recipe
/// says: every `env:` (GitHub) and `variables:` (GitLab) entry, a matrix
/// value (`${{ matrix.shard }}`, GitLab's `parallel: matrix:`) taken as its
/// first one.
fn variables(yaml: &Value) -> Vec<(String, String)> {
    fn matrices(value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    if k.as_str() == Some("matrix") {
                        let rows: Vec<&Value> = match v {
                            Value::Sequence(rows) => rows.iter().collect(),
                            other => vec![other],
                        };
                        for row in rows {
                            for (name, values) in row.as_mapping().into_iter().flatten() {
                                let first = match values {
                                    Value::Sequence(vs) => vs.first(),
                                    other => Some(other),
                                };
                                if let (Some(n), Some(f)) = (name.as_str(), first) {
                                    let f = match f.as_str() {
                                        Some(s) => s.to_owned(),
                                        None => serde_norway::to_string(f)
                                            .unwrap_or_default()
                                            .trim()
                                            .to_owned(),
                                    };
                                    out.push((n.to_owned(), f));
                                }
                            }
                        }
                    }
                    matrices(v, out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|v| matrices(v, out)),
            _ => {}
        }
    }
    fn envs(value: &Value, matrix: &[(String, String)], out: &mut Vec<(String, String)>) {
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    if matches!(k.as_str(), Some("env" | "variables")) {
                        for (name, val) in v.as_mapping().into_iter().flatten() {
                            if let (Some(n), Some(s)) = (name.as_str(), val.as_str()) {
                                let mut s = s.to_owned();
                                for (m, first) in matrix {
                                    s = s.replace(&format!("${{{{ matrix.{m} }}}}"), first);
                                }
                                out.push((n.to_owned(), s));
                            }
                        }
                    }
                    envs(v, matrix, out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|v| envs(v, matrix, out)),
            _ => {}
        }
    }
    let mut matrix = Vec::new();
    matrices(yaml, &mut matrix);
    let mut out = matrix.clone();
    envs(yaml, &matrix, &mut out);
    out
}

/// `word` with `$NAME` and `${NAME}` of `vars` replaced, longest names first.
fn expand(word: &str, vars: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = vars.iter().collect();
    sorted.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let mut w = word.to_owned();
    for (n, v) in sorted {
        w = w
            .replace(&format!("${{{n}}}"), v)
            .replace(&format!("${n}"), v);
    }
    w
}

/// Every invocation parses with the real CLI; returns them.
fn parsed_invocations(name: &str, yaml: &Value) -> Vec<(String, Vec<String>, Cli)> {
    let mut scripts = Vec::new();
    shell_scripts(yaml, &mut scripts);
    let vars = variables(yaml);
    let found: Vec<_> = scripts
        .iter()
        .flat_map(|s| invocations(s))
        .map(|(line, argv)| {
            (
                line,
                argv.iter().map(|w| expand(w, &vars)).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert!(
        !found.is_empty(),
        "{name}: no command line invokes restart-harness"
    );
    found
        .into_iter()
        .map(|(line, argv)| {
            let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| {
                panic!("{name}: `{line}` does not parse as restart-harness {argv:?}:\n{e}")
            });
            (line, argv, cli)
        })
        .collect()
}

/// The value after `flag` in argv.
fn flag_value<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    argv.iter()
        .position(|w| w == flag)
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str)
        .or_else(|| {
            argv.iter()
                .find_map(|w| w.strip_prefix(flag)?.strip_prefix('='))
        })
}

/// The recipe gates an image in shards: `run --backend docker --image X
/// --partition count:K/N --json F` per shard, and `report merge ... --junit
/// gate.xml` of them.
fn assert_gates_an_image_in_shards(name: &str, invocations: &[(String, Vec<String>, Cli)]) {
    let (line, argv, _) = invocations
        .iter()
        .find(|(_, _, cli)| matches!(cli.command, Command::Run(_)))
        .unwrap_or_else(|| panic!("{name}: no `restart-harness run` line"));
    assert_eq!(
        flag_value(argv, "--backend"),
        Some("docker"),
        "{name}: {line}"
    );
    assert!(flag_value(argv, "--image").is_some(), "{name}: {line}");
    assert!(
        flag_value(argv, "--partition").is_some_and(|p| p.starts_with("count:")),
        "{name}: each shard runs its partition: {line}"
    );
    assert!(flag_value(argv, "--json").is_some(), "{name}: {line}");
    let (line, argv, _) = invocations
        .iter()
        .find(|(_, _, cli)| matches!(cli.command, Command::Report(_)))
        .unwrap_or_else(|| panic!("{name}: no `restart-harness report merge` line"));
    assert_eq!(
        argv.get(2).map(String::as_str),
        Some("merge"),
        "{name}: {line}"
    );
    assert_eq!(
        flag_value(argv, "--junit"),
        Some("gate.xml"),
        "{name}: {line}"
    );
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping()?.get(key)
}

fn mentions(value: &Value, needle: &str) -> bool {
    serde_norway::to_string(value).is_ok_and(|s| s.contains(needle))
}

#[test]
fn the_github_actions_recipe_gates_the_image_of_every_pull_request() {
    let name = "github-actions.yml";
    let (_, yaml) = example(name);
    let invocations = parsed_invocations(name, &yaml);
    assert_gates_an_image_in_shards(name, &invocations);

    let on = get(&yaml, "on").expect("github-actions.yml: `on:`");
    let on_pull_requests = match on {
        Value::String(s) => s == "pull_request",
        Value::Sequence(items) => items.iter().any(|v| v.as_str() == Some("pull_request")),
        Value::Mapping(map) => map.contains_key("pull_request"),
        _ => false,
    };
    assert!(on_pull_requests, "{name}: must run on pull_request");

    let jobs = get(&yaml, "jobs")
        .and_then(Value::as_mapping)
        .expect("github-actions.yml: `jobs:`");
    // The shards, their merge whatever they said, and one build of the harness.
    let shards = get(&yaml, "jobs").and_then(|j| get(j, "gate"));
    assert!(
        shards.is_some_and(|g| mentions(g, "matrix") && mentions(g, "shard")),
        "{name}: the gate job has a matrix of shards"
    );
    let verdict = get(&yaml, "jobs").and_then(|j| get(j, "verdict"));
    assert!(
        verdict.is_some_and(|v| get(v, "if").and_then(Value::as_str) == Some("always()")),
        "{name}: the verdict job runs whatever the shards said"
    );
    assert!(
        mentions(&yaml, "bash restart-harness/ci/harness-image.sh")
            && mentions(&yaml, "docker load"),
        "{name}: the harness image is built once and loaded, not compiled in every job"
    );
    let steps: Vec<&Value> = jobs
        .values()
        .filter_map(|job| get(job, "steps")?.as_sequence())
        .flatten()
        .collect();
    let uses = |action: &str| -> Vec<&Value> {
        steps
            .iter()
            .copied()
            .filter(|s| {
                get(s, "uses")
                    .and_then(Value::as_str)
                    .is_some_and(|u| u.starts_with(&format!("{action}@")))
            })
            .collect()
    };
    let upload = uses("actions/upload-artifact");
    assert!(
        upload
            .iter()
            .any(|s| get(s, "with").is_some_and(|w| mentions(w, "gate.xml"))),
        "{name}: gate.xml must be uploaded with actions/upload-artifact"
    );
    let cache = uses("actions/cache");
    assert!(
        cache.iter().any(|s| get(s, "with")
            .is_some_and(|w| { mentions(w, ".cargo/registry") && mentions(w, "target") })),
        "{name}: cargo's registry and target dir must be cached with actions/cache"
    );
}

#[test]
fn the_gitlab_recipe_gates_the_image_and_reports_junit() {
    let name = "gitlab-ci.yml";
    let (_, yaml) = example(name);
    let invocations = parsed_invocations(name, &yaml);
    assert_gates_an_image_in_shards(name, &invocations);
    assert!(
        get(&yaml, "restart-gate")
            .and_then(|g| get(g, "parallel"))
            .is_some_and(|p| mentions(p, "matrix") && mentions(p, "SHARD")),
        "{name}: the gate job runs in parallel: matrix: over shards"
    );
    assert!(
        mentions(
            &yaml,
            "cargo install --locked --path restart-harness/harness"
        ),
        "{name}: the harness is installed once, not compiled in every job"
    );

    let jobs: Vec<&Value> = yaml
        .as_mapping()
        .expect("gitlab-ci.yml: a mapping")
        .values()
        .filter(|job| get(job, "script").is_some())
        .collect();
    let merge = jobs
        .iter()
        .find(|job| mentions(get(job, "script").unwrap(), "report merge"))
        .unwrap_or_else(|| panic!("{name}: no job merges the shards"));
    let junit = get(merge, "artifacts")
        .and_then(|a| get(a, "reports"))
        .and_then(|r| get(r, "junit"));
    assert!(
        junit.is_some_and(|j| mentions(j, "gate.xml")),
        "{name}: the merging job must have `artifacts: reports: junit:` gate.xml"
    );
    let build = jobs
        .iter()
        .find(|job| mentions(get(job, "script").unwrap(), "cargo install"))
        .unwrap_or_else(|| panic!("{name}: no job installs the harness"));
    assert!(
        get(build, "cache").is_some_and(|c| mentions(c, "paths")),
        "{name}: the job that builds the harness must cache cargo's dirs"
    );
}

#[test]
fn the_splitter_finds_every_form_of_invocation() {
    let found = invocations(
        "cd restart-harness && cargo run -p restart-harness -- list --filter '^oom$'\n\
         git clone repo restart-harness\n\
         RUST_LOG=debug ./target/release/restart-harness run \\\n  --backend process > out.txt\n\
         cargo build -p restart-harness\n\
         docker run --rm -v /var/run/docker.sock:/var/run/docker.sock \"$HARNESS_IMAGE\" report merge a.json\n\
         docker run --rm debian:bookworm restart-harness --help",
    );
    let argvs: Vec<Vec<String>> = found.into_iter().map(|(_, argv)| argv).collect();
    assert_eq!(
        argvs,
        vec![
            vec!["restart-harness", "list", "--filter", "^oom$"],
            vec!["restart-harness", "run", "--backend", "process"],
            vec!["restart-harness", "report", "merge", "a.json"],
        ]
    );
}
