//! Features and a small multinomial logistic regression, trained at start-up.
//!
//! Training on the compiled-in `training.jsonl` takes a few tens of milliseconds, so the
//! weights never drift from the data in the repository and no binary blob is checked in.

use crate::fxhash::FxMap;
use crate::search::{stemmer, stopwords};

/// Maps folded tokens to feature ids: the Snowball stem, plus the parts of a compound
/// ("grofvuilafspraak" -> grofvuil + afspraak) when the whole word is unknown.
pub(crate) struct Featurizer {
    stems: FxMap<String, u32>,
    /// Token -> feature ids, precomputed for every word seen while building.
    cache: FxMap<String, Vec<u32>>,
    /// Known surface words (>= 3 letters) -> their stem id, for compound parts.
    known: FxMap<String, Vec<u32>>,
}

impl Featurizer {
    /// Build from a vocabulary of folded words (training text and lexicon terms).
    pub(crate) fn new<'a>(words: impl Iterator<Item = &'a str>) -> Featurizer {
        let sw = stopwords();
        let mut stems: FxMap<String, u32> = FxMap::default();
        let mut seen: Vec<String> = Vec::new();
        for w in words {
            if w.is_empty() || sw.contains(w) || w.len() < 2 {
                continue;
            }
            let s = stemmer().stem(w).into_owned();
            let n = stems.len() as u32;
            stems.entry(s).or_insert(n);
            seen.push(w.to_string());
        }
        let known: FxMap<String, Vec<u32>> = seen
            .iter()
            .filter(|w| w.len() >= 3)
            .filter_map(|w| {
                stems
                    .get(stemmer().stem(w).as_ref())
                    .map(|&id| (w.clone(), vec![id]))
            })
            .collect();
        let mut f = Featurizer {
            stems,
            cache: FxMap::default(),
            known,
        };
        let mut cache = FxMap::default();
        for w in seen {
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(w) {
                let ids = f.compute(e.key());
                e.insert(ids);
            }
        }
        f.cache = cache;
        f
    }

    pub(crate) fn len(&self) -> usize {
        self.stems.len()
    }

    /// Feature id of a stem, if it is in the vocabulary.
    pub(crate) fn stem_id(&self, stem: &str) -> Option<u32> {
        self.stems.get(stem).copied()
    }

    fn compute(&self, w: &str) -> Vec<u32> {
        let s = stemmer().stem(w);
        if let Some(&id) = self.stems.get(s.as_ref()) {
            return vec![id];
        }
        self.split_compound(w)
    }

    /// Split an unknown compound into known parts; the head (right part) matters most.
    /// Only known surface words are tried as parts, so no stemming happens per split.
    fn split_compound(&self, w: &str) -> Vec<u32> {
        if w.len() < 7 || !w.is_ascii() {
            return Vec::new();
        }
        for i in 3..=w.len() - 4 {
            let right = &w[i..];
            let Some(rids) = self.known.get(right) else {
                continue;
            };
            let left = &w[..i];
            let mut ids = rids.clone();
            for l in [
                left,
                left.strip_suffix('s').unwrap_or(left),
                left.strip_suffix("en").unwrap_or(left),
            ] {
                if l.len() >= 3
                    && let Some(lids) = self.known.get(l)
                {
                    ids.extend_from_slice(lids);
                    break;
                }
            }
            return ids;
        }
        Vec::new()
    }

    /// Feature ids for a folded token (allocation-free for known words).
    pub(crate) fn token_ids(&self, tok: &str, out: &mut Vec<u32>) {
        if let Some(ids) = self.cache.get(tok) {
            out.extend_from_slice(ids);
        } else if tok.len() >= 2 && !stopwords().contains(tok) {
            out.extend(self.compute(tok));
        }
    }

    /// Sorted, de-duplicated feature ids of a folded text.
    pub(crate) fn doc_ids(&self, folded: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(32);
        for t in folded.split(' ') {
            if !t.is_empty() {
                self.token_ids(t, &mut out);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Multinomial logistic regression over sparse binary features plus dense extras.
pub(crate) struct LinearModel {
    pub(crate) classes: usize,
    dim: usize,
    /// Row-major: weights[feature * classes + class]; the last row is the bias.
    w: Vec<f32>,
}

/// One training example: sparse (feature id, value) pairs and the class index.
pub(crate) struct Example {
    pub(crate) feats: Vec<(u32, f32)>,
    pub(crate) class: usize,
}

impl LinearModel {
    /// Train with plain SGD on the log-loss and L2; deterministic order.
    pub(crate) fn train(
        dim: usize,
        classes: usize,
        data: &[Example],
        epochs: usize,
        l2: f32,
    ) -> LinearModel {
        let mut m = LinearModel {
            classes,
            dim,
            w: vec![0.0; (dim + 1) * classes],
        };
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut p = vec![0.0f32; classes];
        for epoch in 0..epochs {
            // Fisher-Yates with a fixed LCG: reproducible training.
            for i in (1..order.len()).rev() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let j = (seed >> 33) as usize % (i + 1);
                order.swap(i, j);
            }
            let lr = 2.0 / (1.0 + epoch as f32 * 0.1);
            for &k in &order {
                let ex = &data[k];
                m.scores_into(&ex.feats, &mut p);
                softmax(&mut p);
                for (c, pc) in p.iter_mut().enumerate() {
                    *pc -= if c == ex.class { 1.0 } else { 0.0 };
                }
                for &(f, v) in ex.feats.iter().chain(std::iter::once(&(dim as u32, 1.0))) {
                    let row = f as usize * classes;
                    for (c, pc) in p.iter().enumerate() {
                        let g = pc * v + l2 * m.w[row + c];
                        m.w[row + c] -= lr * g;
                    }
                }
            }
        }
        m
    }

    /// Raw class scores (logits) for sparse features.
    pub(crate) fn scores_into(&self, feats: &[(u32, f32)], out: &mut [f32]) {
        let c = self.classes;
        out.copy_from_slice(&self.w[self.dim * c..(self.dim + 1) * c]);
        for &(f, v) in feats {
            let f = f as usize;
            if f >= self.dim {
                continue;
            }
            let row = &self.w[f * c..(f + 1) * c];
            for (o, w) in out.iter_mut().zip(row) {
                *o += w * v;
            }
        }
    }
}

/// In-place softmax.
pub(crate) fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 {
        for x in v.iter_mut() {
            *x /= sum;
        }
    }
}
