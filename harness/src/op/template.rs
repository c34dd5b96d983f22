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

/// Why a placeholder cannot be read or filled; each message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{now-120}` without its unit.
    #[error("`{{{0}}}`: write the shift in seconds, as {{now-120s}}")]
    Shift(String),
    /// A placeholder no version knows.
    #[error("unknown placeholder `{{{0}}}`: allowed are {{pid:PROFILE}}, {{start_time:PROFILE}}, {{now}}, {{now-Ns}}, {{now+Ns}}")]
    Unknown(String),
    /// A `{` that starts a placeholder and never ends it.
    #[error("unclosed placeholder at `{{{0}`")]
    Unclosed(String),
    /// `{pid:P}` or `{start_time:P}` of a profile with no running gateway.
    #[error("{{{what}:{profile}}}: profile {profile} has no running gateway")]
    NoGateway {
        /// `pid` or `start_time`.
        what: &'static str,
        /// The profile.
        profile: String,
    },
}

fn parse_one(inner: &str) -> Result<Placeholder, TemplateError> {
    if let Some(p) = inner.strip_prefix("pid:") {
        return Ok(Placeholder::Pid(p.to_owned()));
    }
    if let Some(p) = inner.strip_prefix("start_time:") {
        return Ok(Placeholder::StartTime(p.to_owned()));
    }
    if inner == "now" {
        return Ok(Placeholder::Now(0));
    }
    let shift = |rest: &str, sign: i64| -> Result<Placeholder, TemplateError> {
        rest.strip_suffix('s')
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| Placeholder::Now(sign * n))
            .ok_or_else(|| TemplateError::Shift(inner.to_owned()))
    };
    if let Some(rest) = inner.strip_prefix("now-") {
        return shift(rest, -1);
    }
    if let Some(rest) = inner.strip_prefix("now+") {
        return shift(rest, 1);
    }
    Err(TemplateError::Unknown(inner.to_owned()))
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Hole(Placeholder),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if !after.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(Piece::Text(&rest[..=i]));
            rest = after;
            continue;
        }
        let end = after
            .find('}')
            .ok_or_else(|| TemplateError::Unclosed(after[..after.len().min(20)].to_owned()))?;
        out.push(Piece::Text(&rest[..i]));
        out.push(Piece::Hole(parse_one(&after[..end])?));
        rest = &after[end + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// The placeholders of `text`, or why one is not allowed.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, TemplateError> {
    Ok(pieces(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Hole(h) => Some(h),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `text` with its placeholders filled in.
pub fn fill(text: &str, values: &Values) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(Placeholder::Pid(p)) => {
                let (pid, _) = values.gateways.get(&p).ok_or(TemplateError::NoGateway {
                    what: "pid",
                    profile: p.clone(),
                })?;
                out.push_str(&pid.to_string());
            }
            Piece::Hole(Placeholder::StartTime(p)) => {
                let (_, st) = values.gateways.get(&p).ok_or(TemplateError::NoGateway {
                    what: "start_time",
                    profile: p.clone(),
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
        assert_eq!(
            placeholders("{later}").unwrap_err().to_string(),
            "unknown placeholder `{later}`: allowed are {pid:PROFILE}, {start_time:PROFILE}, {now}, {now-Ns}, {now+Ns}"
        );
        assert_eq!(
            placeholders("{now-2m}").unwrap_err().to_string(),
            "`{now-2m}`: write the shift in seconds, as {now-120s}"
        );
        assert_eq!(
            placeholders("{pid:a").unwrap_err().to_string(),
            "unclosed placeholder at `{pid:a`"
        );
        assert_eq!(
            placeholders("{pid:a} {now}").unwrap(),
            vec![Placeholder::Pid("a".into()), Placeholder::Now(0)]
        );
    }

    #[test]
    fn missing_gateway_is_an_error() {
        assert_eq!(
            fill("{pid:b}", &Values::default()).unwrap_err().to_string(),
            "{pid:b}: profile b has no running gateway"
        );
    }
}
