//! Instants as microseconds since the Unix epoch: the precision both stores keep.

use serde::{Deserialize, Serialize};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

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
}
