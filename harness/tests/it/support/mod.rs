//! What the test modules share.

/// The name libtest gives the test `name` of the module at `module_path`
/// (`module_path!()`, which starts with this binary's crate name, `it`):
/// `docker_no_daemon::connect_or_panic_child`. A filter with `--exact` must
/// be this whole name.
#[cfg(feature = "docker")]
pub fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{name}"),
        None => name.to_owned(),
    }
}

/// Settings under which a named snapshot is `tests/snapshots/<name>.snap`:
/// the folder and the names the snapshots had when each test file was a
/// binary of its own. Insta's default, from this binary's module paths, would
/// be `tests/it/snapshots/it__<module>__<name>.snap`.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}
