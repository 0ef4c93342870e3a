//! Instants as microseconds since the Unix epoch: the precision both stores keep.

use serde::{Deserialize, Serialize};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// 0001-01-01T00:00:00Z in seconds since the epoch: the earliest instant protobuf's
/// `Timestamp` (and so rbacd) accepts.
pub const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z in seconds since the epoch: the last second accepted.
pub const MAX_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self(chrono::Utc::now().timestamp_micros())
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// From seconds and nanoseconds since the epoch, truncated to microseconds.
    pub fn from_parts(seconds: i64, nanos: i32) -> Option<Self> {
        if !(0..1_000_000_000).contains(&nanos) {
            return None;
        }
        seconds
            .checked_mul(1_000_000)
            .and_then(|us| us.checked_add(i64::from(nanos / 1000)))
            .map(Self)
    }

    /// A timestamp from a request: `nanos` within 0..=999_999_999 and the instant
    /// within 0001-01-01T00:00:00Z…9999-12-31T23:59:59.999999999Z, or why not.
    pub fn parse_parts(seconds: i64, nanos: i32) -> Result<Self, String> {
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(format!(
                "is not a valid timestamp: nanos is {nanos}, it must be within 0..=999999999"
            ));
        }
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err(format!(
                "is not a valid timestamp: seconds is {seconds}, it must be within {MIN_SECONDS}..={MAX_SECONDS} (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)"
            ));
        }
        Self::from_parts(seconds, nanos).ok_or_else(|| "is not a valid timestamp".to_owned())
    }

    /// Seconds and nanoseconds since the epoch.
    pub fn to_parts(self) -> (i64, i32) {
        let seconds = self.0.div_euclid(1_000_000);
        let nanos = (self.0.rem_euclid(1_000_000) * 1000) as i32;
        (seconds, nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_including_negative_instants() {
        for (s, n) in [(0, 0), (1_700_000_000, 123_456_000), (-1, 999_999_000)] {
            let t = Timestamp::from_parts(s, n).unwrap();
            assert_eq!(t.to_parts(), (s, n));
        }
    }

    #[test]
    fn sub_microsecond_nanos_are_truncated_and_bad_nanos_refused() {
        assert_eq!(Timestamp::from_parts(1, 1999), Some(Timestamp(1_000_001)));
        assert_eq!(Timestamp::from_parts(1, -1), None);
        assert_eq!(Timestamp::from_parts(1, 1_000_000_000), None);
        assert_eq!(Timestamp::from_parts(i64::MAX, 0), None);
    }

    #[test]
    fn requests_stay_within_years_1_to_9999() {
        assert!(Timestamp::parse_parts(MIN_SECONDS, 0).is_ok());
        assert!(Timestamp::parse_parts(MAX_SECONDS, 999_999_999).is_ok());
        assert!(Timestamp::parse_parts(0, 0).is_ok());
        for (s, n) in [
            (MIN_SECONDS - 1, 999_999_999),
            (MAX_SECONDS + 1, 0),
            (9_223_372_036_854, 0),
            (i64::MAX, 0),
            (i64::MIN, 0),
            (0, -1),
            (0, 1_000_000_000),
        ] {
            assert!(Timestamp::parse_parts(s, n).is_err(), "{s} {n}");
        }
        let year_1 = chrono::DateTime::from_timestamp(MIN_SECONDS, 0).unwrap();
        assert_eq!(year_1.to_rfc3339(), "0001-01-01T00:00:00+00:00");
        let year_9999 = chrono::DateTime::from_timestamp(MAX_SECONDS, 0).unwrap();
        assert_eq!(year_9999.to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}
