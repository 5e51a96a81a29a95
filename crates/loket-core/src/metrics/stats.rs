//! The few statistics every figure shares: nearest-rank percentiles, a duration summary
//! and a share with its numerator and denominator kept (so shares can be summed).

use serde::{Deserialize, Serialize};

/// The 1-based nearest rank of percentile `p` (in whole percent, clamped to 0–100) among
/// `n` values: `⌈p · n / 100⌉`, at least 1. `n` must be at least 1.
pub fn nearest_rank(p: u32, n: u64) -> u64 {
    let p = u128::from(p.min(100));
    let rank = (p * u128::from(n)).div_ceil(100);
    // rank <= n, so it fits.
    (rank as u64).max(1)
}

/// Percentile `p` (whole percent) of `sorted` (ascending) by the nearest-rank method: the
/// value at rank `⌈p · n / 100⌉` (at least 1). P0 is the minimum, P50 the median (the lower
/// middle value for an even count), P100 the maximum. `None` for an empty slice.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = nearest_rank(p, sorted.len() as u64);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// Count, mean, median and 90th percentile of a set of durations in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DurationSummary {
    pub count: u64,
    pub mean_s: f64,
    pub median_s: u64,
    pub p90_s: u64,
}

impl DurationSummary {
    /// Exact summary of `values`; `None` when there are none.
    pub fn of(mut values: Vec<u64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        Some(Self {
            count: values.len() as u64,
            mean_s: sum as f64 / values.len() as f64,
            median_s: percentile(&values, 50)?,
            p90_s: percentile(&values, 90)?,
        })
    }
}

/// A share kept as `part` of `whole`, so that shares of hours, days and tenants can be
/// added up before dividing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub part: u64,
    pub whole: u64,
}

impl Share {
    /// `part / whole` between 0 and 1; `None` when `whole` is 0.
    pub fn value(&self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }

    /// [`Share::value`] in percent.
    pub fn percent(&self) -> Option<f64> {
        self.value().map(|v| v * 100.0)
    }

    pub fn merge(&mut self, other: &Share) {
        self.part += other.part;
        self.whole += other.whole;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_by_hand() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(percentile(&v, 50), Some(50)); // rank 5
        assert_eq!(percentile(&v, 90), Some(90)); // rank 9
        assert_eq!(percentile(&v, 91), Some(100)); // rank ⌈9.1⌉ = 10
        assert_eq!(percentile(&v, 0), Some(10));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&v, 250), Some(100), "clamped to 100");
        // Even count: the lower middle value.
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        // Odd count: the middle value.
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        // P90 of 3 values is rank ⌈2.7⌉ = 3.
        assert_eq!(percentile(&[1, 2, 3], 90), Some(3));
    }

    #[test]
    fn empty_single_and_ties() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(DurationSummary::of(vec![]), None);
        let one = DurationSummary::of(vec![42]).unwrap();
        assert_eq!((one.count, one.median_s, one.p90_s), (1, 42, 42));
        assert_eq!(one.mean_s, 42.0);
        let ties = DurationSummary::of(vec![10, 5, 5, 5]).unwrap();
        assert_eq!(ties.median_s, 5); // sorted 5 5 5 10, rank 2
        assert_eq!(ties.p90_s, 10); // rank ⌈3.6⌉ = 4
        assert_eq!(ties.mean_s, 6.25);
    }

    #[test]
    fn share_rules() {
        assert_eq!(Share::default().value(), None);
        let mut s = Share { part: 1, whole: 4 };
        assert_eq!(s.value(), Some(0.25));
        assert_eq!(s.percent(), Some(25.0));
        s.merge(&Share { part: 3, whole: 4 });
        assert_eq!(s, Share { part: 4, whole: 8 });
        assert_eq!(Share { part: 0, whole: 3 }.value(), Some(0.0));
    }
}
