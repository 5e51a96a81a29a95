//! Urgency (spoed): danger to people or property now. Recall matters more than precision,
//! so the rules are broad; each rule names the words that fired it as evidence.

use crate::normalize::Folded;
use std::sync::OnceLock;

/// A rule fires when every group has a token starting with one of its prefixes.
struct Rule {
    groups: &'static [&'static [&'static str]],
}

const RULES: &[Rule] = &[
    // gas, fire, smoke, explosions
    Rule {
        groups: &[&[
            "gaslucht",
            "gaslek",
            "gasgeur",
            "lekkage gas",
            "koolmonoxide",
            "co-melder",
            "co melder",
        ]],
    },
    Rule {
        groups: &[
            &["gas"],
            &["ruik", "rook", "lucht", "stinkt", "lek ", "geur", "smell"],
        ],
    },
    Rule {
        groups: &[&[
            "brand",
            "vlammen",
            "vlam",
            "rookontwikkeling",
            "rookwolk",
            "fire",
            "yangin",
            "pozar",
            "brandlucht",
            "vuur ",
            "in de fik",
            "fikkie",
        ]],
    },
    Rule {
        groups: &[
            &["rook"],
            &[
                "komt", "uit ", "dak", "woning", "huis", "ramen", "veel", "zwarte",
            ],
        ],
    },
    Rule {
        groups: &[&["ontploff", "explosie", "knal", "explosion"]],
    },
    Rule {
        groups: &[&[
            "vonk",
            "kortsluiting",
            "stroomdraad",
            "stroomkabel",
            "hoogspanning",
            "elektriciteitskabel",
            "live wire",
            "onder stroom",
            "onder spanning",
        ]],
    },
    Rule {
        groups: &[
            &["kabel", "draad", "draden", "kabels"],
            &[
                "hangt",
                "hangen",
                "ligt",
                "liggen",
                "los",
                "bloot",
                "straat",
                "weg ",
                "naar beneden",
            ],
        ],
    },
    // trees, storm damage, falling objects
    Rule {
        groups: &[
            &["boom", "bomen", "tak", "takken", "tree"],
            &[
                "omgewaaid",
                "omgevallen",
                "gevallen",
                "afgebroken",
                "afgescheurd",
                "gescheurd",
                "ligt",
                "liggen",
                "valt",
                "vallen",
                "dreigt",
                "hangt",
                "hangen",
                "over de weg",
                "op de weg",
                "fallen",
                "blokk",
                "versperr",
            ],
        ],
    },
    Rule {
        groups: &[
            &["storm", "stormschade", "windstoot"],
            &[
                "los", "dak", "valt", "gevallen", "schade", "hangt", "klapper", "waait", "brokken",
            ],
        ],
    },
    Rule {
        groups: &[
            &[
                "instort",
                "ingestort",
                "instortingsgevaar",
                "verzakt",
                "scheur",
            ],
            &["gevel", "muur", "dak", "brug", "balkon", "huis", "gebouw"],
        ],
    },
    Rule {
        groups: &[&[
            "hangt los",
            "hangen los",
            "los te klapper",
            "dreigt te vallen",
            "valt bijna",
            "naar beneden",
        ]],
    },
    // water
    Rule {
        groups: &[
            &[
                "overstrom",
                "overstroomd",
                "ondergelopen",
                "onderlopen",
                "loopt onder",
                "blank ",
                "flood",
                "wateroverlast",
            ],
            &[
                "huis",
                "kelder",
                "woning",
                "straat",
                "weg ",
                "tunnel",
                "water",
                "binnen",
                "staat",
                "loopt",
                "meter",
                "cm",
                "centimeter",
                "tot ",
            ],
        ],
    },
    Rule {
        groups: &[
            &["water"],
            &["staat", "stroomt", "komt"],
            &[
                "huis",
                "kelder",
                "woning",
                "binnen",
                "woonkamer",
                "knie",
                "enkels",
            ],
        ],
    },
    Rule {
        groups: &[
            &["dijk", "kade"],
            &[
                "lek ",
                "doorbraak",
                "doorgebroken",
                "kwel",
                "overloop",
                "breuk",
            ],
        ],
    },
    Rule {
        groups: &[&[
            "hoofdleiding",
            "waterleiding",
            "leiding gesprongen",
            "gesprongen",
        ]],
    },
    // people in danger
    Rule {
        groups: &[
            &[
                "vermist",
                "kwijt",
                "zoek",
                "weggelopen",
                "missing",
                "kayip",
                "zaginion",
            ],
            &[
                "kind",
                "kinderen",
                "zoon",
                "dochter",
                "jongen",
                "meisje",
                "kleuter",
                "peuter",
                "opa",
                "oma",
                "dementerend",
                "dement",
                "vader",
                "moeder",
                "child",
                "cocuk",
                "dziecko",
            ],
        ],
    },
    Rule {
        groups: &[&[
            "onwel",
            "bewusteloos",
            "reanim",
            "ambulance",
            // "112" alone is too often a house number ("Oudegracht 112").
            "bel 112",
            "112 gebeld",
            "112 bellen",
            "112 is gebeld",
            "via 112",
            "112 gealarmeerd",
            "gewond",
            "bloedt",
            "bloed",
            "hartaanval",
            "gevallen en",
            "kan niet opstaan",
            "ligt op straat",
            "ligt op de grond",
            "in nood",
            "nood ",
            "zelfmoord",
            "suicid",
            "zichzelf iets",
            "levensgevaar",
            "verdrinkt",
            "verdrinken",
            "te water",
            "in het water gevallen",
        ]],
    },
    Rule {
        groups: &[
            &[
                "kind",
                "kinderen",
                "peuter",
                "iemand",
                "man ",
                "vrouw",
                "fietser",
                "motorrijder",
                "voetganger",
                "oudere",
                "bejaarde",
                "moeder",
                "vader",
                "rollator",
            ],
            &[
                "bijna",
                "aangereden",
                "onderuit",
                "gevallen",
                "ingevallen",
                "gewond",
                "geschept",
                "klem",
                "vast ",
                "valt",
                "vallen",
                "raakt",
                "struikel",
            ],
        ],
    },
    Rule {
        groups: &[
            &["dakloze", "zwerver", "iemand", "man ", "vrouw"],
            &["ligt", "slaapt", "buiten"],
            &[
                "kou ",
                "vriest",
                "bevroren",
                "onderkoeld",
                "niet aanspreekbaar",
                "beweegt niet",
            ],
        ],
    },
    Rule {
        groups: &[&[
            "levensgevaarlijk",
            "levensgevaar",
            "acuut gevaar",
            "direct gevaar",
            "gevaarlijke situatie",
            "spoed",
            "dringend",
            "urgent",
            "met spoed",
            "noodgeval",
            "emergency",
            "acil",
            "pilne",
            "niebezpie",
            "tehlike",
        ]],
    },
    Rule {
        groups: &[
            &["gevaarlijk", "gevaar", "dangerous", "danger"],
            &[
                "nu ",
                "net ",
                "straks",
                "ongeluk",
                "kinderen",
                "iemand",
                "vallen",
                "weg ",
                "straat",
                "fietsers",
                "niks omheen",
                "afgezet",
                "school",
                "gat",
                "diep",
            ],
        ],
    },
    // traffic hazards now
    Rule {
        groups: &[
            &[
                "verkeerslicht",
                "verkeerslichten",
                "stoplicht",
                "stoplichten",
            ],
            &[
                "uit ",
                "storing",
                "defect",
                "kapot",
                "knipper",
                "werken niet",
                "doen het niet",
                "chaos",
                "gevaar",
            ],
        ],
    },
    Rule {
        groups: &[
            &[
                "olie",
                "diesel",
                "olievlek",
                "glad ",
                "ijzel",
                "spiegelglad",
            ],
            &[
                "weg ", "rotonde", "straat", "fietspad", "onderuit", "glijden", "glijdt",
                "gevallen", "ongeluk",
            ],
        ],
    },
    Rule {
        groups: &[
            &["gat", "kuil", "put", "putdeksel", "deksel", "sinkhole"],
            &[
                "diep",
                "open ",
                "weg ",
                "mist ",
                "ontbreekt",
                "ingezakt",
                "verdwenen",
            ],
            &[
                "gevaar",
                "gevaarlijk",
                "bijna",
                "ingevallen",
                "valt",
                "vallen",
                "niks omheen",
                "niet afgezet",
                "onderuit",
                "ongeluk",
                "fietser",
                "cm",
                "meter",
            ],
        ],
    },
    Rule {
        groups: &[
            &["asbest"],
            &["brand", "los", "kapot", "verspreid", "liggen", "ligt"],
        ],
    },
    Rule {
        groups: &[
            &[
                "stroomstoring",
                "stroomuitval",
                "geen stroom",
                "zonder stroom",
                "stroom uitgevallen",
            ],
            &[
                "hele ",
                "straat",
                "wijk",
                "buurt",
                "beademing",
                "zuurstof",
                "vonk",
                "brand",
                "lucht",
            ],
        ],
    },
    Rule {
        groups: &[&["evacu", "ontruim"]],
    },
    Rule {
        groups: &[&[
            "steekpartij",
            "schietpartij",
            "schoten",
            "gestoken",
            "vechtpartij",
            "mes ",
            "wapen",
            "vuurwapen",
            "bedreigd",
            "bedreiging",
        ]],
    },
    Rule {
        groups: &[
            &[
                "inbraak",
                "inbreker",
                "inbrekers",
                "ingebroken",
                "overval",
                "beroving",
                "burglary",
            ],
            &["bezig", "nu ", "op dit moment", "gebeld", "politie", "net "],
        ],
    },
    Rule {
        groups: &[
            &["verkeersbord", "stopbord", "voorrangsbord", "bord "],
            &[
                "omgereden",
                "omgevallen",
                "verdwenen",
                "ligt",
                "weggewaaid",
                "weg ",
            ],
            &[
                "verkeer", "kruising", "stoppen", "voorrang", "ongeluk", "gevaar",
            ],
        ],
    },
    Rule {
        groups: &[
            &["water", "rioolwater", "riool"],
            &["stijgt", "stijgen", "komt omhoog", "borrelt", "loopt over"],
        ],
    },
    Rule {
        groups: &[
            &["scheur", "verzakt", "zakt weg", "weggezakt", "afgekalfd"],
            &["dijk", "berm", "kade", "oever", "talud"],
        ],
    },
    Rule {
        groups: &[
            &["boom", "bomen", "tak ", "takken"],
            &["dwars", "rijbaan", "over de weg", "op de weg", "blokkeert"],
        ],
    },
    Rule {
        groups: &[
            &[
                "verkeerslicht",
                "verkeerslichten",
                "stoplicht",
                "stoplichten",
            ],
            &[
                "doen het niet",
                "doet het niet",
                "uitgevallen",
                "kriskras",
                "chaos",
            ],
        ],
    },
];

/// All rule prefixes, bucketed by their first two bytes; `(rule, group)` for each pattern.
struct Compiled {
    /// Patterns without the leading space (each starts at a word).
    pats: Vec<&'static str>,
    /// Per pattern: its first 16 bytes (zero-padded), the mask of those bytes and its length.
    heads: Vec<(u128, u128, u32)>,
    /// Owners of pattern `k`: `owner_list[owner_at[k]..owner_at[k + 1]]`.
    owner_at: Vec<u16>,
    owner_list: Vec<(u8, u8)>,
    /// Patterns of bucket `b`: `bucket_list[bucket_at[b]..bucket_at[b + 1]]`, where
    /// `b = class(first byte) * CLASSES + class(second byte)`.
    bucket_at: Vec<u16>,
    bucket_list: Vec<u16>,
}

/// Byte classes for the buckets: 0 for anything but a lowercase ASCII letter or a digit.
const CLASSES: usize = 37;

#[inline]
fn class(b: u8) -> usize {
    usize::from(CLASS[usize::from(b)])
}

/// [`class`] of every byte.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            x @ b'a'..=b'z' => x - b'a' + 1,
            x @ b'0'..=b'9' => x - b'0' + 27,
            _ => 0,
        };
        b += 1;
    }
    t
};

/// Little-endian value of up to 16 bytes, zero-padded.
#[inline]
fn le16(b: &[u8]) -> u128 {
    let mut x = [0u8; 16];
    for (o, v) in x.iter_mut().zip(b) {
        *o = *v;
    }
    u128::from_le_bytes(x)
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut pats: Vec<&'static str> = Vec::new();
        let mut owner: Vec<Vec<(u8, u8)>> = Vec::new();
        for (ri, rule) in RULES.iter().enumerate() {
            for (gi, group) in rule.groups.iter().enumerate() {
                for p in *group {
                    match pats.iter().position(|x| x == p) {
                        Some(k) => owner[k].push((ri as u8, gi as u8)),
                        None => {
                            pats.push(p);
                            owner.push(vec![(ri as u8, gi as u8)]);
                        }
                    }
                }
            }
        }
        let mut buckets: Vec<Vec<u16>> = vec![Vec::new(); CLASSES * CLASSES];
        for (k, p) in pats.iter().enumerate() {
            let b = p.as_bytes();
            let c1 = b.get(1).copied().map_or(0, class);
            buckets[class(b[0]) * CLASSES + c1].push(k as u16);
        }
        let heads = pats
            .iter()
            .map(|p| {
                let b = p.as_bytes();
                let n = b.len().min(16);
                let mask = if n == 16 {
                    u128::MAX
                } else {
                    (1u128 << (8 * n)) - 1
                };
                (le16(&b[..n]), mask, b.len() as u32)
            })
            .collect();
        let mut owner_at = vec![0u16];
        let mut owner_list = Vec::new();
        for o in &owner {
            owner_list.extend_from_slice(o);
            owner_at.push(owner_list.len() as u16);
        }
        let mut bucket_at = vec![0u16];
        let mut bucket_list = Vec::new();
        for b in &buckets {
            bucket_list.extend_from_slice(b);
            bucket_at.push(bucket_list.len() as u16);
        }
        Compiled {
            pats,
            heads,
            owner_at,
            owner_list,
            bucket_at,
            bucket_list,
        }
    })
}

/// Evaluate the rules in one pass over the tokens; returns the evidence words (empty when
/// not urgent). `spans` are the tokens of the folded text.
///
/// A pattern `" prefix"` can only match where a space is followed by a token, so the
/// patterns are tried at each token start. The hit kept per (rule, group) is the one an
/// overlapping multi-pattern scan reports first: the smallest end, then the smallest start.
pub(crate) fn evidence(text: &str, folded: &Folded, spans: &[(u32, u32)]) -> Vec<String> {
    let c = compiled();
    let ft = folded.text.as_str();
    let fb = ft.as_bytes();
    // First hit per (rule, group): (end, folded start of the word); u32::MAX = none.
    let mut first = [[(u32::MAX, u32::MAX); 4]; RULES.len()];
    let mut any = false;
    for &(s, _) in spans {
        let su = s as usize;
        // The folded text ends with a space, so `su + 1` is in bounds.
        let b = class(fb[su]) * CLASSES + class(fb[su + 1]);
        let list = &c.bucket_list[usize::from(c.bucket_at[b])..usize::from(c.bucket_at[b + 1])];
        if list.is_empty() {
            continue;
        }
        let here = if su + 16 <= fb.len() {
            let mut x = [0u8; 16];
            x.copy_from_slice(&fb[su..su + 16]);
            u128::from_le_bytes(x)
        } else {
            le16(&fb[su..])
        };
        for &k in list {
            let (v, mask, len) = c.heads[k as usize];
            if here & mask != v
                || (len > 16 && !fb[su..].starts_with(c.pats[k as usize].as_bytes()))
            {
                continue;
            }
            let hit = (s + len, s);
            let owners = &c.owner_list
                [usize::from(c.owner_at[k as usize])..usize::from(c.owner_at[k as usize + 1])];
            for &(ri, gi) in owners {
                let slot = &mut first[usize::from(ri)][usize::from(gi)];
                if hit < *slot {
                    *slot = hit;
                    any = true;
                }
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    if !any {
        return out;
    }
    for (ri, rule) in RULES.iter().enumerate() {
        let n = rule.groups.len();
        if first[ri][..n].iter().any(|h| h.1 == u32::MAX) {
            continue;
        }
        for &(_, s) in &first[ri][..n] {
            let s = s as usize;
            let e = ft[s..].find(' ').map_or(ft.len(), |k| s + k);
            if e <= s {
                continue;
            }
            let (os, oe) = folded.original_span(s, e, text);
            let w = &text[os..oe];
            if !out.iter().any(|x| x == w) {
                out.push(w.to_string());
            }
        }
    }
    out
}

/// The former definition: one overlapping Aho-Corasick scan of `" prefix"` patterns over the
/// folded text (the reference the token scan is tested against).
#[cfg(test)]
fn evidence_reference(text: &str, folded: &Folded) -> Vec<String> {
    use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};
    let c = compiled();
    let pats: Vec<String> = c.pats.iter().map(|p| format!(" {p}")).collect();
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&pats)
        .expect("urgency patterns build");
    let ft = folded.text.as_str();
    let mut first: Vec<[Option<u32>; 4]> = vec![[None; 4]; RULES.len()];
    let mut any = false;
    for m in ac.find_overlapping_iter(ft) {
        let k = m.pattern().as_usize();
        let owners = &c.owner_list[usize::from(c.owner_at[k])..usize::from(c.owner_at[k + 1])];
        for &(ri, gi) in owners {
            let slot = &mut first[ri as usize][gi as usize];
            if slot.is_none() {
                *slot = Some(m.start() as u32 + 1);
                any = true;
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    if !any {
        return out;
    }
    for (ri, rule) in RULES.iter().enumerate() {
        let n = rule.groups.len();
        if first[ri][..n].iter().any(Option::is_none) {
            continue;
        }
        for s in first[ri][..n].iter().flatten() {
            let s = *s as usize;
            let e = ft[s..].find(' ').map_or(ft.len(), |k| s + k);
            if e <= s {
                continue;
            }
            let (os, oe) = folded.original_span(s, e, text);
            let w = text[os..oe].to_string();
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::fold;

    fn ev(t: &str) -> Vec<String> {
        let f = fold(t);
        let mut spans = Vec::new();
        crate::normalize::token_spans(&f.text, &mut spans);
        evidence(t, &f, &spans)
    }

    #[test]
    fn fires_on_danger() {
        assert!(!ev("Inbraak bezig bij de buren!").is_empty());
        assert!(!ev("Ik ruik gas in de keuken").is_empty());
        assert!(!ev("Grote boom dwars over de weg").is_empty());
        assert!(ev("Wanneer wordt het grofvuil opgehaald?").is_empty());
    }

    #[test]
    fn token_scan_matches_reference_scan() {
        let train = include_str!("../data/training.jsonl");
        let mut texts: Vec<String> = train
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|j| j["text"].as_str().map(str::to_string))
            .collect();
        // Every pattern, alone and in company, to exercise overlapping hits of one group.
        let pats = &compiled().pats;
        for (i, p) in pats.iter().enumerate() {
            let q = pats[(i * 7 + 3) % pats.len()];
            let r = pats[(i * 13 + 5) % pats.len()];
            texts.push((*p).to_string());
            texts.push(format!("x {p}en {q} {r}"));
            texts.push(format!("{q} {p} {p}s {r} {q}"));
        }
        for t in RULES.iter().flat_map(|r| r.groups.iter()) {
            texts.push(t.join(" "));
            texts.push(t.iter().rev().copied().collect::<Vec<_>>().join(" zz "));
        }
        for t in &texts {
            let f = fold(t);
            let mut spans = Vec::new();
            crate::normalize::token_spans(&f.text, &mut spans);
            assert_eq!(evidence(t, &f, &spans), evidence_reference(t, &f), "{t}");
        }
    }
}
