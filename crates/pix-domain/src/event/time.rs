//! Date-times: strict RFC 3339 parsing, UTC-with-milliseconds output, and Brazil local-time features.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use chrono_tz::America::Sao_Paulo;
use serde::{Deserialize, Serialize};

use super::pattern;

/// Why a date-time was refused; maps onto `datetime.format` / `datetime.value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not RFC 3339 with a zone (`2020-09-09T17:15:00`, `2020-09-09 17:15:00Z`, lower-case `t`/`z`).
    #[error("not an RFC 3339 date-time with a zone")]
    Format,
    /// Right shape, impossible value (`2020-02-30`, hour 25, leap second 60).
    #[error("not a real calendar date-time")]
    Value,
}

/// A UTC instant, truncated to milliseconds, that serializes as `2020-09-09T20:15:00.358Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Parses RFC 3339 with a mandatory zone (`Z` or `±hh:mm`), upper-case `T`/`Z` only.
    ///
    /// The shape is checked by an anchored ASCII pattern first, because chrono's RFC 3339 parser is
    /// more lenient (space separator, lower case) than the contract we publish.
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        if !pattern::DATETIME.is_match(s) {
            return Err(TimeError::Format);
        }
        let parsed = DateTime::parse_from_rfc3339(s).map_err(|_| TimeError::Value)?;
        // chrono encodes a leap second as nanosecond ≥ 1e9; we refuse it instead of emitting `:60`.
        if parsed.nanosecond() >= 1_000_000_000 {
            return Err(TimeError::Value);
        }
        Ok(Timestamp::from_utc(parsed.with_timezone(&Utc)))
    }

    /// Wraps an instant, truncating it to milliseconds (what the wire format carries).
    pub fn from_utc(t: DateTime<Utc>) -> Timestamp {
        let millis = t.timestamp_subsec_millis();
        Timestamp(t.with_nanosecond(millis * 1_000_000).unwrap_or(t))
    }

    /// The instant.
    pub fn as_utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// Hour of day (0–23) in `America/Sao_Paulo` (IANA zone, so historical DST is right).
    pub fn local_hour(&self) -> u8 {
        u8::try_from(self.0.with_timezone(&Sao_Paulo).hour()).unwrap_or(0)
    }

    /// Whether the local time falls in the default night period 20:00–06:00 (docs/pix-domain.md §4).
    pub fn night_period(&self) -> bool {
        let h = self.local_hour();
        !(6..20).contains(&h)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Self, TimeError> {
        Timestamp::parse(&s)
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_normalise() {
        let t = Timestamp::parse("2020-09-09T17:15:00.358-03:00").unwrap();
        assert_eq!(t.to_string(), "2020-09-09T20:15:00.358Z");
        assert_eq!(Timestamp::parse("2020-09-09T20:15:00Z").unwrap().to_string(), "2020-09-09T20:15:00.000Z");
        assert_eq!(Timestamp::parse("2020-09-09T20:15:00.123456789Z").unwrap().to_string(), "2020-09-09T20:15:00.123Z");
    }

    #[test]
    fn refusals() {
        for s in ["2020-09-09T17:15:00", "2020-09-09 17:15:00Z", "2020-09-09t17:15:00z", "2020-09-09T17:15Z", ""] {
            assert_eq!(Timestamp::parse(s), Err(TimeError::Format), "{s}");
        }
        for s in ["2020-02-30T10:00:00Z", "2020-13-01T10:00:00Z", "2020-01-01T25:00:00Z", "2016-12-31T23:59:60Z"] {
            assert_eq!(Timestamp::parse(s), Err(TimeError::Value), "{s}");
        }
    }

    #[test]
    fn local_hour_uses_iana_zone() {
        // 2018-12-01 Brazil was on DST (UTC-2): 22:30Z is 20:30 local; a fixed -03:00 would say 19:30.
        let t = Timestamp::parse("2018-12-01T22:30:00Z").unwrap();
        assert_eq!(t.local_hour(), 20);
        assert!(t.night_period());
        // 2020: no DST any more, UTC-3.
        let t = Timestamp::parse("2020-09-09T20:15:00.358Z").unwrap();
        assert_eq!(t.local_hour(), 17);
        assert!(!t.night_period());
        assert!(Timestamp::parse("2020-09-09T08:59:00Z").unwrap().night_period()); // 05:59 local
        assert!(!Timestamp::parse("2020-09-09T09:00:00Z").unwrap().night_period()); // 06:00 local
    }
}
