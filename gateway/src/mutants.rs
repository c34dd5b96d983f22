//! Deliberately broken behaviours, for proving that the scenario table has teeth.
//!
//! Only the `mutants` cargo feature compiles the switch in; a default build has no
//! way to enable one, whatever its environment says. With the feature,
//! `GATEWAY_MUTANT=<name>` selects one bug. Each models a bug class that reached
//! users of the upstream project (docs/mutants.md).

use std::fmt;
use std::str::FromStr;

/// The environment variable that selects a mutant (feature `mutants` only).
pub const ENV: &str = "GATEWAY_MUTANT";

/// One deliberate bug. Each doc line is the one-sentence real failure it models
/// ([`Mutant::describe`] returns the same sentence, for `gateway mutants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// Every teardown persists `stopped`: gateways stay dark after every container restart.
    TeardownAlwaysStopped,
    /// A signal-initiated teardown skips the terminal write: state stuck at `draining`.
    TeardownSkipsTerminalWrite,
    /// Every SIGTERM is signal-initiated, the marker is ignored: operator stops are undone at the next boot.
    SignalMeansCrash,
    /// `gateway stop` writes neither marker nor intent: the stop path that forgot to mark.
    StopWritesNoMarker,
    /// Marker matching ignores `target_start_time`: a stale marker matches a reused pid.
    MarkerPidOnly,
    /// Boot starts every profile, `stopped` and `startup_failed` too: operator stops undone, crash loops across restarts.
    BootAutostartsEverything,
    /// Boot registers `draining` down: a gateway killed mid-drain stays dark.
    BootIgnoresDraining,
    /// The 60 s marker window is not enforced: an old marker turns a crash into an operator stop.
    MarkerNeverExpires,
    /// `gateway stop` writes the marker into the `default` home whatever the profile: upstream's `stop --all` bug.
    MarkerInDefaultHome,
    /// `gateway stop` silently skips the marker but still writes the intent: upstream's s6-svstat format change, after which the pid regex never matched.
    StopSkipsMarker,
    /// A signal-initiated teardown exits 0: the supervisor takes it for a stop and never revives it.
    SignalExitsZero,
    /// init never gives up on a crash loop: a gateway that cannot run is restarted forever.
    NeverGiveUp,
    /// `gateway stop` exits 0 when its intent could not be persisted: the operator believes a stop that the next restart undoes.
    StopIgnoresIntentFailure,
    /// The gateway writes its files in place (truncate, then write) instead of a temp file and a rename: a kill mid-write leaves a torn file.
    WritesInPlace,
    /// `gateway stop` of a profile in backoff says "already stopped" but leaves the pending revival: the stop is undone when the backoff ends.
    StopKeepsBackoff,
    /// An operator start during a backoff keeps the crash history: the next few crashes give up on a profile the operator just took back.
    StartInBackoffKeepsCrashes,
    /// The crash window never slides: init counts every unexpected exit since it started and gives up on exits spread over hours.
    CrashWindowNeverSlides,
    /// Operator commands on one profile do not wait for each other: a stop that lands during a restart takes the gateway down under it, and the restart fails.
    CommandsNotSerialized,
}

impl Mutant {
    /// Every mutant, in the order of the kill matrix.
    pub const ALL: [Mutant; 18] = [
        Mutant::TeardownAlwaysStopped,
        Mutant::TeardownSkipsTerminalWrite,
        Mutant::SignalMeansCrash,
        Mutant::StopWritesNoMarker,
        Mutant::MarkerPidOnly,
        Mutant::BootAutostartsEverything,
        Mutant::BootIgnoresDraining,
        Mutant::MarkerNeverExpires,
        Mutant::MarkerInDefaultHome,
        Mutant::StopSkipsMarker,
        Mutant::SignalExitsZero,
        Mutant::NeverGiveUp,
        Mutant::StopIgnoresIntentFailure,
        Mutant::WritesInPlace,
        Mutant::StopKeepsBackoff,
        Mutant::StartInBackoffKeepsCrashes,
        Mutant::CrashWindowNeverSlides,
        Mutant::CommandsNotSerialized,
    ];

    /// The name given in `GATEWAY_MUTANT`.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::TeardownAlwaysStopped => "teardown-always-stopped",
            Mutant::TeardownSkipsTerminalWrite => "teardown-skips-terminal-write",
            Mutant::SignalMeansCrash => "signal-means-crash",
            Mutant::StopWritesNoMarker => "stop-writes-no-marker",
            Mutant::MarkerPidOnly => "marker-pid-only",
            Mutant::BootAutostartsEverything => "boot-autostarts-everything",
            Mutant::BootIgnoresDraining => "boot-ignores-draining",
            Mutant::MarkerNeverExpires => "marker-never-expires",
            Mutant::MarkerInDefaultHome => "marker-in-default-home",
            Mutant::StopSkipsMarker => "stop-skips-marker",
            Mutant::SignalExitsZero => "signal-exits-zero",
            Mutant::NeverGiveUp => "never-give-up",
            Mutant::StopIgnoresIntentFailure => "stop-ignores-intent-failure",
            Mutant::WritesInPlace => "writes-in-place",
            Mutant::StopKeepsBackoff => "stop-keeps-backoff",
            Mutant::StartInBackoffKeepsCrashes => "start-in-backoff-keeps-crashes",
            Mutant::CrashWindowNeverSlides => "crash-window-never-slides",
            Mutant::CommandsNotSerialized => "commands-not-serialized",
        }
    }
    /// The one-sentence real failure this mutant models (its doc line).
    pub fn describe(self) -> &'static str {
        match self {
            Mutant::TeardownAlwaysStopped => {
                "Every teardown persists `stopped`: gateways stay dark after every container restart."
            }
            Mutant::TeardownSkipsTerminalWrite => {
                "A signal-initiated teardown skips the terminal write: state stuck at `draining`."
            }
            Mutant::SignalMeansCrash => {
                "Every SIGTERM is signal-initiated, the marker is ignored: operator stops are undone at the next boot."
            }
            Mutant::StopWritesNoMarker => {
                "`gateway stop` writes neither marker nor intent: the stop path that forgot to mark."
            }
            Mutant::MarkerPidOnly => {
                "Marker matching ignores `target_start_time`: a stale marker matches a reused pid."
            }
            Mutant::BootAutostartsEverything => {
                "Boot starts every profile, `stopped` and `startup_failed` too: operator stops undone, crash loops across restarts."
            }
            Mutant::BootIgnoresDraining => {
                "Boot registers `draining` down: a gateway killed mid-drain stays dark."
            }
            Mutant::MarkerNeverExpires => {
                "The 60 s marker window is not enforced: an old marker turns a crash into an operator stop."
            }
            Mutant::MarkerInDefaultHome => {
                "`gateway stop` writes the marker into the `default` home whatever the profile: upstream's `stop --all` bug."
            }
            Mutant::StopSkipsMarker => {
                "`gateway stop` silently skips the marker but still writes the intent: upstream's s6-svstat format change, after which the pid regex never matched."
            }
            Mutant::SignalExitsZero => {
                "A signal-initiated teardown exits 0: the supervisor takes it for a stop and never revives it."
            }
            Mutant::NeverGiveUp => {
                "init never gives up on a crash loop: a gateway that cannot run is restarted forever."
            }
            Mutant::StopIgnoresIntentFailure => {
                "`gateway stop` exits 0 when its intent could not be persisted: the operator believes a stop that the next restart undoes."
            }
            Mutant::WritesInPlace => {
                "The gateway writes its files in place (truncate, then write) instead of a temp file and a rename: a kill mid-write leaves a torn file."
            }
            Mutant::StopKeepsBackoff => {
                "`gateway stop` of a profile in backoff says \"already stopped\" but leaves the pending revival: the stop is undone when the backoff ends."
            }
            Mutant::StartInBackoffKeepsCrashes => {
                "An operator start during a backoff keeps the crash history: the next few crashes give up on a profile the operator just took back."
            }
            Mutant::CrashWindowNeverSlides => {
                "The crash window never slides: init counts every unexpected exit since it started and gives up on exits spread over hours."
            }
            Mutant::CommandsNotSerialized => {
                "Operator commands on one profile do not wait for each other: a stop that lands during a restart takes the gateway down under it, and the restart fails."
            }
        }
    }
}

/// The `gateway mutants` listing: one `name<TAB>sentence` line per mutant
/// this build can enable, in [`Mutant::ALL`] order. The harness reads its
/// mutant list from here, the single source of truth, and checks a
/// `--mutant` against it: a default build enables none, so it lists none, and
/// a gate asked for a mutant of it refuses instead of passing the reference.
pub fn listing() -> String {
    if !cfg!(feature = "mutants") {
        return String::new();
    }
    Mutant::ALL
        .into_iter()
        .map(|m| format!("{}\t{}\n", m.name(), m.describe()))
        .collect()
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mutant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mutant::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown mutant `{s}`"))
    }
}

/// The active mutant: `None` in a default build, whatever the environment says.
pub fn active() -> Option<Mutant> {
    #[cfg(feature = "mutants")]
    {
        std::env::var(ENV).ok().and_then(|v| v.parse().ok())
    }
    #[cfg(not(feature = "mutants"))]
    {
        None
    }
}

/// True when `m` is the active mutant.
pub fn is(m: Mutant) -> bool {
    active() == Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Mutant::ALL {
            assert_eq!(m.name().parse::<Mutant>(), Ok(m));
        }
    }

    #[test]
    #[cfg(not(feature = "mutants"))]
    fn a_default_build_lists_no_mutant() {
        assert_eq!(listing(), "");
    }

    #[test]
    #[cfg(feature = "mutants")]
    fn the_listing_is_one_name_and_its_doc_sentence_per_line() {
        let listing = listing();
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), Mutant::ALL.len());
        for (line, m) in lines.iter().zip(Mutant::ALL) {
            let (name, sentence) = line.split_once('\t').expect("name<TAB>sentence");
            assert_eq!(name, m.name());
            assert_eq!(sentence, m.describe());
            assert!(sentence.ends_with('.') && !sentence.contains('\t'));
        }
    }

    #[test]
    fn each_sentence_is_the_variants_doc_line() {
        // The doc lines above are the source the sentences were copied from;
        // this keeps the two from drifting apart.
        let source = include_str!("mutants.rs");
        for m in Mutant::ALL {
            assert!(
                source.contains(&format!("    /// {}\n", m.describe())),
                "{m}: describe() is not its doc line"
            );
        }
    }

    #[cfg(not(feature = "mutants"))]
    #[test]
    fn a_default_build_cannot_enable_a_mutant() {
        // SAFETY of set_var: this test binary's tests that read ENV are only this one.
        unsafe { std::env::set_var(ENV, "teardown-always-stopped") };
        assert_eq!(active(), None);
    }
}
