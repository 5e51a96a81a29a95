//! Municipality resolver: which gemeente is a message about?
//!
//! Evidence comes from place names (gazetteer over the folded text), @-handles and hashtags,
//! postcodes, coordinates and the sender's history. Each mention spreads its strength over
//! the municipalities that carry the name; context (a "gemeente" prefix, a preposition,
//! "ik woon in", a signature, a province name, nearby places) sharpens or weakens it. Below
//! a threshold the answer is "unknown": a wrong municipality costs more than none.

use crate::fxhash::FxMap;
use crate::gemeenten::{self, Polygons, distance_km};
use crate::normalize::{Folded, fold_plain};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

/// The resolved municipality with the words that decided it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GemeenteMatch {
    pub code: String,
    pub naam: String,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// Minimum confidence for routing; below it the message stays in national triage.
pub const THRESHOLD: f64 = 0.5;

const PLACES_TSV: &str = include_str!("../data/places.tsv");
const ALIASES_TSV: &str = include_str!("../data/aliases.tsv");
const PC4_TSV: &str = include_str!("../data/pc4.tsv");
const COMMON_TXT: &str = include_str!("../data/commonwords.txt");

/// Everyday words that are also place names but missing from the word lists.
const EXTRA_COMMON: &[&str] = &[
    "best",
    "beek",
    "brug",
    "dijk",
    "hoek",
    "veen",
    "zand",
    "kerk",
    "hoorn",
    "leek",
    "haren",
    "putten",
    "goes",
    "born",
    "echt",
    "heel",
    "wijk",
    "oost",
    "west",
    "noord",
    "zuid",
    "meer",
    "made",
    "mijl",
    "velden",
    "kampen",
    "bergen",
    "laren",
    "lopen",
    "loon",
    "stad",
    "sluis",
    "haven",
    "hof",
    "holten",
    "horst",
    "laag",
    "hoog",
    "berg",
    "bos",
    "weide",
    "wold",
    "ee",
    "nes",
    "ens",
    "elst",
    "epe",
    "ede",
    "oss",
    "son",
    "lent",
    "ham",
    "kooi",
    "molen",
    "plas",
    "rijp",
    "schans",
    "spijk",
    "steeg",
    "stroe",
    "veld",
    "vliet",
    "winkel",
    "wit",
    "wolf",
    "zeeland",
    "centrum",
    "station",
    "markt",
    "park",
    "plein",
    "haag",
    "kijk",
    "straat",
    "dorp",
    "leiden",
    "doorn",
    "waard",
    "zee",
    "strand",
    "dam",
    "maas",
    "rijn",
    "waal",
    "lek",
    "polder",
    "kade",
    "poort",
    "toren",
    "tol",
    "mark",
    "school",
    "boer",
    "boerderij",
    "eind",
    "einde",
    "gein",
    "geul",
    "grens",
    "heide",
    "hei",
    "hulst",
    "kolk",
    "lage",
    "hoge",
    "nieuw",
    "oud",
    "oude",
    "nieuwe",
    "groot",
    "klein",
    "rand",
    "ring",
    "sloot",
    "sluizen",
    "tuin",
    "tuinen",
    "vaart",
    "vlag",
    "wal",
    "weg",
    "wegen",
    "zwaan",
    "ark",
    "bank",
    "bus",
    "heer",
    "huis",
    "huizen",
    "kapel",
    "linde",
    "loo",
    "mill",
    "nederland",
    "holland",
    "brabant",
    "limburg",
    "friesland",
    "oranje",
    "zon",
    "engeland",
    "belgie",
    "duitsland",
    "europa",
    "bunde",
    "baarn",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "maart",
    "kom",
    "zuidas",
    "la",
    "de",
    "het",
    "een",
    "en",
    "in",
    "op",
    "ik",
    "er",
    "dit",
    "dat",
    "wat",
    "is",
    "mi",
    "ta",
    "na",
    "di",
    "bon",
    "kas",
    "i",
    "e",
    "tin",
    "por",
    "ben",
    "bin",
    "yn",
    "it",
    "us",
    "ek",
    "en",
    "the",
    "a",
    "an",
    "of",
    "to",
    "at",
    "on",
    "we",
    "he",
    "my",
    "me",
    "no",
    "so",
    "do",
    "go",
    "up",
    "ter",
    "ten",
    "den",
    "der",
    "des",
    "sint",
    "st",
    "sas",
    "rijs",
    "ruinen",
    "elp",
    "eext",
    "lith",
    "gees",
    "erm",
    "tuil",
    "tiel",
    "zijl",
    "mussel",
    "bolsward",
    "ven",
    "vlaas",
    "kerkrade",
];

/// Generic neighbourhood words that name a part of almost every town.
const IGNORED: &[&str] = &[
    "centrum",
    "binnenstad",
    "stad",
    "dorp",
    "oost",
    "west",
    "noord",
    "zuid",
    "midden",
    "haven",
    "industrieterrein",
    "buitengebied",
    "nieuwbouw",
    "bedrijventerrein",
    "oud",
    "nieuw",
    "stadsdeel",
    "wijk",
    "stadscentrum",
    "dorpskern",
    "zuidoost",
    "noordoost",
    "zuidwest",
    "noordwest",
];

/// Weight and tier (0 strongest) per kind in places.tsv.
fn kind_weight(kind: &str) -> Option<(f32, u8)> {
    Some(match kind {
        "G" => (3.0, 0),
        "S" | "W" | "V" => (1.0, 1),
        "O" => (1.2, 1),
        "Q" | "X" => (0.8, 2),
        "A" => (0.6, 3),
        "P" => (0.35, 3),
        _ => return None,
    })
}

struct NameEntry {
    /// (municipality index, share of the mention, tier of that candidate)
    cands: Vec<(u16, f32, u8)>,
    strength: f32,
    needs_cap: bool,
    common: bool,
    numeric: bool,
    handle: bool,
}

pub(crate) struct Resolver {
    /// Folded name (tokens joined by one space) -> entry index.
    names: FxMap<Box<str>, u32>,
    /// One bit per hash of a name of several tokens (a filter before `names`).
    multi: Vec<u64>,
    /// First token of any name -> the largest number of tokens of a name starting with it.
    first: FxMap<Box<str>, u8>,
    entries: Vec<NameEntry>,
    pc4: FxMap<u16, Vec<(u16, f32)>>,
    polygons: Polygons,
    provinces: Vec<(String, &'static str)>,
}

#[derive(Default)]
struct Raw {
    cands: HashMap<u16, (f32, u8)>,
    needs_cap: bool,
    numeric: bool,
    handle: bool,
    any_strong: bool,
}

impl Raw {
    fn add(&mut self, gi: u16, w: f32, tier: u8) {
        let e = self.cands.entry(gi).or_insert((0.0, u8::MAX));
        if w > e.0 {
            e.0 = w;
        }
        e.1 = e.1.min(tier);
    }
}

impl Resolver {
    pub(crate) fn new() -> Resolver {
        let all = gemeenten::all();
        let mut common: HashSet<String> = COMMON_TXT.lines().map(fold_plain).collect();
        common.extend(EXTRA_COMMON.iter().map(|s| (*s).to_string()));
        let mut raw: HashMap<String, Raw> = HashMap::new();
        for line in PLACES_TSV.lines() {
            let mut f = line.split('\t');
            let (Some(name), Some(kind), Some(code)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Some((w, tier)), Some(gi)) = (kind_weight(kind), gemeenten::index_of(code)) else {
                continue;
            };
            let key = fold_plain(name);
            if IGNORED.contains(&key.as_str()) {
                continue;
            }
            if key.len() < 2 || key.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
                continue;
            }
            let r = raw.entry(key).or_default();
            r.add(gi as u16, w, tier);
            if tier <= 1 {
                r.any_strong = true;
            }
        }
        for line in ALIASES_TSV.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 3 {
                continue;
            }
            let w: f32 = f[2].parse().unwrap_or(1.0);
            let flags = f.get(3).copied().unwrap_or("");
            let tier = if w >= 3.0 {
                0
            } else if w >= 1.0 {
                1
            } else {
                2
            };
            let key = fold_plain(f[0]);
            let r = raw.entry(key).or_default();
            for code in f[1].split(',') {
                if let Some(gi) = gemeenten::index_of(code) {
                    r.add(gi as u16, w, tier);
                }
            }
            r.any_strong |= tier <= 1;
            r.needs_cap |= flags.contains('c');
            r.numeric |= flags.contains('n');
        }
        // Inflected municipality names in Polish and Turkish ("w Tilburgu", "Rotterdam'da").
        for (gi, g) in all.iter().enumerate() {
            let base = fold_plain(strip_suffix(g.naam));
            if base.len() >= 5 && !base.contains(' ') {
                for suf in ["u", "ie", "em", "a", "da", "de", "ta", "te", "dan", "den"] {
                    let key = format!("{base}{suf}");
                    if raw.contains_key(&key) || common.contains(&key) {
                        continue;
                    }
                    let r = raw.entry(key).or_default();
                    r.add(gi as u16, 2.0, 1);
                    r.any_strong = true;
                    r.needs_cap = true;
                }
            }
        }
        // Handles and run-together hashtags: @gemeenteutrecht, #denhaag, #bergenopzoom.
        let mut handles: Vec<(String, u16, f32)> = Vec::new();
        for (gi, g) in all.iter().enumerate() {
            let base = fold_plain(g.naam);
            let stripped = fold_plain(strip_suffix(g.naam));
            for n in [&base, &stripped] {
                let joined: String = n.chars().filter(|c| *c != ' ').collect();
                handles.push((format!("gemeente{joined}"), gi as u16, 4.0));
                handles.push((format!("gem{joined}"), gi as u16, 4.0));
                if n.contains(' ') {
                    handles.push((joined, gi as u16, 3.0));
                }
            }
        }
        for (alias, code) in [
            ("denhaag", "GM0518"),
            ("denbosch", "GM0796"),
            ("nuenen", "GM0820"),
            ("bergennh", "GM0373"),
            ("hengelo", "GM0164"),
            ("rijswijk", "GM0603"),
        ] {
            if let Some(gi) = gemeenten::index_of(code) {
                handles.push((format!("gemeente{alias}"), gi as u16, 4.0));
                if alias.starts_with("den") {
                    handles.push((alias.to_string(), gi as u16, 3.0));
                }
            }
        }
        for (key, gi, w) in handles {
            let r = raw.entry(key).or_default();
            r.add(gi, w, 0);
            r.handle = w >= 4.0;
            r.any_strong = true;
        }

        let mut names: FxMap<Box<str>, u32> = FxMap::default();
        let mut first: FxMap<Box<str>, u8> = FxMap::default();
        let mut entries = Vec::with_capacity(raw.len());
        let mut keys: Vec<String> = raw.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let r = &raw[&key];
            if r.cands.is_empty() {
                continue;
            }
            let best_tier = r.cands.values().map(|c| c.1).min().unwrap_or(3);
            let mut cands: Vec<(u16, f32, u8)> = r
                .cands
                .iter()
                .map(|(&gi, &(w, t))| (gi, w * 0.1f32.powi(i32::from(t - best_tier)), t))
                .collect();
            let strength = cands.iter().map(|c| c.1).fold(0.0, f32::max);
            let sum: f32 = cands.iter().map(|c| c.1).sum();
            for c in &mut cands {
                c.1 /= sum;
            }
            cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let is_common = common.contains(&key);
            let short = key.len() <= 3 && !r.numeric;
            entries.push(NameEntry {
                cands,
                strength,
                needs_cap: r.needs_cap || is_common || short || !r.any_strong,
                common: is_common,
                numeric: r.numeric,
                handle: r.handle,
            });
            let ntok = key.split(' ').filter(|t| !t.is_empty()).count().min(255) as u8;
            let head = key.split(' ').next().unwrap_or_default();
            let m = first.entry(head.into()).or_insert(0);
            *m = (*m).max(ntok);
            names.insert(key.as_str().into(), (entries.len() - 1) as u32);
        }

        let mut multi = vec![0u64; MULTI_BITS / 64];
        for k in names.keys().filter(|k| k.contains(' ')) {
            let h = multi_hash(k.as_bytes());
            multi[h / 64] |= 1 << (h % 64);
        }

        let mut pc4: FxMap<u16, Vec<(u16, f32)>> = FxMap::default();
        for line in PC4_TSV.lines() {
            let Some((pc, rest)) = line.split_once('\t') else {
                continue;
            };
            let Ok(pc) = pc.parse::<u16>() else { continue };
            for part in rest.split(',') {
                let Some((code, share)) = part.split_once(':') else {
                    continue;
                };
                if let Some(gi) = gemeenten::index_of(code) {
                    pc4.entry(pc)
                        .or_default()
                        .push((gi as u16, share.parse().unwrap_or(1.0)));
                }
            }
        }
        Resolver {
            names,
            multi,
            first,
            entries,
            pc4,
            polygons: Polygons::load(),
            provinces: [
                ("noord holland", "PV27"),
                ("zuid holland", "PV28"),
                ("noord brabant", "PV30"),
                ("brabant", "PV30"),
                ("gelderland", "PV25"),
                ("overijssel", "PV23"),
                ("limburg", "PV31"),
                ("friesland", "PV21"),
                ("fryslan", "PV21"),
                ("drenthe", "PV22"),
                ("zeeland", "PV29"),
                ("flevoland", "PV24"),
            ]
            .into_iter()
            .map(|(p, c)| (format!(" {p} "), c))
            .collect(),
        }
    }

    /// Gazetteer heads: every first token of a name, the largest number of tokens of a name
    /// starting with it, and the entry of the token alone as a name (`u32::MAX` = none).
    pub(crate) fn heads(&self) -> impl Iterator<Item = (&str, u8, u32)> + '_ {
        self.first.iter().map(|(w, &l)| {
            let id = self.names.get(w).copied().unwrap_or(u32::MAX);
            (&**w, l, id)
        })
    }

    /// Resolve the municipality of a message. Returns (best if confident, top candidates).
    /// `spans` are the tokens of the folded text and `heads` their gazetteer info as given
    /// by [`Resolver::heads`] (`(0, u32::MAX)` for a token that starts no name).
    // The token info comes from the engine's shared lookup; the rest is the message.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn resolve(
        &self,
        text: &str,
        folded: &Folded,
        spans: &[(u32, u32)],
        heads: &[(u8, u32)],
        lat: Option<f64>,
        lon: Option<f64>,
        history: &[String],
    ) -> (Option<GemeenteMatch>, Vec<GemeenteMatch>) {
        let all = gemeenten::all();
        let ft = folded.text.as_str();
        let mut scores: FxMap<u16, f32> = FxMap::default();
        // (municipality, weight, evidence words); strings are built for the winners only.
        let mut evidence: Vec<(u16, f32, &str)> = Vec::new();
        fn add<'e>(
            scores: &mut FxMap<u16, f32>,
            evidence: &mut Vec<(u16, f32, &'e str)>,
            gi: u16,
            w: f32,
            ev: &'e str,
        ) {
            *scores.entry(gi).or_insert(0.0) += w;
            evidence.push((gi, w, ev));
        }

        // Mentions: at each token the longest name starting there (leftmost-longest, as a
        // word-bounded multi-pattern scan would find them), then the accepted ones.
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        let fb = ft.as_bytes();
        let mut ti = 0;
        while ti < spans.len() {
            let s = spans[ti].0 as usize;
            let mut step = 1;
            let (maxl, single) = heads[ti];
            if maxl > 0 {
                let maxl = usize::from(maxl).min(spans.len() - ti);
                for l in (1..=maxl).rev() {
                    let e = spans[ti + l - 1].1 as usize;
                    let pid = if l == 1 {
                        (single != u32::MAX).then_some(single)
                    } else {
                        let h = multi_hash(&fb[s..e]);
                        if self.multi[h / 64] & (1 << (h % 64)) == 0 {
                            continue;
                        }
                        self.names.get(&ft[s..e]).copied()
                    };
                    if let Some(pid) = pid {
                        let entry = &self.entries[pid as usize];
                        if self.accept(text, folded, s, e, entry) {
                            found.push((s, e, pid as usize));
                        }
                        step = l;
                        break;
                    }
                }
            }
            ti += step;
        }
        found.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
        let mut chosen: Vec<(usize, usize, usize)> = Vec::new();
        for f in found {
            if chosen.iter().all(|c| f.1 <= c.0 || f.0 >= c.1) {
                chosen.push(f);
            }
        }
        chosen.sort_by_key(|c| c.0);

        let signature_at = signature_start(ft, spans);
        // Province names only matter for ambiguous names: scan for them only then.
        let ambiguous = chosen
            .iter()
            .any(|&(_, _, pid)| self.entries[pid].cands.len() > 1);
        let provinces: Vec<&str> = if ambiguous {
            self.provinces
                .iter()
                .filter(|(p, _)| ft.contains(p.as_str()))
                .map(|(_, c)| *c)
                .collect()
        } else {
            Vec::new()
        };

        struct Mention<'t> {
            cands: Vec<(u16, f32)>,
            weight: f32,
            ev: Cow<'t, str>,
            residence: bool,
            qualifier_of: Option<usize>,
        }
        let mut mentions: Vec<Mention> = Vec::new();
        for (idx, &(s, e, pid)) in chosen.iter().enumerate() {
            let entry = &self.entries[pid];
            let prev = prev_tokens(ft, s, 4);
            let p1 = prev.first().copied().unwrap_or("");
            // The first place named is usually the subject.
            let mut weight = entry.strength * if idx == 0 { 1.15 } else { 1.0 };
            let mut cands: Vec<(u16, f32)> = entry.cands.iter().map(|c| (c.0, c.1)).collect();
            if matches!(
                p1,
                "gemeente" | "gem" | "municipality" | "gemeentehuis" | "stadhuis"
            ) || entry.handle
            {
                weight *= 2.0;
                let top: Vec<(u16, f32)> = entry
                    .cands
                    .iter()
                    .filter(|c| c.2 == 0)
                    .map(|c| (c.0, c.1))
                    .collect();
                if !top.is_empty() && top.len() < cands.len() {
                    cands = renorm(top);
                }
            } else if matches!(
                p1,
                "in" | "te"
                    | "bij"
                    | "uit"
                    | "rond"
                    | "nabij"
                    | "richting"
                    | "naar"
                    | "centrum"
                    | "near"
                    | "around"
                    | "at"
                    | "from"
                    | "na"
                    | "yn"
                    | "w"
                    | "de"
            ) {
                weight *= 1.3;
            }
            let residence = is_residence(&prev);
            if is_destination(&prev) {
                weight *= 1.5;
            }
            if signature_at.is_some_and(|sig| s > sig) {
                weight *= 0.3;
            }
            // "Velp bij Arnhem": the second place only says which Velp.
            let mut qualifier_of = None;
            if matches!(p1, "bij" | "nabij" | "near" | "buurt") && idx > 0 {
                let (ps, pe, ppid) = chosen[idx - 1];
                let gap = ft[pe..s].split(' ').filter(|t| !t.is_empty()).count();
                let pe_entry = &self.entries[ppid];
                if gap <= 2 && pe_entry.cands.len() > 1 && pe_entry.cands[0].1 < 0.7 {
                    qualifier_of = Some(mentions.len() - 1);
                }
                let _ = ps;
            }
            // Province names filter ambiguous names ("Bergen in Noord-Holland").
            if cands.len() > 1 && !provinces.is_empty() {
                let inprov: Vec<(u16, f32)> = cands
                    .iter()
                    .copied()
                    .filter(|c| provinces.contains(&all[c.0 as usize].provincie_code))
                    .collect();
                if !inprov.is_empty() {
                    cands = renorm(inprov);
                }
            }
            let (os, oe) = folded.original_span(s, e, text);
            let os = if os > 0 && matches!(text.as_bytes()[os - 1], b'@' | b'#') {
                os - 1
            } else {
                os
            };
            mentions.push(Mention {
                cands,
                weight,
                ev: Cow::Borrowed(&text[os..oe]),
                residence,
                qualifier_of,
            });
        }

        // Apply qualifiers: pick the candidate of the ambiguous mention nearest the qualifier.
        for i in 0..mentions.len() {
            if let Some(t) = mentions[i].qualifier_of {
                let q = mentions[i].cands[0].0 as usize;
                let best = mentions[t]
                    .cands
                    .iter()
                    .map(|c| (c.0, distance_km(&all[c.0 as usize], &all[q])))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((gi, d)) = best
                    && d < 30.0
                {
                    mentions[t].cands = vec![(gi, 1.0)];
                    let qev = mentions[i].ev.clone();
                    mentions[t].ev = Cow::Owned(format!("{} ({qev})", mentions[t].ev));
                    mentions[i].weight *= 0.1;
                }
            }
        }

        // Residence mentions lose against other places ("ik woon in Zeist maar ... in Utrecht").
        let has_subject = mentions
            .iter()
            .any(|m| !m.residence && m.qualifier_of.is_none());
        let anchors_from_mentions: Vec<u16> = mentions
            .iter()
            .filter(|m| m.cands.len() == 1 || m.cands[0].1 >= 0.7)
            .map(|m| m.cands[0].0)
            .collect();

        // Postcodes and coordinates.
        let mut anchors = anchors_from_mentions;
        let pcs = postcodes(text);
        for (pc, strong, ev) in &pcs {
            if let Some(list) = self.pc4.get(pc) {
                let w = if *strong { 2.5 } else { 1.2 };
                for &(gi, share) in list {
                    add(&mut scores, &mut evidence, gi, w * share, ev);
                    if share >= 0.5 {
                        anchors.push(gi);
                    }
                }
            }
        }
        let coords = match (lat, lon) {
            (Some(la), Some(lo)) => self
                .polygons
                .locate(la, lo)
                .map(|gi| (gi as u16, format!("coördinaten {la:.4}, {lo:.4}"))),
            _ => None,
        };
        if let Some((gi, ev)) = &coords {
            add(&mut scores, &mut evidence, *gi, 2.5, ev);
            anchors.push(*gi);
        }
        let hist: Vec<u16> = history
            .iter()
            .filter_map(|c| gemeenten::index_of(c))
            .map(|i| i as u16)
            .collect();

        for m in &mentions {
            let mut w = m.weight;
            if m.residence && has_subject {
                w *= 0.25;
            }
            let mut cands = m.cands.clone();
            if cands.len() > 1 && cands[0].1 < 0.7 {
                // Ambiguous: decide by other evidence nearby, or the sender's history.
                if let Some(&(gi, _)) = cands
                    .iter()
                    .find(|c| anchors.contains(&c.0) || hist.contains(&c.0))
                {
                    cands = vec![(gi, 1.0)];
                } else if !anchors.is_empty() {
                    let mut best: Option<(u16, f64)> = None;
                    for c in &cands {
                        let d = anchors
                            .iter()
                            .map(|a| distance_km(&all[c.0 as usize], &all[*a as usize]))
                            .fold(f64::MAX, f64::min);
                        if best.is_none_or(|b| d < b.1) {
                            best = Some((c.0, d));
                        }
                    }
                    if let Some((gi, d)) = best
                        && d < 25.0
                    {
                        cands = vec![(gi, 1.0)];
                    }
                }
            }
            for (gi, share) in cands {
                add(&mut scores, &mut evidence, gi, w * share, &m.ev);
            }
        }

        // The sender's history: a light prior, enough to break ties.
        if !hist.is_empty() {
            let per = 0.6 / hist.len() as f32;
            let only_history = scores.is_empty();
            for gi in &hist {
                if only_history || scores.contains_key(gi) {
                    add(&mut scores, &mut evidence, *gi, per, "eerdere berichten");
                }
            }
        }

        let total: f32 = scores.values().sum();
        if total <= 0.0 {
            return (None, Vec::new());
        }
        let mut ranked: Vec<(u16, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let candidates: Vec<GemeenteMatch> = ranked
            .iter()
            .take(3)
            .map(|&(gi, s)| {
                let conf = f64::from((s / total) * (s / (s + 0.35)));
                let g = &all[gi as usize];
                let mut ev: Vec<(f32, &str)> = evidence
                    .iter()
                    .filter(|x| x.0 == gi)
                    .map(|x| (x.1, x.2))
                    .collect();
                ev.sort_by(|a, b| b.0.total_cmp(&a.0));
                let mut words: Vec<String> = Vec::new();
                for (_, e) in ev {
                    if words.len() < 3 && !words.iter().any(|w| w == e) {
                        words.push(e.to_string());
                    }
                }
                GemeenteMatch {
                    code: g.code.to_string(),
                    naam: g.naam.to_string(),
                    confidence: (conf * 100.0).round() / 100.0,
                    evidence: words,
                }
            })
            .collect();
        let best = candidates
            .first()
            .filter(|c| c.confidence >= THRESHOLD)
            .cloned();
        (best, candidates)
    }

    fn accept(&self, text: &str, folded: &Folded, s: usize, e: usize, entry: &NameEntry) -> bool {
        let (os, oe) = folded.original_span(s, e, text);
        let bytes = text.as_bytes();
        let prev = if os > 0 { Some(bytes[os - 1]) } else { None };
        let tagged = matches!(prev, Some(b'#' | b'@'));
        if entry.numeric {
            let before_bad = prev.is_some_and(|b| b.is_ascii_digit() || b == b'+' || b == b'-');
            let rest = &bytes[oe..];
            let after_bad = match rest {
                [c, ..] if c.is_ascii_digit() => true,
                [b' ' | b'-' | b'/' | b')', d, ..] if d.is_ascii_digit() => true,
                _ => false,
            };
            return !before_bad && !after_bad;
        }
        if entry.needs_cap && !tagged {
            let first = text[os..].chars().next().unwrap_or(' ');
            if !first.is_uppercase() {
                return false;
            }
            // A common word at the start of a sentence is just a capitalised word.
            // ("Best wel..."), unless it stands alone ("Hoofddorp, Toolenburg") or follows
            // "gem." ("gem. Weert").
            if entry.common && sentence_initial(text, os) {
                let alone = matches!(
                    bytes.get(oe),
                    None | Some(b',' | b'.' | b'\n' | b')' | b'!' | b'?')
                );
                let prev_tok = prev_tokens(&folded.text, s, 1);
                let after_gem = matches!(prev_tok.first(), Some(&("gem" | "gemeente")));
                if !alone && !after_gem {
                    return false;
                }
            }
            // All-caps shouting ("BEST WEL") is not a name either.
            if entry.common
                && text[os..oe]
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .all(char::is_uppercase)
                && oe - os > 1
            {
                return false;
            }
        }
        true
    }
}

/// Size of the filter of names of several tokens.
const MULTI_BITS: usize = 1 << 19;

/// Filter bit of a folded name.
#[inline]
fn multi_hash(b: &[u8]) -> usize {
    let mut h = crate::fxhash::FxHasher::default();
    h.write(b);
    h.write_usize(b.len());
    let x = h.finish().wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 40) as usize % MULTI_BITS
}

fn renorm(mut v: Vec<(u16, f32)>) -> Vec<(u16, f32)> {
    let s: f32 = v.iter().map(|c| c.1).sum();
    if s > 0.0 {
        for c in &mut v {
            c.1 /= s;
        }
    }
    v
}

pub(crate) fn strip_suffix(name: &str) -> &str {
    match name.find(" (") {
        Some(i) => &name[..i],
        None => name,
    }
}

fn sentence_initial(text: &str, pos: usize) -> bool {
    let before = text[..pos].trim_end();
    match before.chars().last() {
        None => true,
        Some(c) => {
            matches!(
                c,
                '.' | '!' | '?' | ':' | '\n' | '"' | '“' | '-' | '•' | '*'
            ) || before.ends_with(['\n'])
        }
    }
}

/// Up to `k` folded tokens before byte `pos`, nearest first.
fn prev_tokens(ft: &str, pos: usize, k: usize) -> Vec<&str> {
    ft[..pos]
        .split(' ')
        .rev()
        .filter(|t| !t.is_empty())
        .take(k)
        .collect()
}

fn is_residence(prev: &[&str]) -> bool {
    let Some(&p1) = prev.first() else {
        return false;
    };
    if !matches!(p1, "in" | "te" | "uit" | "van" | "from") {
        return false;
    }
    prev[1..].iter().take(3).any(|t| {
        matches!(
            *t,
            "woon"
                | "woont"
                | "wonen"
                | "woonachtig"
                | "woonde"
                | "woonden"
                | "live"
                | "lives"
                | "living"
                | "kom"
                | "kwam"
                | "verhuisd"
                | "verhuis"
                | "verhuizen"
                | "verhuizing"
                | "geboren"
                | "afkomstig"
                | "wohne"
        )
    })
}

/// "verhuisd naar X", "moved to X": the new place is the subject.
fn is_destination(prev: &[&str]) -> bool {
    let Some(&p1) = prev.first() else {
        return false;
    };
    matches!(p1, "naar" | "to")
        && prev[1..].iter().take(3).any(|t| {
            t.starts_with("verhuis")
                || t.starts_with("verhuiz")
                || matches!(*t, "moved" | "move" | "moving" | "relocated")
        })
}

/// Start of the closing greeting; places after it (signatures) count little.
fn signature_start(ft: &str, spans: &[(u32, u32)]) -> Option<usize> {
    // The last closing word wins.
    spans.iter().rev().find_map(|&(s, e)| {
        matches!(
            &ft[s as usize..e as usize],
            "groet" | "groeten" | "groetjes" | "mvg" | "regards" | "groete" | "pozdrawiam"
        )
        .then(|| (s as usize).saturating_sub(1))
    })
}

/// Postcodes in the text: (pc4, strong?, original text). PC6 ("3512 AB") is strong; a bare
/// PC4 counts only after the word "postcode" or before a capitalised place name.
fn postcodes(text: &str) -> Vec<(u16, bool, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 4 {
        return out;
    }
    let mut i = 0;
    while i + 4 <= b.len() {
        if !matches!(b[i], b'1'..=b'9') {
            i += 1;
            continue;
        }
        let boundary = i == 0
            || !(b[i - 1].is_ascii_alphanumeric()
                || matches!(b[i - 1], b'-' | b'+' | b'.' | b',' | b'/' | 0xAC));
        if boundary && b[i..i + 4].iter().all(u8::is_ascii_digit) {
            let pc: u16 = text[i..i + 4].parse().unwrap_or(0);
            let mut j = i + 4;
            if j < b.len() && b[j].is_ascii_digit() {
                i = j;
                continue;
            }
            if j < b.len() && b[j] == b' ' {
                j += 1;
            }
            let letters = j + 2 <= b.len()
                && b[j].is_ascii_uppercase()
                && b[j + 1].is_ascii_uppercase()
                && (j + 2 == b.len() || !b[j + 2].is_ascii_alphanumeric());
            if letters && !matches!(&b[j..j + 2], b"SA" | b"SD" | b"SS") {
                out.push((pc, true, text[i..j + 2].to_string()));
                i = j + 2;
                continue;
            }
            let before = text[..i].to_lowercase();
            let after_place = j < b.len() && b[j].is_ascii_uppercase() && b[i + 4] == b' ';
            if before.trim_end().ends_with("postcode") || after_place {
                out.push((pc, false, text[i..i + 4].to_string()));
            }
            i += 4;
            continue;
        }
        i += 1;
    }
    out
}
