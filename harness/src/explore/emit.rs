//! Writes a schedule as a scenario file of the table: its operations as setup
//! steps, the last one as the fault, and the model's predictions as literal
//! expectations, so that `restart-harness run --scenarios FILE` replays it.

use std::fmt::Write as _;

use crate::backend::BackendKind;
use crate::op::toml::{encode_fault, encode_step, quoted};
use crate::op::{Fault, Op};

use super::execute::{
    action_word, init_args, intent_word, reason_word, supervision_word, Observed,
};
use super::model::{Model, Supervision};
use super::moves::{recorded_word, Move};

/// The scenario file of `schedule` on `profiles`, named `name`; `why` says
/// where it came from (seed, divergence). It expects only what the target
/// shows (`observed`), so it replays on that target with explore's verdict.
pub fn scenario_toml(
    name: &str,
    why: &str,
    profiles: &[String],
    (schedule, crash_limit): (&[Move], u32),
    observed: Observed,
) -> String {
    let (mut model, _) = Model::booted_with(profiles, crash_limit);
    let mut t = header(name, why, profiles, (schedule, crash_limit), observed);
    let (last, setup) = match schedule.split_last() {
        Some((last, setup)) if last.ending().is_some() => (last.clone(), setup),
        // A schedule that ends with a write: a clean container restart reads it.
        _ => (Move::ContainerRestart, schedule),
    };
    for mv in setup {
        let codes = mv.apply(&mut model).codes(observed.cli);
        for op in mv.ops(codes) {
            push_step(&mut t, &op);
        }
    }

    let applied = last.apply(&mut model);
    let (before, fault) = last.ending().unwrap_or_else(container_restart);
    for op in &before {
        push_step(&mut t, op);
    }
    t.push('\n');
    t.push_str(&encode_fault(&fault).unwrap_or_default());
    if let (Some(code), true) = (applied.code, fault.op.is_command() && observed.cli) {
        let _ = write!(t, "\n[expect.command]\nexit_code = {code}\n");
    }
    // Operations started together whose two orders end differently: only
    // what both orders agree on is expected.
    let mut worlds = vec![model];
    worlds.extend(applied.or_else);
    let tables: Vec<Vec<(String, Vec<String>)>> = worlds
        .into_iter()
        .map(|mut m| expectations(&mut m, applied.boot.clone(), &fault, observed))
        .collect();
    for (header, lines) in &tables[0] {
        let agreed: Vec<&String> = lines
            .iter()
            .filter(|l| {
                tables[1..]
                    .iter()
                    .all(|other| other.iter().any(|(h, ls)| h == header && ls.contains(*l)))
            })
            .collect();
        if agreed.is_empty() {
            continue;
        }
        let _ = write!(t, "\n{header}\n");
        for l in agreed {
            let _ = writeln!(t, "{l}");
        }
    }
    t
}

/// The expectations of one world after the fault, table by table (its
/// header and its lines): at rest, the boot the runner looks at (the fault's
/// own, or a clean container restart after it), and after that boot.
fn expectations(
    model: &mut Model,
    boot: Option<Vec<(String, super::model::BootView, bool)>>,
    fault: &Fault,
    observed: Observed,
) -> Vec<(String, Vec<String>)> {
    let mut out = at_rest(model, observed);
    let lines = match boot {
        Some(lines) if fault.op.reboots() => lines,
        _ => Move::ContainerRestart.apply(model).boot.unwrap_or_default(),
    };
    // A target with no boot log is judged on what the boot did by
    // supervision and liveness after it (below).
    let lines = if observed.boot_log { lines } else { Vec::new() };
    for (profile, b, prior_known) in lines {
        let mut ls = Vec::new();
        if prior_known && observed.boot_words {
            ls.push(format!("prior_state = {}", quoted(recorded_word(b.prior))));
        }
        ls.push(format!("action = {}", quoted(action_word(b.action))));
        out.push((format!("[expect.boot.{profile}]"), ls));
    }
    for (profile, v) in model.views() {
        out.push((
            format!("[expect.after_boot.{profile}]"),
            vec![
                format!("supervised = {}", quoted(supervision_word(v.supervision))),
                format!("live = {}", v.supervision == Supervision::Up),
            ],
        ));
    }
    out
}

/// The provenance comment and the scenario's keys before its operations.
fn header(
    name: &str,
    why: &str,
    profiles: &[String],
    (schedule, crash_limit): (&[Move], u32),
    observed: Observed,
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Written by `restart-harness explore`: every expectation below is"
    );
    let _ = writeln!(t, "# the explore model's prediction, a literal.");
    let _ = writeln!(t, "name = {}", quoted(name));
    let _ = writeln!(t, "why = {}", quoted(why));
    let _ = writeln!(t, "profiles = {}", list(profiles));
    let kinds = super::execute::backends_of(schedule);
    // The longest backoff of its backends: a command aimed at it lands in
    // it on each.
    let backoff = kinds
        .iter()
        .map(|&b| super::execute::backoff_ms(b))
        .max()
        .unwrap_or_default();
    let backends: Vec<String> = kinds
        .into_iter()
        .map(|b: BackendKind| b.as_str().to_owned())
        .collect();
    let _ = writeln!(t, "backends = {}", list(&backends));
    let mut claims: Vec<String> = schedule
        .iter()
        .flat_map(Move::claims)
        .map(|c| c.as_str().to_owned())
        .collect();
    claims.sort();
    claims.dedup();
    let _ = writeln!(t, "claims = {}", list(&claims));
    if observed.contract_init {
        let _ = writeln!(t, "init_args = {}", list(&init_args(crash_limit, backoff)));
    }
    t
}

/// `[expect.at_rest.P]` of every profile: only what the target shows.
fn at_rest(model: &Model, observed: Observed) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (profile, v) in model.views() {
        let mut ls = Vec::new();
        if observed.contract_files || v.recorded.is_a_state() {
            ls.push(format!(
                "gateway_state = {}",
                quoted(recorded_word(v.recorded))
            ));
        }
        if observed.contract_files {
            ls.push(format!("exit_reason = {}", quoted(reason_word(v.reason))));
        }
        if observed.intent {
            ls.push(format!("desired_state = {}", quoted(intent_word(v.intent))));
        }
        if observed.contract_files {
            let marker = if v.marker { "present" } else { "absent" };
            ls.push(format!("marker = {}", quoted(marker)));
            ls.push(format!("torn_files = {}", v.torn_files));
            ls.push("temp_files = 0".to_owned());
        }
        ls.push(format!(
            "supervised = {}",
            quoted(supervision_word(v.supervision))
        ));
        ls.push(format!("live = {}", v.supervision == Supervision::Up));
        out.push((format!("[expect.at_rest.{profile}]"), ls));
    }
    out
}

/// `last` was replaced by a container restart when it had no ending, so this
/// is never reached; a container restart keeps the output well formed.
fn container_restart() -> (Vec<Op>, Fault) {
    let op = Op::ContainerRestart { stop_timeout: None };
    (Vec::new(), Fault { op, repeat: 1 })
}

/// Appends one `[[setup]]` table (every move's operation has one).
fn push_step(t: &mut String, op: &Op) {
    t.push('\n');
    t.push_str(&encode_step(op).unwrap_or_default());
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::model::Signal;
    use crate::op::DamageClass;
    use crate::scenario::load::parse_scenario;

    #[test]
    fn a_written_schedule_loads_as_a_scenario() {
        let schedule = vec![
            Move::Stop("a".to_owned()),
            Move::Damage("default".to_owned(), DamageClass::Truncated),
            Move::Signal("default".to_owned(), Signal::Hup),
            Move::ContainerKill,
            Move::Start("a".to_owned()),
        ];
        let text = scenario_toml(
            "explored-x",
            "seed 1",
            &["a".to_owned()],
            (&schedule, 3),
            Observed::of(&crate::target::Target::reference()),
        );
        let s = parse_scenario("x.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.setup.len(), 4);
        assert_eq!(
            crate::op::toml::fault_word(&s.fault.op),
            Some("operator-start")
        );
        assert!(text.contains("[expect.command]\nexit_code = 0\n"), "{text}");
        // After the stop, SIGHUP and a container kill, `a` is started again by
        // the operator.
        assert!(
            text.contains("[expect.at_rest.a]\ngateway_state = \"running\"\n"),
            "{text}"
        );
    }

    #[test]
    fn timed_moves_and_the_drawn_crash_limit_are_written_as_they_ran() {
        let schedule = vec![
            Move::Signal("default".to_owned(), Signal::Kill),
            Move::WindowPasses,
            Move::Signal("default".to_owned(), Signal::Kill),
            Move::AfterKill(150, Box::new(Move::Stop("default".to_owned()))),
        ];
        let text = scenario_toml(
            "explored-z",
            "seed 3",
            &[],
            (&schedule, 2),
            Observed::of(&crate::target::Target::reference()),
        );
        let s = parse_scenario("z.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(
            text.contains(r#"init_args = ["--crash-limit", "2", "--crash-window-s", "12""#),
            "{text}"
        );
        assert!(text.contains("op = \"pause\"\nms = 13000\n"), "{text}");
        assert!(text.contains("wait = false"), "{text}");
        assert_eq!(
            crate::op::toml::fault_word(&s.fault.op),
            Some("operator-stop")
        );
        // In the backoff or after the revival, the stop leaves it down with
        // the intent stopped; what the killed or revived life last wrote
        // differs, so the state is not expected.
        assert!(
            text.contains("desired_state = \"stopped\"\nmarker = \"absent\"\ntorn_files = 0\ntemp_files = 0\nsupervised = \"down\""),
            "{text}"
        );
        assert!(!text.contains("gateway_state = \"stopped\""), "{text}");
    }

    #[test]
    fn a_schedule_ending_in_a_write_gets_a_container_restart() {
        // Stopped first: a running gateway's teardown would write over the damage.
        let schedule = vec![
            Move::Stop("default".to_owned()),
            Move::Damage("default".to_owned(), DamageClass::Empty),
        ];
        let text = scenario_toml(
            "explored-y",
            "seed 2",
            &[],
            (&schedule, 3),
            Observed::of(&crate::target::Target::reference()),
        );
        let s = parse_scenario("y.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            crate::op::toml::fault_word(&s.fault.op),
            Some("container-restart")
        );
        assert!(text.contains("prior_state = \"corrupt\""), "{text}");
    }
}
