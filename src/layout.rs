//! Profile names and where every file of the contract lives (SPEC §1, §2).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A validated profile name: `^[a-z0-9][a-z0-9_-]{0,31}$`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileName(String);

/// The profile that always exists.
pub const DEFAULT_PROFILE: &str = "default";

impl ProfileName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, InvalidProfileName> {
        let bytes = name.as_bytes();
        let first_ok = bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok = bytes
            .iter()
            .skip(1)
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
        if first_ok && rest_ok && bytes.len() <= 32 {
            Ok(ProfileName(name.to_owned()))
        } else {
            Err(InvalidProfileName(name.to_owned()))
        }
    }

    /// `default`.
    pub fn default_profile() -> Self {
        ProfileName(DEFAULT_PROFILE.to_owned())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ProfileName {
    type Err = InvalidProfileName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProfileName::new(s)
    }
}

impl serde::Serialize for ProfileName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ProfileName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        ProfileName::new(&raw).map_err(serde::de::Error::custom)
    }
}

/// A name that is not a valid profile name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid profile name: use 1 to 32 of a-z 0-9 _ -, starting with a letter or digit")]
pub struct InvalidProfileName(pub String);

/// The data dir: persists across container restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// Wraps a data dir path.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir(root.into())
    }
    /// The data dir itself.
    pub fn root(&self) -> &Path {
        &self.0
    }
    /// `DATA/profiles`.
    pub fn profiles_dir(&self) -> PathBuf {
        self.0.join("profiles")
    }
    /// `DATA/profiles/<name>`.
    pub fn home(&self, profile: &ProfileName) -> ProfileHome {
        ProfileHome(self.profiles_dir().join(profile.as_str()))
    }
    /// `DATA/boot.log`.
    pub fn boot_log(&self) -> PathBuf {
        self.0.join("boot.log")
    }
    /// `DATA/init.lock`.
    pub fn init_lock(&self) -> PathBuf {
        self.0.join("init.lock")
    }
}

/// The run dir: sockets only, never persists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir(PathBuf);

impl RunDir {
    /// Wraps a run dir path.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir(root.into())
    }
    /// The run dir itself.
    pub fn root(&self) -> &Path {
        &self.0
    }
    /// `RUN/control.sock`, init's control channel.
    pub fn control_socket(&self) -> PathBuf {
        self.0.join("control.sock")
    }
    /// `RUN/gateways`.
    pub fn gateways_dir(&self) -> PathBuf {
        self.0.join("gateways")
    }
    /// `RUN/gateways/<name>.sock`, a gateway's channel.
    pub fn gateway_socket(&self, profile: &ProfileName) -> PathBuf {
        self.gateways_dir()
            .join(format!("{}.sock", profile.as_str()))
    }
    /// `RUN/commands`.
    pub fn commands_dir(&self) -> PathBuf {
        self.0.join("commands")
    }
    /// `RUN/commands/<name>.lock`: held by an operator command on that
    /// profile for its whole run, so that commands on one profile run one
    /// after the other.
    pub fn command_lock(&self, profile: &ProfileName) -> PathBuf {
        self.commands_dir()
            .join(format!("{}.lock", profile.as_str()))
    }
}

/// A profile home, `DATA/profiles/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileHome(PathBuf);

impl ProfileHome {
    /// Wraps a profile home path.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ProfileHome(dir.into())
    }
    /// The home itself.
    pub fn dir(&self) -> &Path {
        &self.0
    }
    /// `gateway_state.json`.
    pub fn gateway_state(&self) -> PathBuf {
        self.0.join(files::GATEWAY_STATE)
    }
    /// `desired_state.json`.
    pub fn desired_state(&self) -> PathBuf {
        self.0.join(files::DESIRED_STATE)
    }
    /// `.gateway-planned-stop.json`.
    pub fn planned_stop_marker(&self) -> PathBuf {
        self.0.join(files::PLANNED_STOP_MARKER)
    }
    /// `lifecycle.json`.
    pub fn lifecycle(&self) -> PathBuf {
        self.0.join(files::LIFECYCLE)
    }
    /// `events.jsonl`.
    pub fn events(&self) -> PathBuf {
        self.0.join(files::EVENTS)
    }
    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.0.join(files::CONFIG)
    }
}

/// File names inside a profile home.
pub mod files {
    /// The observed state.
    pub const GATEWAY_STATE: &str = "gateway_state.json";
    /// The operator's intent.
    pub const DESIRED_STATE: &str = "desired_state.json";
    /// The planned-stop marker.
    pub const PLANNED_STOP_MARKER: &str = ".gateway-planned-stop.json";
    /// Whether the last life exited cleanly.
    pub const LIFECYCLE: &str = "lifecycle.json";
    /// The profile's history.
    pub const EVENTS: &str = "events.jsonl";
    /// The rotated history.
    pub const EVENTS_ROTATED: &str = "events.jsonl.1";
    /// Optional configuration.
    pub const CONFIG: &str = "config.toml";
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("default", true)]
    #[case("a", true)]
    #[case("0", true)]
    #[case("work_2-b", true)]
    #[case("abcdefghijklmnopqrstuvwxyz012345", true)]
    #[case("abcdefghijklmnopqrstuvwxyz0123456", false)]
    #[case("", false)]
    #[case("-a", false)]
    #[case("_a", false)]
    #[case("Default", false)]
    #[case("a.b", false)]
    #[case("a/b", false)]
    #[case("..", false)]
    fn profile_names(#[case] name: &str, #[case] valid: bool) {
        assert_eq!(ProfileName::new(name).is_ok(), valid, "{name}");
    }
}
