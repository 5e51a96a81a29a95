//! loket-text: the Dutch text engine of Loket.
//!
//! One call, [`Engine::analyse`], tells which municipality a message is about (with
//! evidence), its topic, sentiment, urgency, language and personal data. Everything is pure:
//! the tables are compiled in and the models are trained from compiled-in data when the
//! engine is built, so results are reproducible and nothing is read at run time.

mod classify;
pub mod eval;
mod fxhash;
pub mod gemeenten;
mod lang;
mod normalize;
pub mod pii;
mod resolver;
mod search;
mod sentiment;
pub mod topics;
mod urgency;

#[doc(hidden)]
pub use classify::Params;
use classify::softmax;
pub use gemeenten::Gemeente;
pub use normalize::tokens;
pub use pii::PiiSpan;
pub use resolver::{GemeenteMatch, THRESHOLD};
pub use search::{search_tokens, stem_nl};
pub use sentiment::Sentiment;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
pub use topics::{Topic, TopicAlternative, TopicMatch};

/// One message to analyse.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    pub text: &'a str,
    /// Coordinates a web form sent with the message (WGS84).
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// CBS codes of the sender's earlier messages (may be empty).
    pub history: &'a [String],
}

impl<'a> Input<'a> {
    /// A message with text only.
    pub fn text(text: &'a str) -> Input<'a> {
        Input {
            text,
            lat: None,
            lon: None,
            history: &[],
        }
    }
}

/// Everything the engine found in one message. The JSON shape is part of the API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Analysis {
    pub gemeente: Option<GemeenteMatch>,
    /// Up to three candidates, also when `gemeente` is `None`, for one-click triage.
    pub candidates: Vec<GemeenteMatch>,
    pub topic: Option<TopicMatch>,
    pub sentiment: Sentiment,
    pub urgent: bool,
    pub urgency_evidence: Vec<String>,
    pub language: String,
    pub pii: Vec<PiiSpan>,
    pub redacted: String,
}

const TRAINING_JSONL: &str = include_str!("../data/training.jsonl");
const LEXICON_TSV: &str = include_str!("../data/lexicon.tsv");

/// Texts longer than this are analysed on their first part only (bounded work per message).
const MAX_ANALYSED_BYTES: usize = 8 * 1024;

/// A labelled line of the training file.
#[derive(Deserialize)]
struct TrainLine {
    text: String,
    topic: String,
    #[serde(default)]
    sentiment: Option<String>,
}

/// The text engine. Build once (a fraction of a second) and share; it is `Send + Sync`.
pub struct Engine {
    resolver: resolver::Resolver,
    topic_codes: Vec<&'static str>,
    /// Group index of every sub-topic, and the number of groups.
    topic_group: Vec<usize>,
    groups: usize,
    models: classify::Models,
}

/// The shared engine, built on first use.
pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(Engine::new)
}

/// Redact personal data (BSN, IBAN, phone, e-mail, licence plate) from a text.
pub fn redact(text: &str) -> String {
    pii::redact_spans(text, &pii::find(text))
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// Build the gazetteer and train the topic and sentiment models from compiled-in data.
    pub fn new() -> Engine {
        Engine::with_training(TRAINING_JSONL, Params::default())
    }

    /// Build with another training file (JSONL lines with `text`, `topic`, `sentiment`) and
    /// hyper-parameters. For validation experiments; the server uses [`engine`].
    #[doc(hidden)]
    pub fn with_training(training_jsonl: &str, params: Params) -> Engine {
        let lines: Vec<TrainLine> = training_jsonl
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let topic_codes: Vec<&'static str> = topics::leaves().map(|t| t.code).collect();
        let mut group_names: Vec<&str> = Vec::new();
        let topic_group: Vec<usize> = topic_codes
            .iter()
            .map(|c| {
                let g = topics::group_of(c);
                match group_names.iter().position(|x| *x == g) {
                    Some(i) => i,
                    None => {
                        group_names.push(g);
                        group_names.len() - 1
                    }
                }
            })
            .collect();
        let folded: Vec<String> = lines
            .iter()
            .map(|l| normalize::fold(&l.text).text)
            .collect();
        let mut lexicon: Vec<(usize, String)> = Vec::new();
        for line in LEXICON_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((code, words)) = line.split_once('\t')
                && let Some(ci) = topic_codes.iter().position(|c| *c == code)
            {
                lexicon.push((ci, normalize::fold_plain(words)));
            }
        }
        let sent_lex = sentiment::Lexicon::new();
        let topics_idx: Vec<Option<usize>> = lines
            .iter()
            .map(|l| topic_codes.iter().position(|c| *c == l.topic))
            .collect();
        let sents: Vec<Option<usize>> = lines
            .iter()
            .map(|l| {
                l.sentiment
                    .as_deref()
                    .and_then(Sentiment::parse)
                    .map(|s| s as usize)
            })
            .collect();
        let cues: Vec<sentiment::Cues> = lines
            .iter()
            .zip(&folded)
            .map(|(l, f)| sent_lex.cues(f, &l.text))
            .collect();
        let mut models = classify::Models::train(
            params,
            topic_codes.len(),
            &topic_group,
            &folded,
            &topics_idx,
            &sents,
            &cues,
            &lexicon,
            &sent_lex,
        );
        let resolver = resolver::Resolver::new();
        models.add_places(resolver.heads());
        Engine {
            resolver,
            topic_codes,
            topic_group,
            groups: group_names.len(),
            models,
        }
    }

    /// Analyse one message. Never panics; very long texts are analysed on their first 8 KiB
    /// (PII is still found and redacted in the whole text).
    pub fn analyse(&self, input: &Input) -> Analysis {
        let full = input.text;
        let text = if full.len() > MAX_ANALYSED_BYTES {
            let mut cut = MAX_ANALYSED_BYTES;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            &full[..cut]
        } else {
            full
        };
        let folded = normalize::fold(text);
        let pii = pii::find(full);
        let redacted = pii::redact_spans(full, &pii);
        // One lookup per token serves the resolver, the models and the language profiles.
        let mut spans: Vec<(u32, u32)> = Vec::with_capacity(64);
        normalize::token_spans(&folded.text, &mut spans);
        let mut toks = Vec::with_capacity(spans.len());
        self.models.toks_at(&folded.text, &spans, &mut toks);
        let heads: Vec<(u8, u32)> = toks.iter().map(|t| (t.place_len, t.place_id)).collect();
        let (gemeente, candidates) = self.resolver.resolve(
            text,
            &folded,
            &spans,
            &heads,
            input.lat,
            input.lon,
            input.history,
        );
        let mut s = classify::Scores {
            topic: Vec::with_capacity(self.models.classes),
            sent: [0.0; 3],
            lang: [0.0; 16],
        };
        self.models
            .score_tokens(&folded.text, &spans, &toks, text, &mut s);
        let sentiment = Sentiment::ALL[(0..3)
            .max_by(|&a, &b| s.sent[a].total_cmp(&s.sent[b]))
            .unwrap_or(1)];
        let topic = self.topic_of(&mut s.topic);
        let urgency_evidence = urgency::evidence(text, &folded, &spans);
        let language =
            lang::detect_counts_folded(folded.ascii_letters, &folded.scripts, &s.lang).to_string();
        Analysis {
            gemeente,
            candidates,
            topic,
            sentiment,
            urgent: !urgency_evidence.is_empty(),
            urgency_evidence,
            language,
            pii,
            redacted,
        }
    }

    fn topic_of(&self, all: &mut [f32]) -> Option<TopicMatch> {
        let n = self.topic_codes.len().min(all.len());
        if n == 0 {
            return None;
        }
        // Sub-topic logits, then group-model logits when there is a group model.
        let (scores, group_logits) = all.split_at_mut(n);
        let p = self.models.params();
        let t = p.temperature.max(1e-3);
        for x in scores.iter_mut() {
            *x /= t;
        }
        softmax(scores);
        let best = if p.group_vote {
            // The group with the largest total probability, then its best sub-topic.
            let mut g = [0.0f32; 32];
            for (i, &pr) in scores.iter().enumerate() {
                g[self.topic_group[i] % 32] += pr;
            }
            if group_logits.len() == self.groups && self.groups <= 32 {
                softmax(group_logits);
                let a = p.group_model;
                for (x, y) in g.iter_mut().zip(group_logits.iter()) {
                    *x = (1.0 - a) * *x + a * y;
                }
            }
            let bg = (0..self.groups.min(32))
                .max_by(|&a, &b| g[a].total_cmp(&g[b]))
                .unwrap_or(0);
            (0..n)
                .filter(|&i| self.topic_group[i] == bg)
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap_or(0)
        } else {
            (0..n)
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap_or(0)
        };
        let mut alt: [(usize, f32); 3] = [(usize::MAX, -1.0); 3];
        for (i, &pr) in scores.iter().enumerate() {
            if i == best {
                continue;
            }
            if pr > alt[2].1 {
                alt[2] = (i, pr);
                alt.sort_by(|a, b| b.1.total_cmp(&a.1));
            }
        }
        let round = |x: f32| (f64::from(x) * 100.0).round() / 100.0;
        Some(TopicMatch {
            code: self.topic_codes[best].to_string(),
            confidence: round(scores[best]),
            alternatives: alt
                .iter()
                .filter(|a| a.0 != usize::MAX)
                .map(|&(c, pr)| TopicAlternative {
                    code: self.topic_codes[c].to_string(),
                    confidence: round(pr),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }

    #[test]
    fn analysis_json_shape() {
        let a = engine().analyse(&Input::text(
            "Losse stoeptegel in Hoograven, bel 06-12345678",
        ));
        let v = serde_json::to_value(&a).unwrap();
        for k in [
            "gemeente",
            "candidates",
            "topic",
            "sentiment",
            "urgent",
            "language",
            "pii",
            "redacted",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["gemeente"]["code"], "GM0344");
        assert_eq!(v["pii"][0]["kind"], "telefoon");
        assert!(a.redacted.contains("[TELEFOON]"));
    }
}
