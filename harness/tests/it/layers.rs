//! The harness's modules import only downwards: no circle, no import up the
//! layers (`docs/architecture.md`, "harness/"). Read from the sources, as
//! text: a `crate::m` path outside a file's tests is an import of `m`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may import only from lower layers.
const LAYERS: &[&[&str]] = &[
    &["verdict", "progress", "gateway_bin", "partition"],
    &["backend"],
    &["history"],
    &["observe"],
    &["target"],
    &["status"],
    &["op"],
    &["scenario"],
    &["check"],
    &["runner"],
    &["explore"],
    &["report"],
    &["mutants"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("harness/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source names through `crate::`, its tests left out.
fn imports(text: &str, modules: &[&str]) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let named: Vec<&str> = match rest.strip_prefix('{') {
            // `crate::{a::X, b}`: the first segment of each path.
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or("")
                .split(',')
                .map(|p| p.trim().split("::").next().unwrap_or(""))
                .collect(),
            None => vec![rest
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or("")],
        };
        out.extend(
            named
                .into_iter()
                .filter(|n| modules.contains(n))
                .map(str::to_owned),
        );
    }
    out
}

#[test]
fn every_module_imports_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let top = |p: &Path| -> String {
        let rel = p.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component");
        first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned()
    };
    let modules: Vec<String> = files
        .iter()
        .map(|p| top(p))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let names: Vec<&str> = modules.iter().map(String::as_str).collect();
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let module = top(file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            panic!("module `{module}` is in no layer: add it to LAYERS here and to docs/architecture.md");
        };
        let text = std::fs::read_to_string(file).expect("a readable source");
        for dep in imports(&text, &names) {
            if dep == module {
                continue;
            }
            let ok = layer_of(&dep).is_some_and(|l| l < own);
            if !ok {
                wrong
                    .entry(format!("{} ({module})", file.display()))
                    .or_default()
                    .push(dep);
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports up the layers or across one (lowest first: {LAYERS:?}):\n{wrong:#?}"
    );
}

#[test]
fn the_reader_finds_plain_and_grouped_imports() {
    let modules = ["backend", "op", "check"];
    let text = "use crate::backend::Signal;\nuse crate::{op::Op, check};\n#[cfg(test)]\nuse crate::runner;";
    assert_eq!(imports(text, &modules), vec!["backend", "op", "check"]);
}
