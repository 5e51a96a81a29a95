//! Topic and sentiment models: hashed sparse features and multinomial logistic regression
//! (averaged SGD with L2), trained at start-up from the compiled-in `training.jsonl`.
//!
//! Features of a message, all hashed to 64-bit keys and kept when seen in training:
//! - topic: Snowball stems of content words, the known parts of unknown compounds
//!   ("grofvuilafspraak" -> grofvuil + afspraak), character 3–5-grams of each content word
//!   (compounds, spelling mistakes, inflections), stem bigrams of adjacent content words and
//!   one feature per topic whose lexicon contains the word;
//! - sentiment: stems of all words (stop words included: "weer", "nog", "al" carry
//!   frustration), with a separate key inside the scope of a negation, word bigrams
//!   ("nog steeds", "al weken", "niet goed"), plus the dense cues of [`crate::sentiment`].
//!
//! The model is linear, so the contribution of every word seen in training is folded into
//! one precomputed vector per word: scoring a message costs one table row per word plus a
//! hash lookup per bigram, with no allocation for known words.

use crate::fxhash::{FxHasher, FxMap};
use crate::search::{stemmer, stopwords};
use crate::sentiment::{CueState, Cues, Lexicon, TokenRole};
use std::hash::Hasher;

/// Hyper-parameters, chosen on a held-out 15 % of the training file (see `examples/validate.rs`).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Params {
    /// Weight of a word (stem) feature, of a compound part, of each character n-gram
    /// (divided by the square root of the word's n-gram count), of a content-word bigram
    /// and of a lexicon hit.
    pub unigram: f32,
    pub part: f32,
    pub chars: f32,
    pub char_min: usize,
    pub char_max: usize,
    pub bigram: f32,
    pub lex: f32,
    pub epochs: usize,
    pub l2: f32,
    pub lr: f32,
    /// Sum sub-topic probabilities per group and pick the best group first.
    pub group_vote: bool,
    /// Softmax temperature for the reported confidence.
    pub temperature: f32,
    pub sent_word: f32,
    pub sent_bigram: f32,
    pub sent_epochs: usize,
    pub sent_l2: f32,
    /// Loss weight per sentiment class (negatief, neutraal, positief).
    pub sent_class_weight: [f32; 3],
    /// Added to the sentiment logits (negatief, neutraal, positief) at prediction time.
    pub sent_bias: [f32; 3],
    /// Token count from which the sentiment cues are length-normalised (0 = off).
    pub cue_len: f32,
    /// Weight of a separate group model in choosing the group (0 = groups only by the
    /// summed sub-topic probabilities).
    pub group_model: f32,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            unigram: 1.0,
            part: 0.7,
            chars: 1.6,
            char_min: 4,
            char_max: 4,
            bigram: 0.0,
            lex: 1.0,
            epochs: 20,
            l2: 1e-5,
            lr: 4.0,
            group_vote: true,
            temperature: 1.0,
            sent_word: 1.0,
            sent_bigram: 0.7,
            sent_epochs: 20,
            sent_l2: 1e-5,
            sent_class_weight: [1.0, 1.0, 1.0],
            sent_bias: [0.0, 0.0, 0.0],
            cue_len: 4.0,
            group_model: 0.3,
        }
    }
}

const K_WORD: u64 = 1;
const K_CHAR: u64 = 2;
const K_BIGRAM: u64 = 3;
const K_LEX: u64 = 4;
const K_SWORD: u64 = 5;
const K_SNEG: u64 = 6;
const K_SBI: u64 = 7;

/// Words that open a negation scope for sentiment (folded).
const NEGATORS: &[&str] = &[
    "niet", "geen", "nooit", "niks", "niets", "not", "no", "never", "nie", "zonder", "nergens",
    "gjin", "net", "degil", "yok",
];
/// Words after a negator whose polarity flips.
const NEG_SCOPE: u8 = 3;

#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn key(kind: u64, bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write_u64(kind);
    h.write(bytes);
    h.write_usize(bytes.len());
    fmix(h.finish())
}

#[inline]
fn key2(kind: u64, a: u64, b: u64) -> u64 {
    fmix(
        (a.rotate_left(17) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_add(kind.wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)),
    )
}

/// Sparse features by 64-bit key.
type KeyedFeats = Vec<(u64, f32)>;

/// What is known about one folded token.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tok {
    /// Hash of the stem (for bigrams).
    stem: u64,
    stop: bool,
    negator: bool,
    /// Row in the precomputed tables, `u32::MAX` for a token not seen at build time.
    id: u32,
    /// Role for the sentiment cues and language-profile mask.
    role: TokenRole,
    lang: u16,
    /// Gazetteer: the largest number of tokens of a place name starting with this token
    /// (0 = none) and the name entry of the token alone (`u32::MAX` = none).
    pub(crate) place_len: u8,
    pub(crate) place_id: u32,
}

/// Sparse topic features of a single content token (before document scaling).
fn token_topic_feats(
    w: &str,
    stem_key: u64,
    p: &Params,
    known: &FxMap<String, u64>,
    lex: &FxMap<u64, Vec<u16>>,
    out: &mut Vec<(u64, f32)>,
) {
    out.push((stem_key, p.unigram));
    let lex_hit = |stem_key: u64, v: f32, out: &mut Vec<(u64, f32)>| {
        if let Some(ts) = lex.get(&stem_key) {
            for &t in ts {
                out.push((key(K_LEX, &t.to_le_bytes()), v));
            }
        }
    };
    lex_hit(stem_key, p.lex, out);
    // Compound parts: the longest known head, then a known modifier.
    if !known.contains_key(w) {
        for (part, v) in split_compound(w, known) {
            out.push((part, p.part * v));
            lex_hit(part, p.lex * v, out);
        }
    }
    let b = w.as_bytes();
    if b.len() >= 3 && p.chars > 0.0 {
        let mut padded = [0u8; 66];
        let n = b.len().min(64);
        padded[0] = b'<';
        padded[1..=n].copy_from_slice(&b[..n]);
        padded[n + 1] = b'>';
        let padded = &padded[..n + 2];
        let mut count = 0usize;
        for g in p.char_min..=p.char_max {
            if padded.len() >= g {
                count += padded.len() - g + 1;
            }
        }
        if count > 0 {
            let v = p.chars / (count as f32).sqrt();
            for g in p.char_min..=p.char_max {
                for win in padded.windows(g) {
                    out.push((key(K_CHAR, win), v));
                }
            }
        }
    }
}

/// Token info of a word missing from the table.
fn unknown_tok(w: &str) -> Tok {
    Tok {
        stem: key(K_WORD, stemmer().stem(w).as_bytes()),
        stop: w.len() < 2 || stopwords().contains(w),
        negator: NEGATORS.contains(&w),
        id: u32::MAX,
        role: TokenRole::default(),
        lang: 0,
        place_len: 0,
        place_id: u32::MAX,
    }
}

/// Known parts of an unknown compound, with weights: head (right part) 1.0, modifier 0.6.
fn split_compound(w: &str, known: &FxMap<String, u64>) -> Vec<(u64, f32)> {
    let mut out = Vec::new();
    if w.len() < 7 || !w.is_ascii() {
        return out;
    }
    for i in 3..=w.len() - 4 {
        let Some(&head) = known.get(&w[i..]) else {
            continue;
        };
        out.push((head, 1.0));
        let left = &w[..i];
        for l in [
            left,
            left.strip_suffix('s').unwrap_or(left),
            left.strip_suffix("en").unwrap_or(left),
            left.strip_suffix('e').unwrap_or(left),
        ] {
            if l.len() >= 3
                && let Some(&m) = known.get(l)
            {
                out.push((m, 0.6));
                break;
            }
        }
        break;
    }
    out
}

/// Multinomial logistic regression over sparse features; rows are feature indices.
pub(crate) struct LinearModel {
    classes: usize,
    rows: usize,
    /// Row-major: `w[row * classes + class]`; the row `rows` is the bias.
    w: Vec<f32>,
}

/// One training example: sparse (row, value) pairs, the class and a loss weight.
pub(crate) struct Example {
    pub(crate) feats: Vec<(u32, f32)>,
    pub(crate) class: usize,
    pub(crate) weight: f32,
}

impl LinearModel {
    /// Averaged SGD on the log-loss with L2 on the rows an example touches; deterministic.
    pub(crate) fn train(
        rows: usize,
        classes: usize,
        data: &[Example],
        epochs: usize,
        l2: f32,
        lr0: f32,
    ) -> LinearModel {
        let n = (rows + 1) * classes;
        let mut w = vec![0.0f32; n];
        // Averaging trick: avg = w - u / t.
        let mut u = vec![0.0f32; n];
        let mut t = 1.0f32;
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut p = vec![0.0f32; classes];
        let bias = rows as u32;
        for epoch in 0..epochs {
            for i in (1..order.len()).rev() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let j = (seed >> 33) as usize % (i + 1);
                order.swap(i, j);
            }
            let lr = lr0 / (1.0 + epoch as f32 * 0.2);
            for &k in &order {
                let ex = &data[k];
                p.copy_from_slice(&w[rows * classes..]);
                for &(f, v) in &ex.feats {
                    let row = &w[f as usize * classes..(f as usize + 1) * classes];
                    for (o, x) in p.iter_mut().zip(row) {
                        *o += x * v;
                    }
                }
                softmax(&mut p);
                p[ex.class] -= 1.0;
                for &(f, v) in ex.feats.iter().chain(std::iter::once(&(bias, 1.0))) {
                    let base = f as usize * classes;
                    for (c, pc) in p.iter().enumerate() {
                        let g = ex.weight * pc * v + l2 * w[base + c];
                        let d = lr * g;
                        w[base + c] -= d;
                        u[base + c] -= t * d;
                    }
                }
                t += 1.0;
            }
        }
        for (x, y) in w.iter_mut().zip(&u) {
            *x -= y / t;
        }
        LinearModel { classes, rows, w }
    }

    #[inline]
    fn row(&self, r: u32) -> &[f32] {
        let r = r as usize;
        &self.w[r * self.classes..(r + 1) * self.classes]
    }

    fn bias(&self) -> &[f32] {
        &self.w[self.rows * self.classes..]
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

/// Sentiment cue features appended after the sparse rows.
const CUE_DIM: usize = 7;

/// The trained topic and sentiment models with their token tables.
pub(crate) struct Models {
    p: Params,
    /// Outputs of the topic table: the sub-topics, then (with a group model) the groups.
    pub(crate) classes: usize,
    /// Folded token -> what we know of it.
    toks: FxMap<Box<str>, Tok>,
    /// Surface words (>= 3 letters) -> stem key, for compound parts.
    known: FxMap<String, u64>,
    /// Stem key -> topics whose lexicon has it.
    lex: FxMap<u64, Vec<u16>>,
    topic_index: FxMap<u64, u32>,
    sent_index: FxMap<u64, u32>,
    topic: LinearModel,
    sent: LinearModel,
    /// Per token id, in one 64-byte aligned row (scoring a token touches one row): its summed
    /// topic contribution (`classes` floats), the squared norm of its topic features and its
    /// sentiment contribution, plain then negated (3 + 3 floats), then padding.
    tok_rows: Vec<f32>,
    /// Offset of row 0 in `tok_rows` (for the alignment) and the row length in floats.
    rows_base: usize,
    row_len: usize,
    /// `sent_index` with the weights inline (one probe per sentiment feature).
    sent_table: KeyTable,
    /// The words of `toks` of at most 16 bytes, in a table with inline keys: index into
    /// `short_toks`.
    short: ShortTable<u32>,
    short_toks: Vec<Tok>,
}

/// Open-addressing table of 64-bit feature keys with three weights inline.
#[derive(Default)]
struct KeyTable {
    bits: u32,
    /// (key, weights); key 0 = empty slot (a real key 0 is kept in `zero`).
    slots: Vec<(u64, [f32; 3])>,
    zero: Option<[f32; 3]>,
}

impl KeyTable {
    fn with_capacity(n: usize) -> KeyTable {
        let mut bits = 4;
        while (1usize << bits) < n * 2 {
            bits += 1;
        }
        KeyTable {
            bits,
            slots: vec![(0, [0.0; 3]); 1 << bits],
            zero: None,
        }
    }

    #[inline]
    fn slot(&self, k: u64) -> usize {
        // Keys are already mixed (`fmix`).
        (k >> (64 - self.bits)) as usize
    }

    fn insert(&mut self, k: u64, v: [f32; 3]) {
        if k == 0 {
            self.zero = Some(v);
            return;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        while self.slots[i].0 != 0 && self.slots[i].0 != k {
            i = (i + 1) & mask;
        }
        self.slots[i] = (k, v);
    }

    #[inline]
    fn get(&self, k: u64) -> Option<&[f32; 3]> {
        if k == 0 || self.slots.is_empty() {
            return self.zero.as_ref().filter(|_| k == 0);
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        loop {
            let sl = &self.slots[i];
            if sl.0 == k {
                return Some(&sl.1);
            }
            if sl.0 == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Open-addressing table of words of 1 to 16 bytes, keys held inline as one `u128`
/// (little-endian, zero-padded: a folded token has no zero byte, so the key is unique).
#[derive(Default)]
struct ShortTable<V> {
    /// Number of index bits (`slots.len() == 1 << bits`).
    bits: u32,
    /// (key, value); key 0 = empty slot.
    slots: Vec<(u64, u64, V)>,
}

impl<V: Copy + Default> ShortTable<V> {
    fn with_capacity(n: usize) -> ShortTable<V> {
        let mut bits = 4;
        while (1usize << bits) < n * 2 {
            bits += 1;
        }
        ShortTable {
            bits,
            slots: vec![(0, 0, V::default()); 1 << bits],
        }
    }

    /// Key of `hay[s..e]` (`1 <= e - s <= 16`).
    #[inline]
    fn key_at(hay: &[u8], s: usize, e: usize) -> (u64, u64) {
        let n = e - s;
        let v = if s + 16 <= hay.len() {
            let mut b = [0u8; 16];
            b.copy_from_slice(&hay[s..s + 16]);
            let v = u128::from_le_bytes(b);
            if n == 16 {
                v
            } else {
                v & ((1u128 << (8 * n)) - 1)
            }
        } else {
            let mut b = [0u8; 16];
            for (o, x) in b.iter_mut().zip(&hay[s..e]) {
                *o = *x;
            }
            u128::from_le_bytes(b)
        };
        (v as u64, (v >> 64) as u64)
    }

    #[inline]
    fn slot(&self, k: (u64, u64)) -> usize {
        let h = (k.0 ^ k.1.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        ((h ^ (h >> 29)).wrapping_mul(0xff51_afd7_ed55_8ccd) >> (64 - self.bits)) as usize
    }

    fn insert(&mut self, w: &[u8], v: V) {
        let k = Self::key_at(w, 0, w.len());
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        loop {
            let sl = &mut self.slots[i];
            if (sl.0, sl.1) == (0, 0) || (sl.0, sl.1) == k {
                *sl = (k.0, k.1, v);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn get(&self, hay: &[u8], s: usize, e: usize) -> Option<&V> {
        if self.slots.is_empty() {
            return None;
        }
        let k = Self::key_at(hay, s, e);
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        loop {
            let sl = &self.slots[i];
            if (sl.0, sl.1) == k {
                return Some(&sl.2);
            }
            if (sl.0, sl.1) == (0, 0) {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Scores of one message.
pub(crate) struct Scores {
    pub(crate) topic: Vec<f32>,
    pub(crate) sent: [f32; 3],
    /// Language-profile word counts.
    pub(crate) lang: [f32; 16],
}

impl Models {
    /// Train from labelled texts. `topics[i]` / `sents[i]` are class indices or `None`.
    // One call site; the labelled columns read clearer as parameters than as a struct.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn train(
        p: Params,
        classes: usize,
        topic_group: &[usize],
        texts: &[String],
        topics: &[Option<usize>],
        sents: &[Option<usize>],
        cues: &[Cues],
        lexicon: &[(usize, String)],
        sent_lex: &Lexicon,
    ) -> Models {
        let sw = stopwords();
        let mut m = Models {
            p,
            classes,
            toks: FxMap::default(),
            known: FxMap::default(),
            lex: FxMap::default(),
            topic_index: FxMap::default(),
            sent_index: FxMap::default(),
            topic: LinearModel {
                classes,
                rows: 0,
                w: vec![0.0; classes],
            },
            sent: LinearModel {
                classes: 3,
                rows: 0,
                w: vec![0.0; 3],
            },
            tok_rows: Vec::new(),
            rows_base: 0,
            row_len: 0,
            sent_table: KeyTable::default(),
            short: ShortTable::default(),
            short_toks: Vec::new(),
        };
        // Vocabulary: every token of the training texts and the lexicon.
        let words = texts
            .iter()
            .chain(lexicon.iter().map(|l| &l.1))
            .flat_map(|t| t.split(' '))
            .filter(|t| !t.is_empty());
        for w in words {
            if m.toks.contains_key(w) {
                continue;
            }
            let stem = key(K_WORD, stemmer().stem(w).as_bytes());
            let stop = sw.contains(w) || w.len() < 2;
            if !stop && w.len() >= 3 {
                m.known.insert(w.to_string(), stem);
            }
            m.toks.insert(
                w.into(),
                Tok {
                    stem,
                    stop,
                    negator: NEGATORS.contains(&w),
                    id: u32::MAX,
                    role: sent_lex.token_role(w),
                    lang: crate::lang::token_mask(w),
                    place_len: 0,
                    place_id: u32::MAX,
                },
            );
        }
        // Words the sentiment cues and the language profiles react to, so that a token
        // missing from the table has no role in either.
        let mut extra: Vec<String> = sent_lex.vocabulary().map(str::to_string).collect();
        extra.extend(crate::lang::vocabulary().map(str::to_string));
        extra.retain(|w| !w.is_empty() && !m.toks.contains_key(w.as_str()));
        for w in extra {
            let w = w.as_str();
            if m.toks.contains_key(w) {
                continue;
            }
            m.toks.insert(
                w.into(),
                Tok {
                    stem: key(K_WORD, stemmer().stem(w).as_bytes()),
                    stop: sw.contains(w) || w.len() < 2,
                    negator: NEGATORS.contains(&w),
                    id: u32::MAX,
                    role: sent_lex.token_role(w),
                    lang: crate::lang::token_mask(w),
                    place_len: 0,
                    place_id: u32::MAX,
                },
            );
        }
        for (ci, words) in lexicon {
            for w in words.split(' ').filter(|w| !w.is_empty()) {
                let stem = m.toks[w].stem;
                let v = m.lex.entry(stem).or_default();
                if !v.contains(&(*ci as u16)) {
                    v.push(*ci as u16);
                }
            }
        }

        // Sparse keyed features of every training text.
        let mut topic_docs: Vec<Vec<(u64, f32)>> = Vec::new();
        let mut sent_docs: Vec<Vec<(u64, f32)>> = Vec::new();
        for t in texts {
            let (tf, sf) = m.keyed(t);
            topic_docs.push(tf);
            sent_docs.push(sf);
        }
        // Lexicon lines are extra short topic documents.
        let lex_docs: Vec<(usize, Vec<(u64, f32)>)> = lexicon
            .iter()
            .map(|(ci, words)| (*ci, m.keyed(&format!(" {words} ")).0))
            .collect();

        let index = |docs: &mut dyn Iterator<Item = &Vec<(u64, f32)>>| {
            let mut idx: FxMap<u64, u32> = FxMap::default();
            for d in docs {
                for &(k, _) in d {
                    let n = idx.len() as u32;
                    idx.entry(k).or_insert(n);
                }
            }
            idx
        };
        m.topic_index = index(
            &mut topic_docs
                .iter()
                .zip(topics)
                .filter(|(_, t)| t.is_some())
                .map(|(d, _)| d)
                .chain(lex_docs.iter().map(|d| &d.1)),
        );
        m.sent_index = index(
            &mut sent_docs
                .iter()
                .zip(sents)
                .filter(|(_, s)| s.is_some())
                .map(|(d, _)| d),
        );
        let rows_of = |idx: &FxMap<u64, u32>, d: &[(u64, f32)]| -> Vec<(u32, f32)> {
            d.iter()
                .filter_map(|&(k, v)| idx.get(&k).map(|&r| (r, v)))
                .collect()
        };
        let mut tdata = Vec::new();
        for (d, t) in topic_docs.iter().zip(topics) {
            if let Some(c) = *t {
                tdata.push(Example {
                    feats: rows_of(&m.topic_index, d),
                    class: c,
                    weight: 1.0,
                });
            }
        }
        for (c, d) in &lex_docs {
            tdata.push(Example {
                feats: rows_of(&m.topic_index, d),
                class: *c,
                weight: 0.5,
            });
        }
        let srows = m.sent_index.len();
        let mut sdata = Vec::new();
        for ((d, s), c) in sent_docs.iter().zip(sents).zip(cues) {
            if let Some(s) = *s {
                let mut feats = rows_of(&m.sent_index, d);
                for (i, v) in c.dense(m.p.cue_len).into_iter().enumerate() {
                    feats.push(((srows + i) as u32, v));
                }
                sdata.push(Example {
                    feats,
                    class: s,
                    weight: m.p.sent_class_weight[s],
                });
            }
        }
        // The sub-topic, group and sentiment models are independent: train them side by
        // side (start-up time of the server and of every test binary).
        let rows = m.topic_index.len();
        let groups = topic_group.iter().max().map_or(0, |g| g + 1);
        let p = &m.p;
        let (topic, group, sent) = std::thread::scope(|sc| {
            let group = (p.group_model > 0.0).then(|| {
                sc.spawn(|| {
                    let gdata: Vec<Example> = tdata
                        .iter()
                        .map(|ex| Example {
                            feats: ex.feats.clone(),
                            class: topic_group[ex.class],
                            weight: ex.weight,
                        })
                        .collect();
                    LinearModel::train(rows, groups, &gdata, p.epochs, p.l2, p.lr)
                })
            });
            let sent = sc.spawn(|| {
                LinearModel::train(srows + CUE_DIM, 3, &sdata, p.sent_epochs, p.sent_l2, p.lr)
            });
            let topic = LinearModel::train(rows, classes, &tdata, p.epochs, p.l2, p.lr);
            let join = |h: std::thread::ScopedJoinHandle<'_, LinearModel>| {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            };
            (topic, group.map(join), join(sent))
        });
        m.topic = topic;
        m.sent = sent;
        if let Some(g) = group {
            // The group model is stored beside the sub-topic model so that one table row
            // per word yields both: rows become [sub-topics | groups].
            let wide = classes + groups;
            let mut w = Vec::with_capacity((rows + 1) * wide);
            for r in 0..=rows {
                w.extend_from_slice(&m.topic.w[r * classes..(r + 1) * classes]);
                w.extend_from_slice(&g.w[r * groups..(r + 1) * groups]);
            }
            m.topic = LinearModel {
                classes: wide,
                rows,
                w,
            };
            m.classes = wide;
        }

        // Fold the per-token contributions into tables.
        let mut keys: Vec<Box<str>> = m.toks.keys().cloned().collect();
        keys.sort();
        let mut buf = Vec::new();
        let mut per_tok = Vec::with_capacity(keys.len());
        for (id, w) in keys.iter().enumerate() {
            let tok = m.toks[w];
            per_tok.push(m.token_tables(w, tok, &mut buf));
            if let Some(t) = m.toks.get_mut(w) {
                t.id = id as u32;
            }
        }
        m.build_rows(&per_tok);
        m.build_short();
        m
    }

    /// Interleave the per-token tables into aligned rows and build the sentiment key table.
    fn build_rows(&mut self, per_tok: &[(Vec<f32>, f32, [f32; 6])]) {
        let c = self.classes;
        let n = per_tok.len();
        let rl = (c + 7).div_ceil(16) * 16;
        let mut rows = vec![0.0f32; n * rl + 16];
        // Start row 0 on a 64-byte boundary.
        let base = (64 - rows.as_ptr() as usize % 64) % 64 / 4;
        for (i, (tv, n2, sv)) in per_tok.iter().enumerate() {
            let r = &mut rows[base + i * rl..base + (i + 1) * rl];
            r[..c].copy_from_slice(tv);
            r[c] = *n2;
            r[c + 1..c + 7].copy_from_slice(sv);
        }
        self.tok_rows = rows;
        self.rows_base = base;
        self.row_len = rl;
        let mut t = KeyTable::with_capacity(self.sent_index.len());
        for (&k, &r) in &self.sent_index {
            let w = self.sent.row(r);
            t.insert(k, [w[0], w[1], w[2]]);
        }
        self.sent_table = t;
    }

    /// Rebuild the fast table of the short words from `toks`.
    fn build_short(&mut self) {
        let mut words: Vec<(&str, Tok)> = self
            .toks
            .iter()
            .filter(|(w, _)| !w.is_empty() && w.len() <= 16)
            .map(|(w, t)| (&**w, *t))
            .collect();
        words.sort_by(|a, b| a.0.cmp(b.0));
        let mut table = ShortTable::with_capacity(words.len());
        self.short_toks.clear();
        for (w, t) in words {
            table.insert(w.as_bytes(), self.short_toks.len() as u32);
            self.short_toks.push(t);
        }
        self.short = table;
    }

    /// Precomputed contributions of one token.
    fn token_tables(
        &self,
        w: &str,
        tok: Tok,
        buf: &mut Vec<(u64, f32)>,
    ) -> (Vec<f32>, f32, [f32; 6]) {
        let c = self.classes;
        let mut tv = vec![0.0f32; c];
        let mut n2 = 0.0;
        if !tok.stop {
            buf.clear();
            token_topic_feats(w, tok.stem, &self.p, &self.known, &self.lex, buf);
            for &(k, v) in buf.iter() {
                n2 += v * v;
                if let Some(&r) = self.topic_index.get(&k) {
                    for (o, x) in tv.iter_mut().zip(self.topic.row(r)) {
                        *o += x * v;
                    }
                }
            }
        }
        let mut sv = [0.0f32; 6];
        for (j, kind) in [K_SWORD, K_SNEG].into_iter().enumerate() {
            if let Some(&r) = self.sent_index.get(&key2(kind, tok.stem, 0)) {
                for (o, x) in sv[j * 3..j * 3 + 3].iter_mut().zip(self.sent.row(r)) {
                    *o += x * self.p.sent_word;
                }
            }
        }
        (tv, n2, sv)
    }

    /// Token info, computing it for a word not seen at build time.
    #[inline]
    pub(crate) fn tok(&self, w: &str) -> Tok {
        if let Some(t) = self.toks.get(w) {
            return *t;
        }
        unknown_tok(w)
    }

    /// Token info of the token `folded[s..e]`, like [`Models::tok`] (faster for short words).
    #[inline]
    pub(crate) fn tok_at(&self, folded: &str, s: usize, e: usize) -> Tok {
        if e > s && e - s <= 16 {
            return match self.short.get(folded.as_bytes(), s, e) {
                Some(&i) => self.short_toks[i as usize],
                None => unknown_tok(&folded[s..e]),
            };
        }
        self.tok(&folded[s..e])
    }

    /// Token info of every token span of `folded`, appended to `out`.
    pub(crate) fn toks_at(&self, folded: &str, spans: &[(u32, u32)], out: &mut Vec<Tok>) {
        out.extend(
            spans
                .iter()
                .map(|&(s, e)| self.tok_at(folded, s as usize, e as usize)),
        );
    }

    /// Record gazetteer heads in the token table, so that one lookup per token serves the
    /// models and the resolver. A word new to the table gets exactly the info [`Models::tok`]
    /// computes for an unknown word, so scores do not change.
    pub(crate) fn add_places<'a>(&mut self, heads: impl Iterator<Item = (&'a str, u8, u32)>) {
        for (w, len, id) in heads {
            let t = self.toks.entry(w.into()).or_insert_with(|| unknown_tok(w));
            t.place_len = len;
            t.place_id = id;
        }
        self.build_short();
    }

    /// Keyed sparse features (topic, sentiment) of a folded text, scaled per document.
    /// This is the reference definition; [`Models::score`] computes the same scores faster.
    fn keyed(&self, folded: &str) -> (KeyedFeats, KeyedFeats) {
        let p = &self.p;
        let mut tf: Vec<(u64, f32)> = Vec::new();
        let mut sf: Vec<(u64, f32)> = Vec::new();
        let mut prev_content: Option<u64> = None;
        let mut prev_any: Option<u64> = None;
        let mut neg = 0u8;
        for w in folded.split(' ').filter(|t| !t.is_empty()) {
            let t = self.tok(w);
            if !t.stop {
                token_topic_feats(w, t.stem, p, &self.known, &self.lex, &mut tf);
                if let Some(a) = prev_content
                    && p.bigram > 0.0
                {
                    tf.push((key2(K_BIGRAM, a, t.stem), p.bigram));
                }
                prev_content = Some(t.stem);
            }
            let kind = if neg > 0 { K_SNEG } else { K_SWORD };
            sf.push((key2(kind, t.stem, 0), p.sent_word));
            if let Some(a) = prev_any {
                sf.push((key2(K_SBI, a, t.stem), p.sent_bigram));
            }
            prev_any = Some(t.stem);
            neg = if t.negator {
                NEG_SCOPE
            } else {
                neg.saturating_sub(1)
            };
        }
        for f in [&mut tf, &mut sf] {
            let n2: f32 = f.iter().map(|x| x.1 * x.1).sum();
            if n2 > 0.0 {
                let s = 1.0 / n2.sqrt();
                for x in f.iter_mut() {
                    x.1 *= s;
                }
            }
        }
        (tf, sf)
    }

    /// Topic and sentiment logits and language-profile counts of a folded text, in one
    /// pass over its tokens (one table lookup per token).
    #[cfg(test)]
    pub(crate) fn score(&self, folded: &str, raw: &str, out: &mut Scores) {
        let mut spans = Vec::new();
        crate::normalize::token_spans(folded, &mut spans);
        let toks: Vec<Tok> = spans
            .iter()
            .map(|&(s, e)| self.tok_at(folded, s as usize, e as usize))
            .collect();
        self.score_tokens(folded, &spans, &toks, raw, out);
    }

    /// [`Models::score`] on the token spans of the folded text and their looked-up info.
    pub(crate) fn score_tokens(
        &self,
        folded: &str,
        spans: &[(u32, u32)],
        toks: &[Tok],
        raw: &str,
        out: &mut Scores,
    ) {
        let mut cue_state = CueState::default();
        out.lang = [0.0; 16];
        let p = &self.p;
        let c = self.classes;
        out.topic.clear();
        out.topic.resize(c, 0.0);
        let mut sent = [0.0f32; 3];
        let mut t_n2 = 0.0f32;
        let mut s_n2 = 0.0f32;
        let mut prev_content: Option<u64> = None;
        let mut prev_any: Option<u64> = None;
        let mut neg = 0u8;
        let mut buf: Vec<(u64, f32)> = Vec::new();
        for (&(ws, we), &t) in spans.iter().zip(toks) {
            let w = &folded[ws as usize..we as usize];
            cue_state.token(t.role);
            crate::lang::add_token(&mut out.lang, t.lang);
            if !t.stop {
                if t.id != u32::MAX {
                    let i = self.rows_base + t.id as usize * self.row_len;
                    let row = &self.tok_rows[i..i + c + 1];
                    for (o, x) in out.topic.iter_mut().zip(&row[..c]) {
                        *o += x;
                    }
                    t_n2 += row[c];
                } else {
                    buf.clear();
                    token_topic_feats(w, t.stem, p, &self.known, &self.lex, &mut buf);
                    for &(k, v) in &buf {
                        t_n2 += v * v;
                        if let Some(&r) = self.topic_index.get(&k) {
                            for (o, x) in out.topic.iter_mut().zip(self.topic.row(r)) {
                                *o += x * v;
                            }
                        }
                    }
                }
                if let Some(a) = prev_content
                    && p.bigram > 0.0
                {
                    t_n2 += p.bigram * p.bigram;
                    if let Some(&r) = self.topic_index.get(&key2(K_BIGRAM, a, t.stem)) {
                        for (o, x) in out.topic.iter_mut().zip(self.topic.row(r)) {
                            *o += x * p.bigram;
                        }
                    }
                }
                prev_content = Some(t.stem);
            }
            // Sentiment.
            let negated = neg > 0;
            if t.id != u32::MAX {
                let i = self.rows_base
                    + t.id as usize * self.row_len
                    + c
                    + 1
                    + if negated { 3 } else { 0 };
                for (o, x) in sent.iter_mut().zip(&self.tok_rows[i..i + 3]) {
                    *o += x;
                }
            } else {
                let kind = if negated { K_SNEG } else { K_SWORD };
                if let Some(row) = self.sent_table.get(key2(kind, t.stem, 0)) {
                    for (o, x) in sent.iter_mut().zip(row) {
                        *o += x * p.sent_word;
                    }
                }
            }
            s_n2 += p.sent_word * p.sent_word;
            if let Some(a) = prev_any {
                s_n2 += p.sent_bigram * p.sent_bigram;
                if let Some(row) = self.sent_table.get(key2(K_SBI, a, t.stem)) {
                    for (o, x) in sent.iter_mut().zip(row) {
                        *o += x * p.sent_bigram;
                    }
                }
            }
            prev_any = Some(t.stem);
            neg = if t.negator {
                NEG_SCOPE
            } else {
                neg.saturating_sub(1)
            };
        }
        let ts = if t_n2 > 0.0 { 1.0 / t_n2.sqrt() } else { 0.0 };
        for (o, b) in out.topic.iter_mut().zip(self.topic.bias()) {
            *o = *o * ts + b;
        }
        let cues = cue_state.finish(raw);
        let ss = if s_n2 > 0.0 { 1.0 / s_n2.sqrt() } else { 0.0 };
        let srows = self.sent_index.len() as u32;
        for (j, o) in sent.iter_mut().enumerate() {
            *o = *o * ss + self.sent.bias()[j] + p.sent_bias[j];
        }
        for (i, v) in cues.dense(p.cue_len).into_iter().enumerate() {
            for (o, x) in sent.iter_mut().zip(self.sent.row(srows + i as u32)) {
                *o += x * v;
            }
        }
        out.sent = sent;
    }

    pub(crate) fn params(&self) -> &Params {
        &self.p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_table_finds_every_word() {
        let m = &crate::engine().models;
        for (w, t) in &m.toks {
            for text in [
                format!(" {w} "),
                format!(" {w} en nog wat tekst na het woord "),
            ] {
                let u = m.tok_at(&text, 1, 1 + w.len());
                assert_eq!((u.stem, u.id, u.stop), (t.stem, t.id, t.stop), "{w}");
                assert_eq!(
                    (u.place_len, u.place_id, u.lang),
                    (t.place_len, t.place_id, t.lang)
                );
            }
        }
        for w in ["onbekendwoord", "x", "zzzzzzzzzzzzzzzzzzzz", "é"] {
            let text = format!(" {w} ");
            assert_eq!(m.tok_at(&text, 1, 1 + w.len()).stem, m.tok(w).stem);
        }
    }

    #[test]
    fn fast_scores_match_reference_features() {
        let texts: Vec<String> = [
            "de stoeptegel ligt los al weken",
            "lantaarnpaal brandt niet meer",
            "bedankt voor de snelle hulp top",
            "niet goed geregeld weer vergeten",
        ]
        .iter()
        .map(|t| format!(" {t} "))
        .collect();
        let cues = vec![Cues::default(); 4];
        let m = Models::train(
            Params {
                group_model: 1.0,
                ..Params::default()
            },
            3,
            &[0, 0, 1],
            &texts,
            &[Some(0), Some(1), Some(2), Some(0)],
            &[Some(1), Some(1), Some(2), Some(0)],
            &cues,
            &[(0, "tegel".into())],
            &Lexicon::new(),
        );
        for probe in [
            " de stoeptegels liggen niet goed ",
            " echt heel slecht en niet fijn bedankt ",
            " lantaarnpaal kapot grofvuilafspraak xyz ",
            " ",
        ] {
            let mut s = Scores {
                topic: Vec::new(),
                sent: [0.0; 3],
                lang: [0.0; 16],
            };
            m.score(probe, "", &mut s);
            let (tf, sf) = m.keyed(probe);
            let mut want = m.topic.bias().to_vec();
            for (k, v) in tf {
                if let Some(&r) = m.topic_index.get(&k) {
                    for (o, x) in want.iter_mut().zip(m.topic.row(r)) {
                        *o += x * v;
                    }
                }
            }
            for (a, b) in s.topic.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{probe}: {a} vs {b}");
            }
            let mut sw = m.sent.bias().to_vec();
            let srows = m.sent_index.len() as u32;
            for (i, v) in Lexicon::new()
                .cues(probe, "")
                .dense(0.0)
                .into_iter()
                .enumerate()
            {
                for (o, x) in sw.iter_mut().zip(m.sent.row(srows + i as u32)) {
                    *o += x * v;
                }
            }
            for (k, v) in sf {
                if let Some(&r) = m.sent_index.get(&k) {
                    for (o, x) in sw.iter_mut().zip(m.sent.row(r)) {
                        *o += x * v;
                    }
                }
            }
            for (a, b) in s.sent.iter().zip(&sw) {
                assert!((a - b).abs() < 1e-4, "{probe}: {a} vs {b}");
            }
        }
    }
}
