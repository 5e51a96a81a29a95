//! A fixed-bucket, mergeable histogram of durations in whole seconds, for percentiles kept
//! in rollups.
//!
//! # Buckets
//! Log-linear, like HdrHistogram with 4 sub-bucket bits:
//! - values 0–31 s each have their own bucket (exact);
//! - every doubling `[2^m, 2^(m+1))` for m = 5 … 25 is split into 16 equal buckets of
//!   width `2^(m-4)` (m = 4, i.e. 16–31 s, has width 1 and is part of the exact range);
//! - values of `2^26` s (about 777 days) and more share one overflow bucket.
//!
//! Bucket `i` covers `[lower, upper)` as returned by [`Histogram::bucket_bounds`]; there are
//! [`BUCKETS`] in all. Every edge is an integer, so a bucket is the same on every machine.
//!
//! # Percentile estimate and its error
//! [`Histogram::percentile`] uses the same nearest-rank rule as the exact figures: it finds
//! the bucket that holds the value of rank `⌈p · n / 100⌉` and returns the middle of that
//! bucket, clamped to the exact minimum and maximum seen (and exactly the minimum or maximum
//! for rank 1 or `n`). The true nearest-rank value lies in that bucket, so the estimate is
//! off by at most half a bucket width: exact below 32 s and at most
//! [`MAX_RELATIVE_ERROR`] (1/32, about 3.1 %) of the true value up to `2^26` s. Only in the
//! overflow bucket is the error unbounded (the estimate is then the maximum).
//!
//! Count, sum, minimum and maximum are kept exactly, so the mean is exact. Storage is
//! sparse: only non-empty buckets are kept (and serialised).
//!
//! # Stored form
//! Rollup rows keep [`Histogram::encode`]: `2;sum;min;max;n,n,skip:n,…` (version, exact
//! totals, then the non-empty buckets in index order). A bare count `n` is the bucket after
//! the previous one (the first: bucket 0); `skip:n` first skips that many empty buckets. The
//! busy rows of a month hold long runs of neighbouring buckets, so this is about half the
//! size of version 1 (`1;sum;min;max;i:n,i:n,…`, each bucket with its index), which
//! [`Histogram::decode`] still reads, as it reads the serde JSON form
//! (`{"buckets":[[i,n],…],"sum":…,"min":…,"max":…}`) of databases written before either.

use super::stats::{DurationSummary, nearest_rank};
use serde::{Deserialize, Serialize};

const SUB_BITS: u32 = 4;
const SUBS: u64 = 1 << SUB_BITS;
/// The highest doubling with its own buckets: `[2^25, 2^26)`.
const MAX_EXP: u32 = 25;
/// Buckets 0–15 hold 0–15 s; then 16 per doubling for m = 4 … 25; then overflow.
pub const BUCKETS: usize = (SUBS + (MAX_EXP - SUB_BITS + 1) as u64 * SUBS + 1) as usize;
/// Values from here on fall in the overflow bucket.
pub const OVERFLOW_FROM: u64 = 1 << (MAX_EXP + 1);
/// Values below this are kept exactly.
pub const EXACT_BELOW: u64 = 1 << (SUB_BITS + 1);
/// Upper bound of `|estimate − true| / true` for a percentile below [`OVERFLOW_FROM`].
pub const MAX_RELATIVE_ERROR: f64 = 1.0 / 32.0;

const OVERFLOW: usize = BUCKETS - 1;

/// Durations in whole seconds, bucketed; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HistogramRepr", into = "HistogramRepr")]
pub struct Histogram {
    /// Non-empty buckets as (index, count), sorted by index: merging two is one linear pass
    /// and a grouped read allocates one vector per histogram, not a tree node per bucket.
    buckets: Vec<(u16, u64)>,
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
}

/// The stored form: non-empty buckets as `[index, count]` pairs plus the exact totals.
#[derive(Serialize, Deserialize)]
struct HistogramRepr {
    buckets: Vec<(u16, u64)>,
    sum: u64,
    min: u64,
    max: u64,
}

/// Why a stored histogram was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ongeldig histogram: {0}")]
pub struct HistogramError(&'static str);

impl TryFrom<HistogramRepr> for Histogram {
    type Error = HistogramError;
    fn try_from(r: HistogramRepr) -> Result<Self, Self::Error> {
        let mut h = Histogram::new();
        for &(i, n) in &r.buckets {
            if usize::from(i) >= BUCKETS {
                return Err(HistogramError("bucket buiten bereik"));
            }
            if n > 0 {
                h.count = h
                    .count
                    .checked_add(n)
                    .ok_or(HistogramError("te grote telling"))?;
            }
        }
        h.buckets = sorted_buckets(r.buckets);
        if h.count > 0 {
            let first = h.buckets.first().map_or(0, |b| b.0);
            let last = h.buckets.last().map_or(0, |b| b.0);
            if r.min > r.max
                || Histogram::bucket_of(r.min) != usize::from(first)
                || Histogram::bucket_of(r.max) != usize::from(last)
            {
                return Err(HistogramError("minimum of maximum past niet bij de emmers"));
            }
            h.min = r.min;
            h.max = r.max;
            h.sum = r.sum;
        }
        Ok(h)
    }
}

impl From<Histogram> for HistogramRepr {
    fn from(h: Histogram) -> Self {
        HistogramRepr {
            buckets: h.buckets,
            sum: h.sum,
            min: h.min,
            max: h.max,
        }
    }
}

/// `pairs` sorted by index, counts of the same index added and empty buckets left out.
fn sorted_buckets(mut pairs: Vec<(u16, u64)>) -> Vec<(u16, u64)> {
    pairs.retain(|p| p.1 > 0);
    if pairs.is_sorted_by(|a, b| a.0 < b.0) {
        return pairs;
    }
    pairs.sort_unstable_by_key(|p| p.0);
    let mut out: Vec<(u16, u64)> = Vec::with_capacity(pairs.len());
    for (i, n) in pairs {
        match out.last_mut() {
            Some(last) if last.0 == i => last.1 += n,
            _ => out.push((i, n)),
        }
    }
    out
}

/// An unsigned decimal of ASCII digits only (no sign, no spaces), `None` when empty, not digits,
/// or past `u64`.
fn decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |v, c| {
        c.is_ascii_digit()
            .then(|| v.checked_mul(10)?.checked_add(u64::from(c - b'0')))
            .flatten()
    })
}

/// The exact totals of a validated stored form with at least one value.
#[derive(Debug, Clone, Copy)]
struct Totals {
    sum: u64,
    min: u64,
    max: u64,
    count: u64,
}

/// Parses the compact stored forms (see [`Histogram::encode`]): version 2 (counts with gaps)
/// and version 1 (index:count pairs). The non-empty buckets go into `pairs`
/// (cleared first, so a grouped read reuses one buffer); `None` when it holds no values.
/// Checked as a deserialised histogram is: buckets in range, no overflowing count, minimum
/// and maximum in the first and last non-empty bucket.
fn parse_compact(s: &str, pairs: &mut Vec<(u16, u64)>) -> Result<Option<Totals>, HistogramError> {
    let bad = || HistogramError("ongeldige compacte vorm");
    pairs.clear();
    let delta = match s.as_bytes().first() {
        Some(b'2') => true,
        Some(b'1') => false,
        _ => return Err(HistogramError("onbekende versie")),
    };
    let mut parts = s.splitn(5, ';');
    if !matches!(parts.next(), Some("1" | "2")) {
        return Err(HistogramError("onbekende versie"));
    }
    let mut num = || -> Result<u64, HistogramError> {
        parts
            .next()
            .and_then(|p| decimal(p.as_bytes()))
            .ok_or_else(bad)
    };
    let (sum, min, max) = (num()?, num()?, num()?);
    let list = parts.next().ok_or_else(bad)?.as_bytes();
    let mut count = 0u64;
    // The index of the previous bucket plus one (version 2 counts from there).
    let mut next = 0u64;
    // An empty list (no values) has no fields.
    let fields = (!list.is_empty()).then(|| list.split(|b| *b == b','));
    for field in fields.into_iter().flatten() {
        if field.is_empty() {
            // Version 1 tolerated empty pairs; version 2 never writes them.
            if delta {
                return Err(bad());
            }
            continue;
        }
        let (i, n) = match field.iter().position(|b| *b == b':') {
            Some(colon) => (
                decimal(&field[..colon]).ok_or_else(bad)?,
                decimal(&field[colon + 1..]).ok_or_else(bad)?,
            ),
            None if delta => (0, decimal(field).ok_or_else(bad)?),
            None => return Err(bad()),
        };
        // Version 2: `skip:n` skips that many empty buckets, a bare `n` is the next bucket.
        let i = if delta {
            next.checked_add(i).ok_or_else(bad)?
        } else {
            i
        };
        if usize::try_from(i).map_or(true, |i| i >= BUCKETS) {
            return Err(HistogramError("bucket buiten bereik"));
        }
        next = i + 1;
        if n > 0 {
            count = count
                .checked_add(n)
                .ok_or(HistogramError("te grote telling"))?;
            pairs.push((i as u16, n));
        }
    }
    if count == 0 {
        return Ok(None);
    }
    let first = pairs.iter().map(|p| p.0).min();
    let last = pairs.iter().map(|p| p.0).max();
    if min > max
        || first.map(usize::from) != Some(Histogram::bucket_of(min))
        || last.map(usize::from) != Some(Histogram::bucket_of(max))
    {
        return Err(HistogramError("minimum of maximum past niet bij de emmers"));
    }
    Ok(Some(Totals {
        sum,
        min,
        max,
        count,
    }))
}

/// A dense accumulator for summing many stored histograms (a grouped rollup read): an add is
/// an array increment instead of a map insert.
#[derive(Clone, Debug)]
pub struct HistogramSum {
    buckets: Vec<u64>,
    totals: Histogram,
    /// The buckets of the stored form being added, reused between adds.
    scratch: Vec<(u16, u64)>,
}

impl Default for HistogramSum {
    fn default() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            totals: Histogram::new(),
            scratch: Vec::with_capacity(BUCKETS),
        }
    }
}

impl HistogramSum {
    /// Adds a stored histogram (either form); on an error nothing is added.
    pub fn add_encoded(&mut self, s: &str) -> Result<(), HistogramError> {
        if s.starts_with('{') {
            let h = Histogram::decode(s)?;
            for &(i, n) in &h.buckets {
                self.buckets[usize::from(i)] += n;
            }
            self.totals.add_totals(h.count, h.sum, h.min, h.max);
            return Ok(());
        }
        let Some(t) = parse_compact(s, &mut self.scratch)? else {
            return Ok(());
        };
        for &(i, n) in &self.scratch {
            self.buckets[usize::from(i)] += n;
        }
        self.totals.add_totals(t.count, t.sum, t.min, t.max);
        Ok(())
    }

    pub fn finish(self) -> Histogram {
        let mut h = self.totals;
        h.buckets = self
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (i as u16, *n))
            .collect();
        h
    }
}

impl Histogram {
    pub fn new() -> Self {
        Self::default()
    }

    /// The compact stored form (version 2); see the module documentation.
    pub fn encode(&self) -> String {
        use std::fmt::Write;
        let mut s = format!("2;{};{};{};", self.sum, self.min, self.max);
        let mut next = 0u16;
        for (k, &(i, c)) in self.buckets.iter().enumerate() {
            let sep = if k == 0 { "" } else { "," };
            let _ = match i - next {
                0 => write!(s, "{sep}{c}"),
                skip => write!(s, "{sep}{skip}:{c}"),
            };
            next = i + 1;
        }
        s
    }

    /// Reads the compact form of [`Histogram::encode`] or the older JSON form, validated
    /// like a deserialised histogram.
    pub fn decode(s: &str) -> Result<Self, HistogramError> {
        if s.starts_with('{') {
            return serde_json::from_str(s).map_err(|_| HistogramError("ongeldige JSON"));
        }
        let mut h = Histogram::new();
        let mut pairs = vec![];
        if let Some(t) = parse_compact(s, &mut pairs)? {
            h.buckets = sorted_buckets(pairs);
            h.add_totals(t.count, t.sum, t.min, t.max);
        }
        Ok(h)
    }

    /// Adds the exact totals of `count` values (none: nothing changes).
    fn add_totals(&mut self, count: u64, sum: u64, min: u64, max: u64) {
        if count == 0 {
            return;
        }
        if self.count == 0 {
            (self.min, self.max) = (min, max);
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.count += count;
        self.sum = self.sum.saturating_add(sum);
    }

    /// The bucket index of a value.
    pub fn bucket_of(v: u64) -> usize {
        if v < SUBS {
            return v as usize;
        }
        if v >= OVERFLOW_FROM {
            return OVERFLOW;
        }
        let m = 63 - v.leading_zeros(); // floor(log2 v), 4 ..= 25
        let sub = (v >> (m - SUB_BITS)) - SUBS; // 0 ..= 15
        (SUBS + u64::from(m - SUB_BITS) * SUBS + sub) as usize
    }

    /// `[lower, upper)` of bucket `i`; `upper` is `None` for the overflow bucket.
    pub fn bucket_bounds(i: usize) -> (u64, Option<u64>) {
        let i = i.min(OVERFLOW) as u64;
        if i < SUBS {
            return (i, Some(i + 1));
        }
        if i == OVERFLOW as u64 {
            return (OVERFLOW_FROM, None);
        }
        let m = SUB_BITS as u64 + (i - SUBS) / SUBS;
        let sub = (i - SUBS) % SUBS;
        let width = 1u64 << (m - SUB_BITS as u64);
        let lower = (SUBS + sub) * width;
        (lower, Some(lower + width))
    }

    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Records `n` observations of `v`.
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        let i = Self::bucket_of(v) as u16;
        match self.buckets.binary_search_by_key(&i, |b| b.0) {
            Ok(k) => self.buckets[k].1 += n,
            Err(k) => self.buckets.insert(k, (i, n)),
        }
        if self.count == 0 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += n;
        self.sum = self.sum.saturating_add(v.saturating_mul(n));
    }

    /// Adds `other` into `self`; the result equals recording both sets of values.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            // Grouping starts from empty rows: a copy builds the map in one sorted pass.
            self.clone_from(other);
            return;
        }
        // Both sorted: one pass, in place when `other` has no bucket `self` lacks.
        if other
            .buckets
            .iter()
            .all(|b| self.buckets.binary_search_by_key(&b.0, |x| x.0).is_ok())
        {
            for &(i, n) in &other.buckets {
                if let Ok(k) = self.buckets.binary_search_by_key(&i, |x| x.0) {
                    self.buckets[k].1 += n;
                }
            }
        } else {
            let (a, b) = (&self.buckets, &other.buckets);
            let mut out = Vec::with_capacity(a.len() + b.len());
            let (mut x, mut y) = (0, 0);
            while x < a.len() || y < b.len() {
                match (a.get(x), b.get(y)) {
                    (Some(p), Some(q)) if p.0 == q.0 => {
                        out.push((p.0, p.1 + q.1));
                        x += 1;
                        y += 1;
                    }
                    (Some(p), Some(q)) if p.0 < q.0 => {
                        out.push(*p);
                        x += 1;
                    }
                    (Some(p), None) => {
                        out.push(*p);
                        x += 1;
                    }
                    (_, Some(q)) => {
                        out.push(*q);
                        y += 1;
                    }
                    (None, None) => break,
                }
            }
            self.buckets = out;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum = self.sum.saturating_add(other.sum);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact sum of the recorded values (saturating).
    pub fn sum(&self) -> u64 {
        self.sum
    }

    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// Exact mean; `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Non-empty buckets as (index, count), in value order.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.buckets.iter().map(|&(i, n)| (usize::from(i), n))
    }

    /// Estimated nearest-rank percentile `p` (whole percent); `None` when empty. See the
    /// module documentation for the error bound.
    pub fn percentile(&self, p: u32) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(p, self.count);
        if rank == 1 {
            return Some(self.min);
        }
        if rank == self.count {
            return Some(self.max);
        }
        let mut seen = 0u64;
        for &(i, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                let estimate = match Self::bucket_bounds(usize::from(i)) {
                    (lower, Some(upper)) => lower + (upper - 1 - lower) / 2,
                    (_, None) => self.max,
                };
                return Some(estimate.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Count, exact mean, estimated median and P90; `None` when empty.
    pub fn summary(&self) -> Option<DurationSummary> {
        Some(DurationSummary {
            count: self.count,
            mean_s: self.mean()?,
            median_s: self.percentile(50)?,
            p90_s: self.percentile(90)?,
        })
    }
}

impl FromIterator<u64> for Histogram {
    fn from_iter<T: IntoIterator<Item = u64>>(iter: T) -> Self {
        let mut h = Histogram::new();
        for v in iter {
            h.record(v);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::percentile;
    use proptest::prelude::*;

    #[test]
    fn bucket_layout() {
        assert_eq!(BUCKETS, 369);
        assert_eq!(EXACT_BELOW, 32);
        assert_eq!(OVERFLOW_FROM, 67_108_864);
        // Exact range.
        for v in 0..EXACT_BELOW {
            assert_eq!(
                Histogram::bucket_bounds(Histogram::bucket_of(v)),
                (v, Some(v + 1))
            );
        }
        // First bucket of width 2, and a one-hour value.
        assert_eq!(Histogram::bucket_of(32), 32);
        assert_eq!(Histogram::bucket_bounds(32), (32, Some(34)));
        assert_eq!(
            Histogram::bucket_bounds(Histogram::bucket_of(33)),
            (32, Some(34))
        );
        let (lo, hi) = Histogram::bucket_bounds(Histogram::bucket_of(3600));
        assert_eq!((lo, hi), (3584, Some(3712)));
        // Last regular bucket and overflow.
        assert_eq!(Histogram::bucket_of(OVERFLOW_FROM - 1), BUCKETS - 2);
        assert_eq!(Histogram::bucket_bounds(BUCKETS - 2).1, Some(OVERFLOW_FROM));
        assert_eq!(Histogram::bucket_of(OVERFLOW_FROM), BUCKETS - 1);
        assert_eq!(Histogram::bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(Histogram::bucket_bounds(BUCKETS - 1), (OVERFLOW_FROM, None));
    }

    #[test]
    fn buckets_tile_the_line() {
        let mut expect_lower = 0;
        for i in 0..BUCKETS - 1 {
            let (lo, hi) = Histogram::bucket_bounds(i);
            assert_eq!(lo, expect_lower, "bucket {i}");
            let hi = hi.unwrap();
            assert!(hi > lo);
            assert_eq!(Histogram::bucket_of(lo), i);
            assert_eq!(Histogram::bucket_of(hi - 1), i);
            // Width at most 1/16 of the lower edge above the exact range.
            if lo >= EXACT_BELOW {
                assert!((hi - lo) * 16 <= lo, "bucket {i}");
            }
            expect_lower = hi;
        }
        assert_eq!(expect_lower, OVERFLOW_FROM);
    }

    #[test]
    fn merge_in_place_and_interleaved() {
        let mut a: Histogram = [1, 5, 5, 3600].into_iter().collect();
        // Only buckets `a` has: added in place.
        a.merge(&[5, 3600].into_iter().collect());
        assert_eq!(a, [1, 5, 5, 5, 3600, 3600].into_iter().collect());
        // Buckets before, between and after: one sorted pass.
        a.merge(&[0, 3, 90_000].into_iter().collect());
        let all: Histogram = [0, 1, 3, 5, 5, 5, 3600, 3600, 90_000].into_iter().collect();
        assert_eq!(a, all);
        assert!(a.buckets().map(|b| b.0).is_sorted());
        // Version 1 pairs out of order and repeated read the same as in order.
        let h = Histogram::decode("1;13;3;5;5:1,3:1,5:1").unwrap();
        assert_eq!(h, [3, 5, 5].into_iter().collect());
    }

    #[test]
    fn empty_and_single() {
        let h = Histogram::new();
        assert_eq!(h.percentile(50), None);
        assert_eq!(h.mean(), None);
        assert_eq!(h.min(), None);
        assert_eq!(h.summary(), None);
        let h: Histogram = [100_000].into_iter().collect();
        assert_eq!(h.percentile(50), Some(100_000));
        assert_eq!(h.percentile(90), Some(100_000));
        assert_eq!(h.mean(), Some(100_000.0));
    }

    #[test]
    fn estimates_by_hand() {
        // 1000 s lies in [992, 1024), midpoint 1007; but with min 1000 and max 1010 the
        // estimate is clamped into [1000, 1010].
        let h: Histogram = [1000, 1000, 1005, 1010].into_iter().collect();
        assert_eq!(h.percentile(50), Some(1007));
        assert_eq!(h.percentile(100), Some(1010));
        assert_eq!(h.percentile(0), Some(1000));
        // Ties in the exact range stay exact.
        let h: Histogram = [5, 5, 5, 10].into_iter().collect();
        assert_eq!(h.percentile(50), Some(5));
        assert_eq!(h.percentile(90), Some(10));
        // Overflow bucket: the estimate is the maximum.
        let h: Histogram = [10, OVERFLOW_FROM + 5, OVERFLOW_FROM + 9]
            .into_iter()
            .collect();
        assert_eq!(h.percentile(60), Some(OVERFLOW_FROM + 9));
        let s = h.summary().unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(s.median_s, OVERFLOW_FROM + 9);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let h: Histogram = [3, 40, 40, 3600, 90_000].into_iter().collect();
        let json = serde_json::to_string(&h).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        let empty: Histogram =
            serde_json::from_str(r#"{"buckets":[],"sum":0,"min":0,"max":0}"#).unwrap();
        assert_eq!(empty, Histogram::new());
        for bad in [
            r#"{"buckets":[[999,1]],"sum":0,"min":0,"max":0}"#,
            r#"{"buckets":[[3,1]],"sum":3,"min":4,"max":3}"#,
            r#"{"buckets":[[3,1]],"sum":3,"min":3,"max":40}"#,
        ] {
            assert!(serde_json::from_str::<Histogram>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compact_form_round_trip_and_old_json() {
        let h: Histogram = [3, 40, 40, 3600, 90_000].into_iter().collect();
        let compact = h.encode();
        assert_eq!(compact, "2;93683;3;90000;3:1,32:2,103:1,72:1");
        assert_eq!(Histogram::decode(&compact).unwrap(), h);
        // Neighbouring buckets need no index; version 1 of the same still reads.
        let run: Histogram = [0, 1, 1, 2, 5].into_iter().collect();
        assert_eq!(run.encode(), "2;9;0;5;1,2,1,2:1");
        assert_eq!(Histogram::decode("1;9;0;5;0:1,1:2,2:1,5:1").unwrap(), run);
        assert_eq!(
            Histogram::decode("1;93683;3;90000;3:1,36:2,140:1,213:1").unwrap(),
            h
        );
        // What databases written before the compact form hold.
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.starts_with('{'));
        assert_eq!(Histogram::decode(&json).unwrap(), h);
        assert_eq!(Histogram::decode("1;0;0;0;").unwrap(), Histogram::new());
        assert_eq!(Histogram::decode("2;0;0;0;").unwrap(), Histogram::new());
        assert_eq!(
            Histogram::decode(&Histogram::new().encode()).unwrap(),
            Histogram::new()
        );
        for bad in [
            "",
            "3;0;0;0;",
            "20;3;3;3;3:1",
            "2;3;3;3;3:1,",
            "2;3;3;3;3:1,,1",
            "2;3;3;3;2:1",
            "2;3;3;3;3:1x",
            "2;3;3;3;+3:1",
            "2;3;3;3;3:+1",
            "2;6;3;3;3:1,1",
            "2;3;3;3;369:1",
            "2;3;3;3;3:1,18446744073709551615:1",
            "1;3;3",
            "1;3;3;3;999:1",
            "1;3;4;3;3:1",
            "1;3;3;40;3:1",
            "1;x;3;3;3:1",
            "1;3;3;3;3-1",
            "1;3;3;3;3:+1",
            "1;3;3;3;+3:1",
            "1;3;3;3;3:1x",
            "1;3;3;3;3:",
            "1;3;3;3;:1",
            "1;3;3;3;65539:1",
            "1;3;3;3;3:99999999999999999999",
            "{\"buckets\":1}",
        ] {
            assert!(Histogram::decode(bad).is_err(), "{bad}");
        }
    }

    /// Version 1 of the compact form, as databases written before version 2 hold it.
    fn encode_v1(h: &Histogram) -> String {
        let pairs: Vec<String> = h.buckets().map(|(i, n)| format!("{i}:{n}")).collect();
        format!("1;{};{};{};{}", h.sum, h.min, h.max, pairs.join(","))
    }

    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..64, 0u64..4_000, 0u64..400_000, 0u64..OVERFLOW_FROM]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The estimate is within the documented error of the exact nearest-rank value.
        #[test]
        fn percentile_within_error_bound(
            mut values in proptest::collection::vec(value(), 1..300),
            p in 0u32..=100,
        ) {
            let h: Histogram = values.iter().copied().collect();
            values.sort_unstable();
            let exact = percentile(&values, p).unwrap();
            let est = h.percentile(p).unwrap();
            let err = est.abs_diff(exact) as f64;
            prop_assert!(err <= exact as f64 * MAX_RELATIVE_ERROR, "p{p}: {est} vs {exact}");
            if exact < EXACT_BELOW {
                prop_assert_eq!(est, exact);
            }
            prop_assert_eq!(h.count(), values.len() as u64);
            prop_assert_eq!(h.sum(), values.iter().sum::<u64>());
        }

        /// Merging equals recording everything in one histogram, in any order.
        #[test]
        fn merge_equals_recording_all(
            a in proptest::collection::vec(value(), 0..100),
            b in proptest::collection::vec(value(), 0..100),
        ) {
            let mut ha: Histogram = a.iter().copied().collect();
            let hb: Histogram = b.iter().copied().collect();
            let all: Histogram = a.iter().chain(&b).copied().collect();
            let mut hb2 = hb.clone();
            hb2.merge(&ha);
            ha.merge(&hb);
            prop_assert_eq!(&ha, &all);
            prop_assert_eq!(&hb2, &all);
            prop_assert_eq!(&Histogram::decode(&all.encode()).unwrap(), &all);
            prop_assert_eq!(&Histogram::decode(&encode_v1(&all)).unwrap(), &all);
            // Version 2 is never longer than version 1.
            prop_assert!(all.encode().len() <= encode_v1(&all).len());
        }

        /// Summing stored forms (both kinds) equals recording everything in one histogram.
        #[test]
        fn sum_of_stored_forms_equals_recording_all(
            a in proptest::collection::vec(value(), 0..100),
            b in proptest::collection::vec(value(), 0..100),
        ) {
            let ha: Histogram = a.iter().copied().collect();
            let hb: Histogram = b.iter().copied().collect();
            let all: Histogram = a.iter().chain(&b).copied().collect();
            let mut sum = HistogramSum::default();
            sum.add_encoded(&ha.encode()).unwrap();
            sum.add_encoded(&serde_json::to_string(&hb).unwrap()).unwrap();
            sum.add_encoded(&encode_v1(&hb)).unwrap();
            sum.add_encoded(&hb.encode()).unwrap();
            let mut twice_b = all.clone();
            twice_b.merge(&hb);
            twice_b.merge(&hb);
            prop_assert_eq!(&sum.finish(), &twice_b);
        }
    }

    #[test]
    fn sum_rejects_bad_rows_and_adds_nothing_of_them() {
        let h: Histogram = [5u64, 40, 3600].into_iter().collect();
        for bad in [
            "3;1;1;1;1:1",        // unknown version
            "2;5;5;5;5:1,x",      // not a count
            "2;5;5;5;5:1,,1",     // an empty field
            "2;5;5;5;400:1",      // bucket out of range
            "1;5;5;5;5:1,x",      // not a pair
            "1;5;5;5;999:1",      // bucket out of range
            "1;45;5;40;5:1,20:1", // maximum not in the last bucket
            "1;5;5;4;5:1",        // minimum above maximum
            "1;5;5;5",            // no bucket list
        ] {
            let mut sum = HistogramSum::default();
            sum.add_encoded(&h.encode()).unwrap();
            assert!(sum.add_encoded(bad).is_err(), "{bad}");
            sum.add_encoded("1;0;0;0;").unwrap();
            assert_eq!(sum.finish(), h, "{bad} changed the sum");
        }
    }
}
