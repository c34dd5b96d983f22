//! `config.toml` of a profile home (SPEC §2).

use std::path::Path;

use serde::Deserialize;

/// A profile's configuration. Unknown keys, wrong types or invalid TOML are a
/// configuration error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// How long a teardown drains, in ms.
    #[serde(default = "default_drain_ms")]
    pub drain_ms: u64,
    /// How long `starting` lasts before `running`, in ms.
    #[serde(default)]
    pub ready_delay_ms: u64,
    /// How long each file write pauses between its bytes and its rename, in
    /// ms: a test knob that widens the window a crash can land in, so that a
    /// kill storm finds writes that are not crash-safe.
    #[serde(default)]
    pub write_pause_ms: u64,
}

fn default_drain_ms() -> u64 {
    100
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            drain_ms: default_drain_ms(),
            ready_delay_ms: 0,
            write_pause_ms: 0,
        }
    }
}

/// A configuration error; its text becomes `exit_reason: "config: <message>"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl GatewayConfig {
    /// Parses the text of a `config.toml`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(one_line(&e.to_string())))
    }

    /// Reads `path`; no file means the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| ConfigError("config.toml is not UTF-8".to_owned()))?;
                Self::parse(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ConfigError(format!("reading config.toml: {e}"))),
        }
    }
}

// toml's messages span several lines with a source excerpt; the contract wants one.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ')
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn defaults() {
        assert_eq!(
            GatewayConfig::parse("").unwrap(),
            GatewayConfig {
                drain_ms: 100,
                ready_delay_ms: 0,
                write_pause_ms: 0
            }
        );
    }

    #[rstest]
    #[case::unknown_key("drain_msec = 5")]
    #[case::wrong_type("drain_ms = \"fast\"")]
    #[case::negative("drain_ms = -1")]
    #[case::invalid_toml("drain_ms = ")]
    fn configuration_errors_are_one_line(#[case] text: &str) {
        let err = GatewayConfig::parse(text).unwrap_err();
        assert!(!err.0.contains('\n'), "{err:?}");
        assert!(!err.0.is_empty());
    }
}
