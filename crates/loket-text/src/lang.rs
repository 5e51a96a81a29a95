//! Language of a message from scripts, special letters and function words, so it can be
//! routed to an agent who reads it. Dutch is the default for short or unclear text.

use crate::fxhash::FxMap;
use std::sync::OnceLock;

/// Function words per language (folded forms). Kept to frequent, distinctive words.
const PROFILES: &[(&str, &[&str])] = &[
    (
        "nl",
        &[
            "de", "het", "een", "en", "is", "ik", "niet", "dat", "van", "op", "te", "zijn", "er",
            "maar", "ook", "wij", "we", "bij", "voor", "met", "hoe", "wat", "kan", "nog", "al",
            "deze", "die", "onze", "mijn", "wordt", "geen", "weet", "iemand", "graag", "gemeente",
            "straat", "heb", "hebben", "was", "dit", "naar", "u", "uw", "waarom", "wanneer",
            "sinds", "weken", "staat", "ligt", "komt", "wel", "zo", "om", "ons", "jullie", "moet",
            "mag",
        ],
    ),
    (
        "en",
        &[
            "the", "and", "is", "i", "to", "of", "a", "in", "my", "it", "for", "you", "on", "this",
            "that", "with", "we", "are", "not", "have", "can", "please", "our", "was", "be", "do",
            "there", "street", "how", "what", "when", "hello", "hi", "dear", "thanks", "regards",
            "would", "could", "since", "been", "at", "from", "your", "an",
        ],
    ),
    (
        "fy",
        &[
            "ik", "bin", "de", "it", "yn", "fan", "en", "net", "wy", "ús", "us", "hjir", "dêr",
            "der", "wat", "hoe", "binne", "wurdt", "hie", "ha", "hawwe", "mei", "foar", "troch",
            "oer", "strjitte", "wenje", "wenne", "sûnt", "no", "moarn", "jûn", "hûs", "mar", "ek",
            "dit", "dat", "kin", "moat", "wa", "skilje", "graach", "tige", "goeie", "gemeente",
            "wike", "stikken", "by", "nei", "om", "sa", "al", "wêr", "hjoed", "gjin", "dochs",
            "lêste",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "ich", "nicht", "ein", "eine", "wir", "sie", "mit",
            "auf", "für", "fur", "bitte", "unsere", "strasse", "seit", "wochen", "wird", "haben",
            "auch", "gemeinde", "hallo", "danke", "schon", "noch", "wie", "warum", "kann", "wohne",
            "mein", "meine",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "et", "est", "je", "ne", "pas", "une", "un", "nous", "vous", "pour",
            "avec", "dans", "sur", "bonjour", "merci", "rue", "depuis", "mon", "ma", "mes",
            "notre", "il", "y", "a", "des", "du", "que", "qui",
        ],
    ),
    (
        "es",
        &[
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "yo",
            "no",
            "una",
            "un",
            "que",
            "de",
            "en",
            "por",
            "para",
            "con",
            "hola",
            "gracias",
            "calle",
            "mi",
            "desde",
            "semanas",
            "nuestra",
            "ayuntamiento",
        ],
    ),
    (
        "tr",
        &[
            "ve",
            "bir",
            "bu",
            "ben",
            "biz",
            "icin",
            "çok",
            "cok",
            "var",
            "yok",
            "mi",
            "mı",
            "ne",
            "nasıl",
            "nasil",
            "merhaba",
            "lütfen",
            "lutfen",
            "teşekkürler",
            "tesekkurler",
            "sokak",
            "sokağımızdaki",
            "gündür",
            "gundur",
            "evimizin",
            "önünde",
            "onunde",
            "belediye",
            "değil",
            "degil",
            "ama",
            "da",
            "de",
            "ile",
            "gibi",
            "olarak",
            "oldu",
            "ediyor",
            "istiyorum",
            "yardım",
            "yardim",
            "hala",
            "hâlâ",
            "gün",
            "gun",
            "kadar",
            "çocuk",
            "neden",
        ],
    ),
    (
        "pl",
        &[
            "i",
            "w",
            "nie",
            "na",
            "jest",
            "się",
            "sie",
            "to",
            "z",
            "że",
            "ze",
            "do",
            "od",
            "jak",
            "co",
            "mam",
            "moje",
            "mój",
            "moj",
            "dzień",
            "dzien",
            "dobry",
            "proszę",
            "prosze",
            "dziękuję",
            "dziekuje",
            "ulica",
            "ulicy",
            "gmina",
            "gminy",
            "mieszkam",
            "przed",
            "już",
            "juz",
            "tygodni",
            "dlaczego",
            "czy",
            "bardzo",
            "ktoś",
            "naszej",
        ],
    ),
    (
        "pap",
        &[
            "mi", "ta", "na", "di", "i", "e", "un", "no", "tin", "bo", "nos", "mester", "por",
            "fabor", "bon", "dia", "tardi", "anochi", "kaya", "kas", "hopi", "awor", "kon", "ki",
            "pa", "ku", "den", "ma", "masha", "danki", "biba", "drecha", "esaki", "semana",
            "kibra", "kibrá", "yen", "tambe", "sí", "bai", "skur", "miedu",
        ],
    ),
];

/// Detect the language of `text`. `tokens` are its folded tokens.
#[cfg(test)]
pub(crate) fn detect(text: &str, tokens: &[&str]) -> &'static str {
    let mut counts = [0.0f32; 16];
    for t in tokens {
        add_token(&mut counts, token_mask(t));
    }
    detect_counts(text, &counts)
}

/// Bitmask of the profiles containing a folded token.
#[inline]
pub(crate) fn token_mask(t: &str) -> u16 {
    profile_index().get(t).copied().unwrap_or(0)
}

/// Count a token with profile mask `mask`.
#[inline]
pub(crate) fn add_token(counts: &mut [f32; 16], mask: u16) {
    if mask == 0 {
        return;
    }
    for (i, c) in counts.iter_mut().enumerate().take(PROFILES.len()) {
        if mask & (1 << i) != 0 {
            *c += 1.0;
        }
    }
}

/// Every folded profile word (for the engine's token table).
pub(crate) fn vocabulary() -> impl Iterator<Item = &'static str> {
    profile_index().keys().map(String::as_str)
}

/// [`detect_counts`] given the ASCII letter count of the text and the counts of its other
/// characters (as [`crate::normalize::fold`] gathers them with [`ScriptCounts::add`]).
pub(crate) fn detect_counts_folded(
    ascii_letters: usize,
    sc: &ScriptCounts,
    counts: &[f32; 16],
) -> &'static str {
    decide(ascii_letters + sc.letters, sc, counts)
}

/// Letters of scripts and languages other than plain ASCII.
#[derive(Default, Clone, Copy)]
pub(crate) struct ScriptCounts {
    letters: usize,
    arabic: usize,
    tr_chars: usize,
    pl_chars: usize,
    fy_chars: usize,
    de_chars: usize,
    other_script: Option<&'static str>,
    other: usize,
}

impl ScriptCounts {
    /// Count one non-ASCII character.
    pub(crate) fn add(&mut self, c: char) {
        if !c.is_alphabetic() {
            return;
        }
        self.letters += 1;
        match c {
            '\u{0600}'..='\u{06FF}'
            | '\u{0750}'..='\u{077F}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFF}' => self.arabic += 1,
            'ğ' | 'Ğ' | 'ş' | 'Ş' | 'ı' | 'İ' => self.tr_chars += 1,
            'ą' | 'ę' | 'ł' | 'Ł' | 'ń' | 'ś' | 'ź' | 'ż' | 'Ż' | 'ć' | 'Ś' => {
                self.pl_chars += 1
            }
            'ê' | 'û' | 'ô' | 'â' => self.fy_chars += 1,
            'ß' | 'ä' => self.de_chars += 1,
            '\u{0400}'..='\u{04FF}' => {
                self.other += 1;
                self.other_script = Some("ru");
            }
            '\u{0370}'..='\u{03FF}' => {
                self.other += 1;
                self.other_script = Some("el");
            }
            '\u{4E00}'..='\u{9FFF}' => {
                self.other += 1;
                self.other_script = Some("zh");
            }
            _ => {}
        }
    }
}

/// Detect the language of `text` from its scripts and the profile counts of its tokens.
#[cfg(test)]
pub(crate) fn detect_counts(text: &str, counts: &[f32; 16]) -> &'static str {
    let mut sc = ScriptCounts::default();
    let mut ascii = 0;
    for c in text.chars() {
        if c.is_ascii() {
            ascii += usize::from(c.is_ascii_alphabetic());
        } else {
            sc.add(c);
        }
    }
    detect_counts_folded(ascii, &sc, counts)
}

/// The language from the letter counts and the profile counts.
fn decide(letters: usize, sc: &ScriptCounts, counts: &[f32; 16]) -> &'static str {
    let &ScriptCounts {
        arabic,
        tr_chars,
        pl_chars,
        fy_chars,
        de_chars,
        other_script,
        other,
        ..
    } = sc;
    if letters > 0 && arabic * 3 >= letters {
        return "ar";
    }
    if letters > 0 && other * 3 >= letters {
        return other_script.unwrap_or("nl");
    }
    let mut best = ("nl", 0.0f32);
    for (i, (lang, _)) in PROFILES.iter().enumerate() {
        let score = counts[i]
            + match *lang {
                "tr" => tr_chars as f32 * 1.5,
                "pl" => pl_chars as f32 * 1.5,
                "fy" => fy_chars as f32 * 1.0,
                "de" => de_chars as f32 * 1.5,
                "nl" => 0.5, // ties go to Dutch
                _ => 0.0,
            };
        if score > best.1 {
            best = (lang, score);
        }
    }
    // A profile must clearly beat Dutch, since Dutch messages borrow English words.
    if best.0 != "nl" && best.1 < (counts[0] + 0.5) * 1.2 + 1.0 {
        return "nl";
    }
    best.0
}

/// Word -> bitmask of the profiles containing it (folded), built once.
fn profile_index() -> &'static FxMap<String, u16> {
    static IDX: OnceLock<FxMap<String, u16>> = OnceLock::new();
    IDX.get_or_init(|| {
        let mut m: FxMap<String, u16> = FxMap::default();
        for (i, (_, words)) in PROFILES.iter().enumerate() {
            for w in *words {
                *m.entry(crate::normalize::fold_plain(w)).or_insert(0) |= 1 << i;
            }
        }
        m
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(t: &str) -> &'static str {
        let f = crate::normalize::fold(t);
        let toks: Vec<&str> = f.text.split(' ').filter(|x| !x.is_empty()).collect();
        detect(t, &toks)
    }

    #[test]
    fn languages() {
        assert_eq!(
            d("Er ligt een losse stoeptegel in de straat, kan iemand dat maken?"),
            "nl"
        );
        assert_eq!(
            d("Hello, the street light in front of my house is broken since two weeks."),
            "en"
        );
        assert_eq!(d("مرحبا، أنا أسكن في Apeldoorn ولدي ديون كثيرة"), "ar");
        assert_eq!(
            d("Merhaba, sokağımızdaki çöp konteyneri 3 gündür dolu, lütfen boşaltın"),
            "tr"
        );
        assert_eq!(
            d("Dzień dobry, lampa przed moim domem nie działa już od tygodnia."),
            "pl"
        );
        assert_eq!(
            d("Bon dia, e lampi di kaya dilanti mi kas ta kibra. Por fabor drecha esaki."),
            "pap"
        );
        assert_eq!(
            d("De strjitlampen by ús yn 'e strjitte binne al in wike stikken."),
            "fy"
        );
        assert_eq!(d(""), "nl");
    }
}
