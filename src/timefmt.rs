//! Timestamps as the contract writes them: RFC 3339, UTC, milliseconds, `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// A UTC instant as written in every record and log line.
pub type Timestamp = DateTime<Utc>;

/// The current time.
pub fn now() -> Timestamp {
    Utc::now()
}

/// `2026-11-26T06:00:00.123Z`.
pub fn format(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 timestamp (other writers may use other precisions or offsets).
pub fn parse(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Serde adapter writing [`format`] and reading [`parse`].
pub mod serde_ts {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as `2026-11-26T06:00:00.123Z`.
    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(ts))
    }

    /// Deserializes any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {raw}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        let ts = parse("2026-11-26T06:00:00.123456+00:00").unwrap();
        assert_eq!(format(&ts), "2026-11-26T06:00:00.123Z");
    }
}
