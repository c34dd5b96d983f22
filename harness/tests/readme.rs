//! The README's "What each scenario proves" table stays true: every scenario of
//! the table has its row, and every row names a scenario that exists.

use std::path::Path;

#[test]
fn the_readme_has_a_row_for_every_scenario_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let section = readme
        .split("## What each scenario proves")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a `## What each scenario proves` section");
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
            let text = std::fs::read_to_string(&p).expect("scenario file");
            let doc: toml::Table = text.parse().expect("scenario TOML");
            doc["name"].as_str().expect("name").to_owned()
        })
        .collect();
    names.sort();

    assert_eq!(
        rows, names,
        "README's scenario table and scenarios/ disagree: add or remove rows"
    );
}
