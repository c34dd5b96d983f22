//! Writes a schedule as a scenario file of the table: its operations as setup
//! steps, the last one as the fault, and the model's predictions as literal
//! expectations, so that `restart-harness run --scenarios FILE` replays it.

use std::fmt::Write as _;

use crate::backend::BackendKind;
use crate::scenario::model::{FaultKind, Step};

use super::execute::{
    action_word, init_args, intent_word, reason_word, supervision_word, Observed,
};
use super::model::{Model, Supervision};
use super::op::{recorded_word, Op};

/// The scenario file of `schedule` on `profiles`, named `name`; `why` says
/// where it came from (seed, divergence). It expects only what the target
/// shows (`observed`), so it replays on that target with explore's verdict.
pub fn scenario_toml(
    name: &str,
    why: &str,
    profiles: &[String],
    schedule: &[Op],
    observed: Observed,
) -> String {
    let (mut model, _) = Model::booted(profiles);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Written by `restart-harness explore`: every expectation below is"
    );
    let _ = writeln!(t, "# the explore model's prediction, a literal.");
    let _ = writeln!(t, "name = {}", quoted(name));
    let _ = writeln!(t, "why = {}", quoted(why));
    let _ = writeln!(t, "profiles = {}", list(profiles));
    let backends: Vec<String> = super::execute::backends_of(schedule)
        .into_iter()
        .map(|b: BackendKind| b.as_str().to_owned())
        .collect();
    let _ = writeln!(t, "backends = {}", list(&backends));
    let mut claims: Vec<String> = schedule
        .iter()
        .flat_map(Op::claims)
        .map(|c| c.as_str().to_owned())
        .collect();
    claims.sort();
    claims.dedup();
    let _ = writeln!(t, "claims = {}", list(&claims));
    if observed.contract_init {
        let _ = writeln!(t, "init_args = {}", list(&init_args()));
    }

    let (last, setup) = match schedule.split_last() {
        Some((last, setup)) if last.fault().is_some() => (last.clone(), setup),
        // A schedule that ends with a write: a clean container restart reads it.
        _ => (Op::ContainerRestart, schedule),
    };
    for op in setup {
        let code = op.apply(&mut model).code;
        for step in op.steps(code.filter(|_| observed.cli)) {
            t.push('\n');
            t.push_str(&step_toml(&step));
        }
    }

    let applied = last.apply(&mut model);
    let (before, fault) = last.fault().unwrap_or_else(unreachable_fault);
    for step in before {
        t.push('\n');
        t.push_str(&step_toml(&step));
    }
    t.push_str("\n[fault]\n");
    let _ = writeln!(t, "kind = {}", quoted(fault.kind.as_str()));
    if let Some(p) = &fault.profile {
        let _ = writeln!(t, "profile = {}", quoted(p));
    }
    if let Some(storm) = fault.storm {
        let _ = writeln!(t, "repeat = {}", fault.repeat);
        let _ = writeln!(t, "seed = {}", storm.seed);
        let _ = writeln!(t, "window_ms = {}", storm.window.as_millis());
    }
    if let (Some(code), true) = (applied.code, fault.kind.is_command() && observed.cli) {
        let _ = write!(t, "\n[expect.command]\nexit_code = {code}\n");
    }

    for (profile, v) in model.views() {
        let _ = write!(t, "\n[expect.at_rest.{profile}]\n");
        if observed.contract_files || v.recorded.is_a_state() {
            let _ = writeln!(t, "gateway_state = {}", quoted(recorded_word(v.recorded)));
        }
        if observed.contract_files {
            let _ = writeln!(t, "exit_reason = {}", quoted(reason_word(v.reason)));
        }
        if observed.intent {
            let _ = writeln!(t, "desired_state = {}", quoted(intent_word(v.intent)));
        }
        if observed.contract_files {
            let _ = writeln!(
                t,
                "marker = {}",
                quoted(if v.marker { "present" } else { "absent" })
            );
            let _ = writeln!(t, "torn_files = {}", v.torn_files);
            let _ = writeln!(t, "temp_files = 0");
        }
        let _ = writeln!(
            t,
            "supervised = {}",
            quoted(supervision_word(v.supervision))
        );
        let _ = writeln!(t, "live = {}", v.supervision == Supervision::Up);
    }

    // The boot the runner looks at: the fault's own, or a clean container
    // restart after it.
    let lines = match applied.boot {
        Some(lines) if fault.kind.reboots() => lines,
        _ => Op::ContainerRestart
            .apply(&mut model)
            .boot
            .unwrap_or_default(),
    };
    for (profile, b, prior_known) in lines {
        let _ = write!(t, "\n[expect.boot.{profile}]\n");
        if prior_known && observed.boot_words {
            let _ = writeln!(t, "prior_state = {}", quoted(recorded_word(b.prior)));
        }
        let _ = writeln!(t, "action = {}", quoted(action_word(b.action)));
    }
    for (profile, v) in model.views() {
        let _ = write!(t, "\n[expect.after_boot.{profile}]\n");
        let _ = writeln!(
            t,
            "supervised = {}",
            quoted(supervision_word(v.supervision))
        );
        let _ = writeln!(t, "live = {}", v.supervision == Supervision::Up);
    }
    t
}

/// `last` was replaced by a container restart when it had no fault form, so
/// this is never reached; a container restart keeps the output well formed.
fn unreachable_fault() -> (Vec<Step>, crate::scenario::model::Fault) {
    let fault = crate::scenario::model::Fault {
        kind: FaultKind::ContainerRestart,
        profile: None,
        repeat: 1,
        stop_timeout: None,
        storm: None,
    };
    (Vec::new(), fault)
}

/// One `[[setup]]` table.
fn step_toml(step: &Step) -> String {
    let mut t = String::from("[[setup]]\n");
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(t, "{k} = {v}");
    };
    match step {
        Step::Start {
            profile,
            expect_code,
        }
        | Step::Stop {
            profile,
            expect_code,
        }
        | Step::Restart {
            profile,
            expect_code,
        } => {
            let op = match step {
                Step::Start { .. } => "start",
                Step::Stop { .. } => "stop",
                _ => "restart",
            };
            kv("op", quoted(op));
            kv("profile", quoted(profile));
            if *expect_code != 0 {
                kv("expect_code", expect_code.to_string());
            }
        }
        Step::Write { path, content } => {
            kv("op", quoted("write"));
            kv("path", quoted(path));
            kv("content", format!("'{content}'"));
        }
        Step::Kill { profile, signal } => {
            kv("op", quoted("kill"));
            kv("profile", quoted(profile));
            kv("signal", quoted(signal));
        }
        Step::ContainerRestart => kv("op", quoted("container-restart")),
        Step::ContainerKill => kv("op", quoted("container-kill")),
        Step::Oom { profile } => {
            kv("op", quoted("oom"));
            kv("profile", quoted(profile));
        }
        Step::KillStormInit { repeat, storm } => {
            kv("op", quoted("kill-storm-init"));
            kv("repeat", repeat.to_string());
            kv("seed", storm.seed.to_string());
            kv("window_ms", storm.window.as_millis().to_string());
        }
        Step::Damage { profile, class } => {
            kv("op", quoted("damage"));
            kv("profile", quoted(profile));
            kv("class", quoted(class.as_str()));
        }
        Step::BreakStart { profile } => {
            kv("op", quoted("break-start"));
            kv("profile", quoted(profile));
        }
        Step::FsFault { profile, fault } => {
            use crate::backend::FsFault;
            let op = match fault {
                FsFault::ReadOnlyHome => "read-only-home",
                FsFault::DirWhereFile(_) => "dir-where-file",
                FsFault::FullDisk => "full-disk",
            };
            kv("op", quoted(op));
            kv("profile", quoted(profile));
            if let FsFault::DirWhereFile(file) = fault {
                kv("file", quoted(file));
            }
        }
        Step::FsRestore { profile } => {
            kv("op", quoted("restore-home"));
            kv("profile", quoted(profile));
        }
    }
    t
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::model::Signal;
    use crate::scenario::load::parse_scenario;
    use crate::scenario::model::DamageClass;

    #[test]
    fn a_written_schedule_loads_as_a_scenario() {
        let schedule = vec![
            Op::Stop("a".to_owned()),
            Op::Damage("default".to_owned(), DamageClass::Truncated),
            Op::Signal("default".to_owned(), Signal::Hup),
            Op::ContainerKill,
            Op::Start("a".to_owned()),
        ];
        let text = scenario_toml(
            "explored-x",
            "seed 1",
            &["a".to_owned()],
            &schedule,
            Observed::of(&crate::target::Target::reference()),
        );
        let s = parse_scenario("x.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.setup.len(), 4);
        assert_eq!(s.fault.kind, FaultKind::OperatorStart);
        assert!(text.contains("[expect.command]\nexit_code = 0\n"), "{text}");
        // After the stop, SIGHUP and a container kill, `a` is started again by
        // the operator.
        assert!(
            text.contains("[expect.at_rest.a]\ngateway_state = \"running\"\n"),
            "{text}"
        );
    }

    #[test]
    fn a_schedule_ending_in_a_write_gets_a_container_restart() {
        // Stopped first: a running gateway's teardown would write over the damage.
        let schedule = vec![
            Op::Stop("default".to_owned()),
            Op::Damage("default".to_owned(), DamageClass::Empty),
        ];
        let text = scenario_toml(
            "explored-y",
            "seed 2",
            &[],
            &schedule,
            Observed::of(&crate::target::Target::reference()),
        );
        let s = parse_scenario("y.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.fault.kind, FaultKind::ContainerRestart);
        assert!(text.contains("prior_state = \"corrupt\""), "{text}");
    }
}
