//! The report of an explore run, for humans.

use std::fmt::Write as _;

use crate::explore::ExploreReport;

/// What explore did and found, as the terminal shows it after the progress lines.
pub fn render(r: &ExploreReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n{} schedules agreed with the model ({} operations), {} could not run, in {:.1} s",
        r.agreed,
        r.operations,
        r.errors.len(),
        r.elapsed.as_secs_f64()
    );
    if r.inconclusive > 0 {
        let _ = writeln!(
            t,
            "{} schedules inconclusive: they ran slower than init's crash window, so no verdict",
            r.inconclusive
        );
    }
    for e in &r.errors {
        let _ = writeln!(t, "  error: {e}");
    }
    match &r.found {
        None => {
            let _ = writeln!(t, "no divergence within the budget (seed {})", r.seed);
        }
        Some(f) => {
            let _ = writeln!(
                t,
                "DIVERGENCE in schedule {} after {:.1} s: {}",
                f.schedule_index,
                f.time_to_find.as_secs_f64(),
                f.original
            );
            let _ = writeln!(
                t,
                "shrunk from {} to {} operations in {} runs on the target (init --crash-limit {}){}:",
                f.original_len,
                f.schedule.len(),
                f.shrink_runs,
                f.crash_limit,
                if f.shrink_cut {
                    " (cut by the budget)"
                } else {
                    ""
                }
            );
            for (i, op) in f.schedule.iter().enumerate() {
                let _ = writeln!(t, "  {}. {op}", i + 1);
            }
            let _ = writeln!(t, "  {}", f.divergence);
            let _ = writeln!(t, "same seed, same schedules: --seed {}", r.seed);
        }
    }
    t
}
