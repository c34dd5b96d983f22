//! The option values clap parses with a function of ours: counts and
//! durations. Each refusal is a [`ValueError`], whose one line clap prints
//! after `invalid value 'X' for '--option'`.

use std::time::Duration;

/// Why an option's value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A count of zero.
    #[error("0 would run nothing: give 1 or more")]
    ZeroCount,
    /// Not a whole number.
    #[error("`{0}` is not a count: give a whole number, 1 or more")]
    NotACount(String),
    /// A duration of zero.
    #[error("`{0}` is no time at all: give a duration above zero, as 90s or 2m")]
    ZeroDuration(String),
    /// Not a duration.
    #[error("`{0}` is not a duration: write 90s, 2m, 1h or 500ms")]
    NotADuration(String),
}

/// A count of at least 1 (`-j`, `--steps`, `--schedules`): zero would run
/// nothing and say nothing.
pub fn parse_count(s: &str) -> Result<usize, ValueError> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err(ValueError::ZeroCount),
        Ok(n) => Ok(n),
        Err(_) => Err(ValueError::NotACount(s.to_owned())),
    }
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds; above zero.
pub fn parse_budget(s: &str) -> Result<Duration, ValueError> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(ValueError::ZeroDuration(s.to_owned()));
    }
    Ok(d)
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, ValueError> {
    let bad = || ValueError::NotADuration(s.to_owned());
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_say_what_to_give() {
        assert_eq!(parse_count("3"), Ok(3));
        let refused = |s: &str| parse_count(s).err().map(|e| e.to_string());
        assert_eq!(
            refused("0").as_deref(),
            Some("0 would run nothing: give 1 or more")
        );
        assert_eq!(
            refused("x").as_deref(),
            Some("`x` is not a count: give a whole number, 1 or more")
        );
        assert_eq!(parse_budget("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_budget("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_budget("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_budget("0s"),
            Err(ValueError::ZeroDuration("0s".to_owned()))
        );
        assert_eq!(
            parse_budget("2d"),
            Err(ValueError::NotADuration("2d".to_owned()))
        );
    }
}
