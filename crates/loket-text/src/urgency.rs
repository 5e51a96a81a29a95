//! Urgency (spoed): danger to people or property now. Recall matters more than precision,
//! so the rules are broad; each rule names the words that fired it as evidence.

use crate::normalize::Folded;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
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

/// All rule prefixes in one automaton; `(rule, group)` for each pattern.
struct Compiled {
    ac: AhoCorasick,
    owner: Vec<Vec<(u16, u8)>>,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut pats: Vec<String> = Vec::new();
        let mut owner: Vec<Vec<(u16, u8)>> = Vec::new();
        for (ri, rule) in RULES.iter().enumerate() {
            for (gi, group) in rule.groups.iter().enumerate() {
                for p in *group {
                    // Patterns start at a word: " prefix".
                    let pat = format!(" {p}");
                    match pats.iter().position(|x| *x == pat) {
                        Some(k) => owner[k].push((ri as u16, gi as u8)),
                        None => {
                            pats.push(pat);
                            owner.push(vec![(ri as u16, gi as u8)]);
                        }
                    }
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&pats)
            .expect("urgency patterns build");
        Compiled { ac, owner }
    })
}

/// Evaluate the rules in one pass; returns the evidence words (empty when not urgent).
pub(crate) fn evidence(text: &str, folded: &Folded) -> Vec<String> {
    let c = compiled();
    let ft = folded.text.as_str();
    // First hit per (rule, group): folded start of the word.
    let mut first: Vec<[Option<u32>; 4]> = vec![[None; 4]; RULES.len()];
    let mut any = false;
    for m in c.ac.find_overlapping_iter(ft) {
        for &(ri, gi) in &c.owner[m.pattern().as_usize()] {
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
        evidence(t, &fold(t))
    }

    #[test]
    fn fires_on_danger() {
        assert!(!ev("Inbraak bezig bij de buren!").is_empty());
        assert!(!ev("Ik ruik gas in de keuken").is_empty());
        assert!(!ev("Grote boom dwars over de weg").is_empty());
        assert!(ev("Wanneer wordt het grofvuil opgehaald?").is_empty());
    }
}
