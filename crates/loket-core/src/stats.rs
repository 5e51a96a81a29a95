//! Order statistics for the anonymous benchmark: quartiles and medians over municipalities'
//! values. (Response-time percentiles in [`crate::metrics`] use the nearest rank instead, an
//! observed value — "90 % answered within X" — that the rollup histograms can estimate; see
//! docs/metrics.md. The two are different figures and are never compared with each other.)
//!
//! **Method.** Linear interpolation between order statistics, definition 7 of Hyndman & Fan
//! (1996, "Sample quantiles in statistical packages", *The American Statistician* 50(4)). It
//! is the default of R (`quantile(type = 7)`) and NumPy (`method="linear"`) and the one of
//! spreadsheet functions `PERCENTIEL.INC` / `KWARTIEL.INC` (`PERCENTILE.INC` / `QUARTILE.INC`),
//! so a municipality can check a figure in its own spreadsheet. For the values sorted ascending
//! x₀ ≤ … ≤ xₙ₋₁ and 0 ≤ p ≤ 1:
//!
//! ```text
//! h = (n − 1) · p,   Q(p) = x⌊h⌋ + (h − ⌊h⌋) · (x⌊h⌋₊₁ − x⌊h⌋)
//! ```
//!
//! The median is Q(0.5) (the middle value, or the mean of the two middle values), the first and
//! third quartiles are Q(0.25) and Q(0.75), the 90th percentile is Q(0.9). Q(0) is the
//! minimum and Q(1) the maximum. Non-finite values (NaN, ±∞) are not measurements and are left
//! out.

/// Quantile `p` (0 ≤ p ≤ 1) of values that are already sorted ascending and all finite.
/// `None` for an empty slice or a `p` outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    // h lies in [0, n − 1], so the casts cannot truncate anything but the fraction.
    let lo = h.floor() as usize;
    let frac = h - h.floor();
    let x_lo = sorted[lo];
    if frac == 0.0 || lo + 1 >= sorted.len() {
        return Some(x_lo);
    }
    Some(x_lo + frac * (sorted[lo + 1] - x_lo))
}

/// The finite values, sorted ascending.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Quantile `p` of unsorted values; non-finite values are left out.
pub fn quantile(values: &[f64], p: f64) -> Option<f64> {
    quantile_sorted(&sorted_finite(values), p)
}

/// Median (Q(0.5)) of unsorted values; non-finite values are left out.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Median and first and third quartile of one group, by the method above.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Quartiles {
    /// First quartile, Q(0.25).
    pub q1: f64,
    /// Median, Q(0.5).
    pub median: f64,
    /// Third quartile, Q(0.75).
    pub q3: f64,
}

impl Quartiles {
    /// Quartiles of values sorted ascending and all finite; `None` when empty.
    pub fn of_sorted(sorted: &[f64]) -> Option<Self> {
        Some(Self {
            q1: quantile_sorted(sorted, 0.25)?,
            median: quantile_sorted(sorted, 0.5)?,
            q3: quantile_sorted(sorted, 0.75)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_computed_quartiles() {
        // n = 4: h = 0.75, 1.5, 2.25.
        let q = Quartiles::of_sorted(&[1.0, 2.0, 4.0, 8.0]).unwrap();
        assert_eq!(q.q1, 1.75); // 1 + 0.75 · (2 − 1)
        assert_eq!(q.median, 3.0); // 2 + 0.5 · (4 − 2)
        assert_eq!(q.q3, 5.0); // 4 + 0.25 · (8 − 4)
        // n = 5: h = 1, 2, 3 fall on values.
        let q = Quartiles::of_sorted(&[10.0, 20.0, 30.0, 40.0, 50.0]).unwrap();
        assert_eq!((q.q1, q.median, q.q3), (20.0, 30.0, 40.0));
        // n = 6: h = 1.25, 2.5, 3.75.
        let q = Quartiles::of_sorted(&[3.0, 7.0, 8.0, 9.0, 15.0, 20.0]).unwrap();
        assert_eq!((q.q1, q.median, q.q3), (7.25, 8.5, 13.5));
        // The same as R's quantile(c(3,7,8,9,15,20), 0.9) = 17.5.
        assert_eq!(quantile(&[20.0, 3.0, 9.0, 8.0, 15.0, 7.0], 0.9), Some(17.5));
    }

    #[test]
    fn edges() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.25), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0], 1.5), None);
        assert_eq!(quantile(&[1.0, 9.0], 0.0), Some(1.0));
        assert_eq!(quantile(&[1.0, 9.0], 1.0), Some(9.0));
        assert_eq!(median(&[f64::NAN, 5.0, f64::INFINITY, 1.0]), Some(3.0));
    }

    proptest! {
        #[test]
        fn quantiles_are_ordered_and_within_range(
            mut v in proptest::collection::vec(-1e6f64..1e6, 1..40)
        ) {
            v.sort_by(f64::total_cmp);
            let q = Quartiles::of_sorted(&v).unwrap();
            prop_assert!(v[0] <= q.q1 && q.q1 <= q.median && q.median <= q.q3);
            prop_assert!(q.q3 <= v[v.len() - 1]);
        }
    }
}
