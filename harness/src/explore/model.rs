//! The reference model explore checks a target against, written from
//! `docs/contract.md` alone.
//!
//! It is deliberately apart from the code it checks: nothing here uses the
//! contract crate or the gateway (a bug shared by the model and the code would
//! hide itself), and its words are its own small enums. It predicts, after every
//! operation, what a black-box observer sees of each profile: supervision,
//! liveness, the persisted state and exit reason, the intent, the marker, torn
//! and temp files, and the boot lines of a boot. The rules cite the contract's
//! sections.

use std::collections::BTreeMap;

/// The crash limit explore gives init unless a schedule draws its own (SPEC §4).
pub const CRASH_LIMIT: u32 = 3;
/// The crash limits a schedule draws from, where the target takes init flags
/// and gives up: small, so that a few exits reach them.
pub const DRAWN_CRASH_LIMITS: [u32; 3] = [1, 2, 3];
/// `--crash-window-s` given to init: longer than the exits of a schedule
/// between two of its window passes take (explore checks that it was, and
/// calls a schedule that ran slower inconclusive), short enough that a pause
/// lets it pass inside a schedule. At 6 s, a 10-minute explore on Docker
/// (exits a `docker exec` apart, backoffs of 1 s doubling) had 6 of its
/// first 37 schedules inconclusive: three exits took 7-9 s there.
pub const CRASH_WINDOW_S: u32 = 12;

/// Supervision, as `gateway status --json` says it once settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Supervision {
    /// A gateway runs and answers.
    Up,
    /// Nothing runs and nothing will until an operator or a boot says so.
    Down,
    /// init gave up on a crash loop.
    GaveUp,
}

/// What `gateway_state.json` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recorded {
    /// `starting`.
    Starting,
    /// `running`.
    Running,
    /// `draining`.
    Draining,
    /// `stopped`.
    Stopped,
    /// `startup_failed`.
    StartupFailed,
    /// No file.
    Missing,
    /// Not valid JSON of the schema.
    Corrupt,
}

impl Recorded {
    /// Whether this is a state a gateway writes, not the contract's class of
    /// a file that is missing or damaged (which only a target claiming
    /// `contract-files` shows).
    pub fn is_a_state(self) -> bool {
        match self {
            Recorded::Starting
            | Recorded::Running
            | Recorded::Draining
            | Recorded::Stopped
            | Recorded::StartupFailed => true,
            Recorded::Missing | Recorded::Corrupt => false,
        }
    }
}

/// The `exit_reason` of the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `null`.
    Null,
    /// `operator-stop`.
    OperatorStop,
    /// `interactive-stop`.
    InteractiveStop,
    /// `crash-loop`.
    CrashLoop,
    /// `signal:SIGTERM`.
    SignalTerm,
}

/// `desired_state.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// No operator has said anything.
    Absent,
    /// `running`.
    Running,
    /// `stopped`.
    Stopped,
    /// Something that is not a file stands where it belongs: it cannot be read
    /// (no intent, SPEC §2) or written (every command exits 1, SPEC §5).
    Unwritable,
}

/// A boot's decision for one profile (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `action=started`.
    Started,
    /// `action=registered`.
    Registered,
}

/// A bare signal a schedule sends to a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGTERM, no marker naming the process.
    Term,
    /// SIGHUP.
    Hup,
    /// SIGINT: an interactive stop.
    Int,
    /// SIGKILL: nothing runs.
    Kill,
}

/// What one profile looks like to an observer at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileView {
    /// Supervision.
    pub supervision: Supervision,
    /// `gateway_state.json`.
    pub recorded: Recorded,
    /// Its `exit_reason` (`Null` when the file is missing or corrupt).
    pub reason: Reason,
    /// `desired_state.json`.
    pub intent: Intent,
    /// Whether a planned-stop marker file is there.
    pub marker: bool,
    /// Torn files of the home: a damaged state file, and the damaged copies
    /// boots kept aside.
    pub torn_files: u32,
}

/// One profile's boot line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootView {
    /// `prior_state=`.
    pub prior: Recorded,
    /// `action=`.
    pub action: Action,
}

/// The model of one data dir under one init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    profiles: BTreeMap<String, Profile>,
    /// init's `--crash-limit`.
    crash_limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Profile {
    view: ProfileView,
    /// Whether the damaged bytes in place do not even parse as a JSON object
    /// (an observer counts those as torn; a well-formed object of the wrong
    /// schema is corrupt but not torn).
    damage_is_torn: bool,
    /// Unexpected exits since the last boot or operator start.
    crashes: u32,
}

impl Model {
    /// A fresh data dir booted once, by an init with the default crash limit.
    pub fn booted(profiles: &[String]) -> (Model, BTreeMap<String, BootView>) {
        Model::booted_with(profiles, CRASH_LIMIT)
    }

    /// A fresh data dir booted once by an init given `crash_limit`: every
    /// profile is new and started (SPEC §4, first row), `default` always among
    /// them.
    pub fn booted_with(
        profiles: &[String],
        crash_limit: u32,
    ) -> (Model, BTreeMap<String, BootView>) {
        let mut map = BTreeMap::new();
        let mut lines = BTreeMap::new();
        for p in profiles.iter().map(String::as_str).chain(["default"]) {
            map.insert(p.to_owned(), Profile::new());
            lines.insert(
                p.to_owned(),
                BootView {
                    prior: Recorded::Missing,
                    action: Action::Started,
                },
            );
        }
        (
            Model {
                profiles: map,
                crash_limit,
            },
            lines,
        )
    }

    /// Every profile's view.
    pub fn views(&self) -> BTreeMap<String, ProfileView> {
        self.profiles
            .iter()
            .map(|(k, p)| (k.clone(), p.seen()))
            .collect()
    }

    /// One profile's view.
    pub fn view(&self, profile: &str) -> Option<ProfileView> {
        self.profiles.get(profile).map(Profile::seen)
    }

    /// The profiles' names.
    pub fn names(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }

    /// Unexpected exits `profile` may still take before init gives up.
    pub fn crashes_left(&self, profile: &str) -> u32 {
        self.profiles
            .get(profile)
            .map_or(0, |p| (self.crash_limit + 1).saturating_sub(p.crashes))
    }

    /// The unexpected exits of `profile` init counts now: those since its
    /// last boot, operator start or window pass.
    pub fn crashes(&self, profile: &str) -> u32 {
        self.profiles.get(profile).map_or(0, |p| p.crashes)
    }

    /// init's crash limit.
    pub fn crash_limit(&self) -> u32 {
        self.crash_limit
    }

    /// More than the crash window passes with no exit (SPEC §4: the window
    /// slides): every exit so far falls out of it, and none counts any more.
    pub fn window_passes(&mut self) {
        for p in self.profiles.values_mut() {
            p.crashes = 0;
        }
    }

    fn get(&mut self, profile: &str) -> &mut Profile {
        self.profiles
            .entry(profile.to_owned())
            .or_insert_with(Profile::new)
    }

    /// `gateway stop` (SPEC §5): the intent first; a running gateway gets
    /// SIGTERM with a marker naming it, ends `stopped`/`operator-stop` and stays
    /// down; a profile already down or given up is down. Returns the exit code.
    pub fn stop(&mut self, profile: &str) -> i32 {
        let p = self.get(profile);
        let code = p.persist_intent(Intent::Stopped);
        if p.view.supervision == Supervision::Up {
            p.write(Recorded::Stopped, Reason::OperatorStop);
            // Its own marker, read and removed by the gateway; any stale one
            // was overwritten by it.
            p.view.marker = false;
        }
        // Given up or not, the operator has taken it down (SPEC §5).
        p.view.supervision = Supervision::Down;
        code
    }

    /// SIGKILL to `profile`'s gateway, within the crash limit, and `gateway
    /// stop` while init backs off (SPEC §4, §5): the stop cancels the
    /// pending revival and the profile is down; the killed life wrote
    /// nothing, so its record stays. Returns the exit code.
    pub fn stop_in_backoff(&mut self, profile: &str) -> i32 {
        self.backing_off(profile);
        self.stop(profile)
    }

    /// SIGKILL to `profile`'s gateway, within the crash limit, and `gateway
    /// start` while init backs off (SPEC §4, §5): started at once, and the
    /// operator start forgets the crash history. Returns the exit code.
    pub fn start_in_backoff(&mut self, profile: &str) -> i32 {
        self.backing_off(profile);
        self.start(profile)
    }

    /// SIGKILL to `profile`'s gateway, within the crash limit, and `gateway
    /// restart` while init backs off: a restart of a gateway that is not up
    /// is a start (SPEC §5). Returns the exit code.
    pub fn restart_in_backoff(&mut self, profile: &str) -> i32 {
        self.backing_off(profile);
        self.restart(profile)
    }

    /// An unexpected exit whose revival is still pending: not up, and one
    /// more crash in the history.
    fn backing_off(&mut self, profile: &str) {
        let p = self.get(profile);
        p.crashes += 1;
        p.view.supervision = Supervision::Down;
    }

    /// `gateway stop` while the home takes no writes (SPEC §5, §2): neither
    /// the marker nor the intent can be written, the gateway is stopped all
    /// the same, and its teardown write fails too, so the last record stays.
    /// Exit 1: the stop would not survive a restart.
    pub fn stop_unwritable(&mut self, profile: &str) -> i32 {
        self.get(profile).view.supervision = Supervision::Down;
        1
    }

    /// `gateway start` (SPEC §5): intent `running`; a profile that is not up
    /// is started, its crash history forgotten. Returns the exit code.
    pub fn start(&mut self, profile: &str) -> i32 {
        let p = self.get(profile);
        let code = p.persist_intent(Intent::Running);
        if p.view.supervision != Supervision::Up {
            p.start_life();
        }
        code
    }

    /// `gateway restart` (SPEC §5): intent `running`; a running gateway gets
    /// SIGUSR1, ends with exit 75 and is started again at once (not a crash);
    /// a profile that is down is started. Returns the exit code.
    pub fn restart(&mut self, profile: &str) -> i32 {
        let p = self.get(profile);
        let crashes = if p.view.supervision == Supervision::Up {
            p.crashes
        } else {
            0
        };
        let code = p.persist_intent(Intent::Running);
        p.start_life();
        p.crashes = crashes;
        code
    }

    /// A bare signal to `profile`'s running gateway (SPEC §3, §4).
    pub fn signal(&mut self, profile: &str, signal: Signal) {
        let limit = self.crash_limit;
        let p = self.get(profile);
        match signal {
            // SIGTERM and SIGHUP read and remove the marker; explore only ever
            // leaves markers that cannot match, so the teardown is
            // signal-initiated: exit 1, an unexpected exit.
            Signal::Term | Signal::Hup => {
                p.view.marker = false;
                p.unexpected_exit(limit);
            }
            Signal::Int => {
                p.write(Recorded::Stopped, Reason::InteractiveStop);
                p.view.supervision = Supervision::Down;
            }
            Signal::Kill => p.unexpected_exit(limit),
        }
    }

    /// The kernel OOM-kills `profile`'s gateway: like SIGKILL.
    pub fn oom(&mut self, profile: &str) {
        self.signal(profile, Signal::Kill);
    }

    /// A clean container restart: every running gateway gets a bare SIGTERM
    /// (terminal write `running`, `signal:SIGTERM`), then a boot.
    pub fn container_restart(&mut self) -> BTreeMap<String, BootView> {
        for p in self.profiles.values_mut() {
            if p.view.supervision == Supervision::Up {
                p.view.marker = false;
                p.write(Recorded::Running, Reason::SignalTerm);
            }
        }
        self.boot()
    }

    /// SIGKILL to init and its gateways (nothing is written), then a boot.
    pub fn container_kill(&mut self) -> BTreeMap<String, BootView> {
        self.boot()
    }

    /// The boot table of SPEC §4, first matching row, for each profile.
    fn boot(&mut self) -> BTreeMap<String, BootView> {
        let mut lines = BTreeMap::new();
        for (name, p) in &mut self.profiles {
            let v = p.view;
            let action = match (v.recorded, v.intent) {
                (Recorded::StartupFailed, _) => Action::Registered,
                (_, Intent::Running) => Action::Started,
                (_, Intent::Stopped) => Action::Registered,
                (Recorded::Running | Recorded::Draining, Intent::Absent | Intent::Unwritable) => {
                    Action::Started
                }
                (
                    Recorded::Starting | Recorded::Stopped | Recorded::Missing | Recorded::Corrupt,
                    Intent::Absent | Intent::Unwritable,
                ) => Action::Registered,
            };
            lines.insert(
                name.clone(),
                BootView {
                    prior: v.recorded,
                    action,
                },
            );
            // A corrupt state file is kept aside (a torn copy in the home) and
            // so no longer there.
            if v.recorded == Recorded::Corrupt {
                p.write(Recorded::Missing, Reason::Null);
            }
            match action {
                Action::Started => p.start_life(),
                Action::Registered => {
                    p.view.supervision = Supervision::Down;
                    p.crashes = 0;
                }
            }
        }
        lines
    }

    /// Damaged bytes in `profile`'s state file: corrupt until a gateway of the
    /// profile writes it again, which keeps them aside first (SPEC §2: a
    /// rewrite of a corrupt file); `torn` when they are not even a JSON object.
    pub fn damage(&mut self, profile: &str, torn: bool) {
        let p = self.get(profile);
        p.view.recorded = Recorded::Corrupt;
        p.view.reason = Reason::Null;
        p.damage_is_torn = torn;
    }

    /// A valid record with `state` written over `profile`'s state file, as a
    /// life killed at that point leaves it.
    pub fn forge(&mut self, profile: &str, state: Recorded) {
        let p = self.get(profile);
        p.view.recorded = state;
        p.view.reason = Reason::Null;
    }

    /// A directory where `profile`'s `desired_state.json` belongs (only where
    /// no intent was written yet).
    pub fn block_intent(&mut self, profile: &str) {
        self.get(profile).view.intent = Intent::Unwritable;
    }

    /// A marker that cannot match (another life's start time, or expired)
    /// left in `profile`'s home.
    pub fn stale_marker(&mut self, profile: &str) {
        self.get(profile).view.marker = true;
    }
}

impl Profile {
    /// What an observer sees: `view.torn_files` counts the kept-aside copies;
    /// a damaged state file in place is one more.
    fn seen(&self) -> ProfileView {
        let mut v = self.view;
        v.torn_files += u32::from(v.recorded == Recorded::Corrupt && self.damage_is_torn);
        // The directory reads as an unreadable `*.json`.
        v.torn_files += u32::from(v.intent == Intent::Unwritable);
        v
    }

    /// An operator command persists `intent`: exit 0, or 1 when it cannot
    /// (SPEC §5: the command still acts, and says the intent was not kept).
    fn persist_intent(&mut self, intent: Intent) -> i32 {
        if self.view.intent == Intent::Unwritable {
            1
        } else {
            self.view.intent = intent;
            0
        }
    }

    /// A write of the state file by the profile's gateway or by init: a
    /// corrupt file there is kept aside first (nothing is lost).
    fn write(&mut self, state: Recorded, reason: Reason) {
        if self.view.recorded == Recorded::Corrupt {
            self.view.torn_files += 1;
        }
        self.view.recorded = state;
        self.view.reason = reason;
    }

    /// A new life is started and persists `running`; its crash history is new.
    fn start_life(&mut self) {
        self.write(Recorded::Running, Reason::Null);
        self.view.supervision = Supervision::Up;
        self.crashes = 0;
    }

    /// A new profile's first life, persisted `running`.
    fn new() -> Profile {
        Profile {
            view: ProfileView {
                supervision: Supervision::Up,
                recorded: Recorded::Running,
                reason: Reason::Null,
                intent: Intent::Absent,
                marker: false,
                torn_files: 0,
            },
            crashes: 0,
            damage_is_torn: false,
        }
    }

    /// An unexpected exit (SPEC §4): revived, until more than the crash limit,
    /// when init persists `startup_failed`/`crash-loop` and gives up.
    fn unexpected_exit(&mut self, limit: u32) {
        self.crashes += 1;
        if self.crashes > limit {
            self.view.supervision = Supervision::GaveUp;
            self.write(Recorded::StartupFailed, Reason::CrashLoop);
        } else {
            // Revived: the new life persists `running`.
            self.view.supervision = Supervision::Up;
            self.write(Recorded::Running, Reason::Null);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Model {
        Model::booted(&["a".to_owned()]).0
    }

    #[test]
    fn first_boot_starts_every_new_profile() {
        let (m, lines) = Model::booted(&["a".to_owned()]);
        assert_eq!(m.names(), ["a", "default"]);
        assert!(lines.values().all(|l| l.action == Action::Started));
    }

    #[test]
    fn operator_stop_survives_a_container_restart() {
        let mut m = two();
        assert_eq!(m.stop("a"), 0);
        let lines = m.container_restart();
        assert_eq!(lines["a"].action, Action::Registered);
        assert_eq!(lines["a"].prior, Recorded::Stopped);
        assert_eq!(lines["default"].action, Action::Started);
        assert_eq!(lines["default"].prior, Recorded::Running);
        assert_eq!(m.view("a").unwrap().supervision, Supervision::Down);
    }

    #[test]
    fn a_stop_into_an_unwritable_home_is_undone_by_a_restart() {
        let mut m = two();
        assert_eq!(m.stop_unwritable("a"), 1);
        let v = m.view("a").unwrap();
        assert_eq!(v.supervision, Supervision::Down);
        assert_eq!((v.recorded, v.intent), (Recorded::Running, Intent::Absent));
        let lines = m.container_restart();
        assert_eq!(lines["a"].action, Action::Started);
        assert_eq!(lines["a"].prior, Recorded::Running);
    }

    #[test]
    fn bare_signals_revive_until_the_crash_limit() {
        let mut m = two();
        for _ in 0..CRASH_LIMIT {
            m.signal("a", Signal::Kill);
            assert_eq!(m.view("a").unwrap().supervision, Supervision::Up);
        }
        m.signal("a", Signal::Term);
        let v = m.view("a").unwrap();
        assert_eq!(v.supervision, Supervision::GaveUp);
        assert_eq!(v.recorded, Recorded::StartupFailed);
        assert_eq!(v.reason, Reason::CrashLoop);
        assert_eq!(m.container_kill()["a"].action, Action::Registered);
    }

    #[test]
    fn interactive_stop_stays_down_until_an_intent_says_otherwise() {
        let mut m = two();
        m.signal("a", Signal::Int);
        assert_eq!(m.container_restart()["a"].action, Action::Registered);
        m.start("a");
        m.signal("a", Signal::Int);
        assert_eq!(m.container_restart()["a"].action, Action::Started);
    }

    #[test]
    fn a_corrupt_state_is_kept_aside_at_boot() {
        let mut m = two();
        m.damage("a", true);
        let lines = m.container_kill();
        assert_eq!(m.view("a").unwrap().torn_files, 1);
        assert_eq!(lines["a"].prior, Recorded::Corrupt);
        assert_eq!(lines["a"].action, Action::Registered);
        let v = m.view("a").unwrap();
        assert_eq!((v.recorded, v.torn_files), (Recorded::Missing, 1));
    }

    #[test]
    fn a_life_killed_mid_drain_is_started_again() {
        let mut m = two();
        m.forge("a", Recorded::Draining);
        assert_eq!(m.container_kill()["a"].action, Action::Started);
        m.forge("a", Recorded::Starting);
        assert_eq!(m.container_kill()["a"].action, Action::Registered);
    }

    #[test]
    fn a_stale_marker_goes_with_the_next_sigterm() {
        let mut m = two();
        m.stale_marker("a");
        m.signal("a", Signal::Kill);
        assert!(m.view("a").unwrap().marker);
        m.signal("a", Signal::Term);
        let v = m.view("a").unwrap();
        assert!(!v.marker);
        assert_eq!(v.supervision, Supervision::Up);
    }
}
