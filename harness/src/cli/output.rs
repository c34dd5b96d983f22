//! What commands print and write: stdout that a closed pipe does not break,
//! and files (reports, found scenarios) with their directories.

use std::path::Path;

use super::CliError;

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes a report or a found scenario, creating its parent directories.
pub(super) fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::write(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| CliError::write(path, e))
}
