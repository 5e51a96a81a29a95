//! Sentiment cues: the Pattern lexicon with negation and intensifiers, emoji and the
//! phrases of webcare ("schandalig", "top geregeld"). The cues become dense features of a
//! small model trained with the topic model, so their weights come from data.

use crate::fxhash::FxMap;
use serde::{Deserialize, Serialize};

/// Polarity of a message.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Negatief,
    Neutraal,
    Positief,
}

impl Sentiment {
    pub const ALL: [Sentiment; 3] = [
        Sentiment::Negatief,
        Sentiment::Neutraal,
        Sentiment::Positief,
    ];

    /// The label as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Negatief => "negatief",
            Sentiment::Neutraal => "neutraal",
            Sentiment::Positief => "positief",
        }
    }

    /// Parse a JSON label.
    pub fn parse(s: &str) -> Option<Sentiment> {
        Sentiment::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

const SENTIMENT_TSV: &str = include_str!("../data/sentiment.tsv");

const NEGATORS: &[&str] = &[
    "niet", "geen", "nooit", "niks", "niets", "not", "no", "never", "nie", "zonder", "nergens",
];
const INTENSIFIERS: &[&str] = &[
    "heel",
    "erg",
    "zeer",
    "super",
    "echt",
    "ontzettend",
    "enorm",
    "zo",
    "totaal",
    "hartstikke",
    "bijzonder",
    "vreselijk",
    "really",
    "very",
    "so",
    "extreem",
    "compleet",
    "helemaal",
    "ronduit",
];

/// Webcare words with a clear polarity that the adjective lexicon misses (folded).
const PHRASES: &[(&str, f32)] = &[
    ("schandalig", -1.0),
    ("belachelijk", -1.0),
    ("bizar", -0.8),
    ("waardeloos", -1.0),
    ("onacceptabel", -1.0),
    ("frustrerend", -0.8),
    ("irritant", -0.7),
    ("ergerlijk", -0.8),
    ("ergernis", -0.7),
    ("boos", -0.8),
    ("woedend", -1.0),
    ("zat", -0.4),
    ("klaar", -0.2),
    ("chaos", -0.7),
    ("kapot", -0.4),
    ("stuk", -0.3),
    ("vies", -0.6),
    ("smerig", -0.8),
    ("stinkt", -0.6),
    ("stank", -0.5),
    ("gevaarlijk", -0.6),
    ("levensgevaarlijk", -0.9),
    ("alweer", -0.5),
    ("weer", -0.2),
    ("nog", -0.1),
    ("steeds", -0.3),
    ("weken", -0.3),
    ("maanden", -0.3),
    ("niemand", -0.5),
    ("nooit", -0.4),
    ("overlast", -0.5),
    ("klacht", -0.4),
    ("teleurgesteld", -0.9),
    ("teleurstellend", -0.9),
    ("slecht", -0.8),
    ("beroerd", -0.8),
    ("jammer", -0.5),
    ("helaas", -0.4),
    ("bang", -0.6),
    ("angst", -0.5),
    ("onveilig", -0.7),
    ("zorgen", -0.4),
    ("lastig", -0.4),
    ("gedoe", -0.5),
    ("ellende", -0.8),
    ("drama", -0.7),
    ("snap", -0.2),
    ("ridiculous", -1.0),
    ("terrible", -1.0),
    ("unacceptable", -1.0),
    ("annoying", -0.7),
    ("disappointed", -0.9),
    ("broken", -0.4),
    ("dirty", -0.6),
    ("dangerous", -0.6),
    ("kotu", -0.8),
    ("rezalet", -1.0),
    ("maalesef", -0.5),
    ("skandal", -1.0),
    ("niestety", -0.5),
    ("bedankt", 0.9),
    ("dank", 0.8),
    ("dankjewel", 0.9),
    ("dankuwel", 0.9),
    ("bedank", 0.8),
    ("compliment", 1.0),
    ("complimenten", 1.0),
    ("pluim", 1.0),
    ("chapeau", 1.0),
    ("top", 0.8),
    ("super", 0.6),
    ("supervet", 1.0),
    ("fijn", 0.8),
    ("netjes", 0.8),
    ("keurig", 0.9),
    ("snel", 0.4),
    ("blij", 0.9),
    ("mooi", 0.7),
    ("leuk", 0.8),
    ("prachtig", 1.0),
    ("geweldig", 1.0),
    ("fantastisch", 1.0),
    ("tevreden", 0.8),
    ("goed", 0.5),
    ("geregeld", 0.3),
    ("opgelost", 0.6),
    ("vriendelijk", 0.8),
    ("behulpzaam", 0.9),
    ("hulde", 1.0),
    ("fan", 0.8),
    ("thanks", 0.9),
    ("thank", 0.9),
    ("great", 0.9),
    ("good", 0.5),
    ("excellent", 1.0),
    ("tesekkurler", 0.9),
    ("tesekkur", 0.9),
    ("dziekuje", 0.9),
    ("danki", 0.9),
    ("tige", 0.3),
];

/// Emoji and emoticons with polarity.
const EMOJI: &[(char, f32)] = &[
    ('😡', -1.0),
    ('🤬', -1.0),
    ('😠', -1.0),
    ('😤', -0.8),
    ('🙄', -0.7),
    ('🙃', -0.5),
    ('👎', -1.0),
    ('😞', -0.8),
    ('😢', -0.7),
    ('😭', -0.7),
    ('😩', -0.8),
    ('😫', -0.8),
    ('🤦', -0.8),
    ('💩', -0.6),
    ('😒', -0.7),
    ('😬', -0.4),
    ('😱', -0.6),
    ('👍', 0.9),
    ('😊', 0.9),
    ('🙂', 0.6),
    ('😀', 0.8),
    ('😃', 0.8),
    ('😄', 0.8),
    ('😁', 0.8),
    ('🙏', 0.6),
    ('❤', 1.0),
    ('💚', 1.0),
    ('💙', 1.0),
    ('💪', 0.8),
    ('👏', 1.0),
    ('🎉', 1.0),
    ('😍', 1.0),
    ('🥰', 1.0),
    ('🌳', 0.5),
    ('🌷', 0.5),
    ('🌸', 0.5),
    ('☀', 0.4),
    ('✨', 0.6),
    ('🎨', 0.5),
    ('📚', 0.4),
    ('🥳', 1.0),
    ('😎', 0.6),
];

/// Lexicon of polarities by folded form.
pub(crate) struct Lexicon {
    words: FxMap<String, f32>,
}

/// Dense sentiment cues of one message.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct Cues {
    pub pos: f32,
    pub neg: f32,
    pub emoji_pos: f32,
    pub emoji_neg: f32,
    pub exclaim: f32,
    pub question: f32,
    /// Number of tokens seen (for length normalisation).
    pub tokens: f32,
}

impl Lexicon {
    pub(crate) fn new() -> Lexicon {
        let mut words: FxMap<String, f32> = SENTIMENT_TSV
            .lines()
            .filter_map(|l| {
                let (w, p) = l.split_once('\t')?;
                Some((crate::normalize::fold_plain(w), p.parse().ok()?))
            })
            .collect();
        for &(w, p) in PHRASES {
            words.insert(w.to_string(), p);
        }
        Lexicon { words }
    }

    /// The role of one folded token for the cues: negator, intensifier, polarity.
    pub(crate) fn token_role(&self, t: &str) -> TokenRole {
        TokenRole {
            negator: NEGATORS.contains(&t),
            intensifier: INTENSIFIERS.contains(&t),
            polarity: self.words.get(t).copied(),
        }
    }

    /// Every single-word key the cues react to (for the engine's token table).
    pub(crate) fn vocabulary(&self) -> impl Iterator<Item = &str> + '_ {
        self.words
            .keys()
            .map(String::as_str)
            .chain(NEGATORS.iter().copied())
            .chain(INTENSIFIERS.iter().copied())
            .filter(|w| !w.contains(' '))
    }

    /// Cues from the folded tokens and the raw text (emoji, punctuation).
    pub(crate) fn cues(&self, folded: &str, raw: &str) -> Cues {
        let mut st = CueState::default();
        for t in folded.split(' ').filter(|t| !t.is_empty()) {
            st.token(self.token_role(t));
        }
        st.finish(raw)
    }
}

/// What a token means for the sentiment cues.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct TokenRole {
    pub negator: bool,
    pub intensifier: bool,
    pub polarity: Option<f32>,
}

/// Cues accumulated token by token (negation scope, intensifiers), then the raw text.
pub(crate) struct CueState {
    c: Cues,
    negate_left: u8,
    boost: f32,
}

impl Default for CueState {
    fn default() -> CueState {
        CueState {
            c: Cues::default(),
            negate_left: 0,
            boost: 1.0,
        }
    }
}

impl CueState {
    #[inline]
    pub(crate) fn token(&mut self, r: TokenRole) {
        self.c.tokens += 1.0;
        if r.negator {
            self.negate_left = 3;
            return;
        }
        if r.intensifier {
            self.boost = 1.5;
            return;
        }
        if let Some(p) = r.polarity {
            let mut v = p * self.boost;
            if self.negate_left > 0 {
                v = -v * 0.8;
            }
            if v > 0.0 {
                self.c.pos += v;
            } else {
                self.c.neg -= v;
            }
            self.negate_left = 0;
        }
        self.boost = 1.0;
        self.negate_left = self.negate_left.saturating_sub(1);
    }

    /// Add emoji, emoticons and punctuation of the raw text.
    pub(crate) fn finish(self, raw: &str) -> Cues {
        let mut c = self.c;
        for ch in raw.chars() {
            if ch.is_ascii() {
                match ch {
                    '!' => c.exclaim += 1.0,
                    '?' => c.question += 1.0,
                    _ => {}
                }
                continue;
            }
            if let Some(&(_, p)) = EMOJI.iter().find(|(e, _)| *e == ch) {
                if p > 0.0 {
                    c.emoji_pos += p;
                } else {
                    c.emoji_neg -= p;
                }
            }
        }
        if raw.contains(":(") || raw.contains(":-(") {
            c.emoji_neg += 1.0;
        }
        if raw.contains(":)") || raw.contains(":-)") || raw.contains(";)") {
            c.emoji_pos += 1.0;
        }
        c
    }
}

impl Cues {
    /// Squashed dense features for the sentiment model. With `len_norm > 0`, the lexicon,
    /// emoji and punctuation counts of a message longer than `len_norm` tokens are divided by
    /// the square root of its length in units of `len_norm`, so that a long e-mail with one
    /// complaint word does not weigh like a short rant full of them.
    pub(crate) fn dense(&self, len_norm: f32) -> [f32; 7] {
        let sq = |x: f32| x / (1.0 + x);
        let s = if len_norm > 0.0 && self.tokens > len_norm {
            (len_norm / self.tokens).sqrt()
        } else {
            1.0
        };
        [
            sq(self.pos * s),
            sq(self.neg * s),
            sq(self.emoji_pos * s),
            sq(self.emoji_neg * s),
            sq(self.exclaim * s),
            sq(self.question * s),
            sq(self.pos * s) - sq(self.neg * s),
        ]
    }
}
