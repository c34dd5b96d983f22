/// The test name a scenario file gets (`01-container-restart.toml` →
/// `s_01_container_restart`). Shared, through `include!`, by `build.rs` (which
/// generates the tests) and the test helpers (which select them by name).
pub fn test_name_of(file: &str) -> String {
    let stem = file.trim_end_matches(".toml");
    let ident: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("s_{ident}")
}
