//! Placeholders in setup inputs (never in expectations): `{pid:P}`,
//! `{start_time:P}`, `{now}`, `{now-120s}`, `{now+60s}`.
//!
//! A `{` followed by a lowercase letter starts a placeholder; any other `{` (JSON
//! objects: `{"`, `{ `, `{}`) is literal text.

use std::collections::BTreeMap;

use chrono::Duration;
use restart_contract::timefmt::{self, Timestamp};

/// One placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// `{pid:P}`: the gateway pid of profile P now.
    Pid(String),
    /// `{start_time:P}`: its start time.
    StartTime(String),
    /// `{now}`, `{now-Ns}`, `{now+Ns}`: an RFC 3339 time, shifted by N seconds.
    Now(i64),
}

/// What the placeholders are filled with.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// Per profile: (pid, start_time) of its running gateway.
    pub gateways: BTreeMap<String, (i32, u64)>,
    /// The instant `{now}` stands for.
    pub now: Option<Timestamp>,
}

fn parse_one(inner: &str) -> Result<Placeholder, String> {
    if let Some(p) = inner.strip_prefix("pid:") {
        return Ok(Placeholder::Pid(p.to_owned()));
    }
    if let Some(p) = inner.strip_prefix("start_time:") {
        return Ok(Placeholder::StartTime(p.to_owned()));
    }
    if inner == "now" {
        return Ok(Placeholder::Now(0));
    }
    let shift = |rest: &str, sign: i64| -> Result<Placeholder, String> {
        rest.strip_suffix('s')
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| Placeholder::Now(sign * n))
            .ok_or_else(|| format!("`{{{inner}}}`: write the shift in seconds, as {{now-120s}}"))
    };
    if let Some(rest) = inner.strip_prefix("now-") {
        return shift(rest, -1);
    }
    if let Some(rest) = inner.strip_prefix("now+") {
        return shift(rest, 1);
    }
    Err(format!(
        "unknown placeholder `{{{inner}}}`: allowed are {{pid:PROFILE}}, {{start_time:PROFILE}}, {{now}}, {{now-Ns}}, {{now+Ns}}"
    ))
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Hole(Placeholder),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if !after.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(Piece::Text(&rest[..=i]));
            rest = after;
            continue;
        }
        let end = after.find('}').ok_or_else(|| {
            format!(
                "unclosed placeholder at `{{{}`",
                &after[..after.len().min(20)]
            )
        })?;
        out.push(Piece::Text(&rest[..i]));
        out.push(Piece::Hole(parse_one(&after[..end])?));
        rest = &after[end + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// The placeholders of `text`, or why one is not allowed.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, String> {
    Ok(pieces(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Hole(h) => Some(h),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `text` with its placeholders filled in.
pub fn fill(text: &str, values: &Values) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(Placeholder::Pid(p)) => {
                let (pid, _) = values
                    .gateways
                    .get(&p)
                    .ok_or_else(|| format!("{{pid:{p}}}: profile {p} has no running gateway"))?;
                out.push_str(&pid.to_string());
            }
            Piece::Hole(Placeholder::StartTime(p)) => {
                let (_, st) = values.gateways.get(&p).ok_or_else(|| {
                    format!("{{start_time:{p}}}: profile {p} has no running gateway")
                })?;
                out.push_str(&st.to_string());
            }
            Piece::Hole(Placeholder::Now(shift)) => {
                let now = values.now.unwrap_or_else(timefmt::now);
                out.push_str(&timefmt::format(&(now + Duration::seconds(shift))));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_braces_are_text_and_placeholders_are_filled() {
        let now = timefmt::parse("2026-11-26T06:00:00Z").unwrap();
        let mut v = Values {
            now: Some(now),
            ..Values::default()
        };
        v.gateways.insert("default".into(), (7, 555));
        let t = r#"{"target_pid":{pid:default},"target_start_time":{start_time:default},"written_at":"{now-120s}"}"#;
        assert_eq!(
            fill(t, &v).unwrap(),
            r#"{"target_pid":7,"target_start_time":555,"written_at":"2026-11-26T05:58:00.000Z"}"#
        );
        assert_eq!(fill("{}", &v).unwrap(), "{}");
        assert_eq!(fill("{now+60s}", &v).unwrap(), "2026-11-26T06:01:00.000Z");
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        assert!(placeholders("{later}").unwrap_err().contains("allowed are"));
        assert!(placeholders("{now-2m}").is_err());
        assert!(placeholders("{pid:a").is_err());
        assert_eq!(
            placeholders("{pid:a} {now}").unwrap(),
            vec![Placeholder::Pid("a".into()), Placeholder::Now(0)]
        );
    }

    #[test]
    fn missing_gateway_is_an_error() {
        assert!(fill("{pid:b}", &Values::default()).is_err());
    }
}
