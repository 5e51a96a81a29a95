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

use classify::{Example, Featurizer, LinearModel, softmax};
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

/// Weight of one topic-lexicon hit relative to the model's logits.
const LEX_WEIGHT: f32 = 2.5;
/// Texts longer than this are analysed on their first part only (bounded work per message).
const MAX_ANALYSED_BYTES: usize = 8 * 1024;

/// Binary features scaled to unit length, so long e-mails do not shout over short tweets.
fn weighted(ids: &[u32]) -> Vec<(u32, f32)> {
    let v = 1.0 / (ids.len().max(1) as f32).sqrt();
    ids.iter().map(|&i| (i, v)).collect()
}

/// A labelled line of the training file.
#[derive(Deserialize)]
struct TrainLine {
    text: String,
    topic: String,
    #[serde(default)]
    sentiment: Option<String>,
}

/// The text engine. Build once (about 0.1 s) and share; it is `Send + Sync`.
pub struct Engine {
    resolver: resolver::Resolver,
    feats: Featurizer,
    topic_codes: Vec<&'static str>,
    topic_model: LinearModel,
    topic_lex: fxhash::FxMap<u32, Vec<u16>>,
    sent_lex: sentiment::Lexicon,
    sent_model: LinearModel,
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
        let lines: Vec<TrainLine> = TRAINING_JSONL
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let topic_codes: Vec<&'static str> = topics::leaves().map(|t| t.code).collect();
        let folded: Vec<String> = lines
            .iter()
            .map(|l| normalize::fold(&l.text).text)
            .collect();
        let mut lex_lines: Vec<(usize, String)> = Vec::new();
        for line in LEXICON_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((code, words)) = line.split_once('\t')
                && let Some(ci) = topic_codes.iter().position(|c| *c == code)
            {
                lex_lines.push((ci, normalize::fold(words).text));
            }
        }
        let vocab = folded
            .iter()
            .chain(lex_lines.iter().map(|l| &l.1))
            .flat_map(|t| t.split(' '))
            .filter(|t| !t.is_empty());
        let feats = Featurizer::new(vocab);
        let mut topic_lex: fxhash::FxMap<u32, Vec<u16>> = fxhash::FxMap::default();
        for (ci, words) in &lex_lines {
            for w in words.split(' ').filter(|w| !w.is_empty()) {
                let s = search::stemmer().stem(w);
                if let Some(id) = feats.stem_id(&s) {
                    let v = topic_lex.entry(id).or_default();
                    if !v.contains(&(*ci as u16)) {
                        v.push(*ci as u16);
                    }
                }
            }
        }
        let dim = feats.len();
        let mut topic_data = Vec::new();
        let mut sent_data = Vec::new();
        let sent_lex = sentiment::Lexicon::new();
        for (l, f) in lines.iter().zip(&folded) {
            let ids = weighted(&feats.doc_ids(f));
            if let Some(ci) = topic_codes.iter().position(|c| *c == l.topic) {
                topic_data.push(Example {
                    feats: ids.clone(),
                    class: ci,
                });
            }
            if let Some(s) = l.sentiment.as_deref().and_then(Sentiment::parse) {
                let mut sf = ids;
                sf.extend(sent_lex.cues(f, &l.text).features(dim as u32));
                sent_data.push(Example {
                    feats: sf,
                    class: s as usize,
                });
            }
        }
        let topic_model = LinearModel::train(dim, topic_codes.len(), &topic_data, 30, 1e-4);
        let sent_model = LinearModel::train(dim + 7, 3, &sent_data, 30, 1e-4);
        Engine {
            resolver: resolver::Resolver::new(),
            feats,
            topic_codes,
            topic_model,
            topic_lex,
            sent_lex,
            sent_model,
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
        let (gemeente, candidates) =
            self.resolver
                .resolve(text, &folded, input.lat, input.lon, input.history);
        let ids = self.feats.doc_ids(&folded.text);
        let topic = self.topic(&ids);
        let sentiment = self.sentiment(&ids, &folded.text, text);
        let urgency_evidence = urgency::evidence(text, &folded);
        let toks: Vec<&str> = folded.text.split(' ').filter(|t| !t.is_empty()).collect();
        let language = lang::detect(text, &toks).to_string();
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

    fn topic(&self, ids: &[u32]) -> Option<TopicMatch> {
        let n = self.topic_codes.len();
        if n == 0 {
            return None;
        }
        let feats = weighted(ids);
        let mut scores = vec![0.0f32; n];
        self.topic_model.scores_into(&feats, &mut scores);
        for id in ids {
            if let Some(classes) = self.topic_lex.get(id) {
                for &c in classes {
                    scores[c as usize] += LEX_WEIGHT;
                }
            }
        }
        softmax(&mut scores);
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let round = |x: f32| (f64::from(x) * 100.0).round() / 100.0;
        let (best, p) = ranked[0];
        Some(TopicMatch {
            code: self.topic_codes[best].to_string(),
            confidence: round(p),
            alternatives: ranked[1..4.min(ranked.len())]
                .iter()
                .map(|&(c, p)| TopicAlternative {
                    code: self.topic_codes[c].to_string(),
                    confidence: round(p),
                })
                .collect(),
        })
    }

    fn sentiment(&self, ids: &[u32], folded: &str, raw: &str) -> Sentiment {
        let mut feats: Vec<(u32, f32)> = ids.iter().map(|&i| (i, 1.0)).collect();
        feats.extend(
            self.sent_lex
                .cues(folded, raw)
                .features(self.feats.len() as u32),
        );
        let mut scores = [0.0f32; 3];
        self.sent_model.scores_into(&feats, &mut scores);
        let best = (0..3)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap_or(1);
        Sentiment::ALL[best]
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
