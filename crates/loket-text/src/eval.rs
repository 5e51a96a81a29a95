//! Evaluation on labelled JSONL (the format of `shared/eval/berichten-dev.jsonl`).

use crate::{Input, Sentiment, engine, topics};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One labelled message; unknown fields are ignored so any file of the format works.
#[derive(Deserialize, Debug, Clone)]
pub struct Labelled {
    pub text: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub gemeente_code: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub sentiment: Option<String>,
    #[serde(default)]
    pub urgent: Option<bool>,
    #[serde(default)]
    pub pii: Vec<String>,
    #[serde(default)]
    pub history: Vec<String>,
}

/// The evaluation report; serialises to exactly these keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EvalReport {
    pub gemeente_accuracy: f64,
    pub gemeente_wrong: f64,
    pub topic_accuracy: f64,
    pub topic_group_accuracy: f64,
    pub sentiment_macro_f1: f64,
    pub urgent_recall: f64,
    pub urgent_precision: f64,
    pub pii_recall: f64,
    pub n: usize,
    pub messages_per_second: f64,
}

/// Why a file could not be evaluated.
#[derive(thiserror::Error, Debug)]
pub enum EvalError {
    #[error("line {line}: {source}")]
    Parse {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("no labelled messages")]
    Empty,
}

/// Parse labelled JSONL (blank lines skipped).
pub fn parse(lines: &str) -> Result<Vec<Labelled>, EvalError> {
    let mut out = Vec::new();
    for (i, l) in lines.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(l).map_err(|source| EvalError::Parse {
            line: i + 1,
            source,
        })?);
    }
    Ok(out)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Run the shared engine over labelled messages and compute the report.
pub fn evaluate(lines: &str) -> Result<EvalReport, EvalError> {
    let items = parse(lines)?;
    if items.is_empty() {
        return Err(EvalError::Empty);
    }
    let e = engine();
    let start = Instant::now();
    let results: Vec<_> = items
        .iter()
        .map(|m| {
            e.analyse(&Input {
                text: &m.text,
                lat: m.lat,
                lon: m.lon,
                history: &m.history,
            })
        })
        .collect();
    let secs = start.elapsed().as_secs_f64();

    let (mut g_lab, mut g_ok, mut g_wrong) = (0, 0, 0);
    let (mut t_n, mut t_ok, mut tg_ok) = (0, 0, 0);
    let (mut u_tp, mut u_fn, mut u_fp) = (0, 0, 0);
    let (mut pii_n, mut pii_ok) = (0, 0);
    let mut conf = [[0usize; 3]; 3];
    for (m, a) in items.iter().zip(&results) {
        let got = a.gemeente.as_ref().map(|g| g.code.as_str());
        if let Some(lab) = m.gemeente_code.as_deref() {
            g_lab += 1;
            if got == Some(lab) {
                g_ok += 1;
            }
        }
        if got.is_some() && got != m.gemeente_code.as_deref() {
            g_wrong += 1;
        }
        if let Some(t) = m.topic.as_deref() {
            t_n += 1;
            if let Some(at) = &a.topic {
                if at.code == t {
                    t_ok += 1;
                }
                if topics::group_of(&at.code) == topics::group_of(t) {
                    tg_ok += 1;
                }
            }
        }
        if let Some(s) = m.sentiment.as_deref().and_then(Sentiment::parse) {
            conf[s as usize][a.sentiment as usize] += 1;
        }
        match (m.urgent, a.urgent) {
            (Some(true), true) => u_tp += 1,
            (Some(true), false) => u_fn += 1,
            (Some(false), true) => u_fp += 1,
            _ => {}
        }
        for p in &m.pii {
            pii_n += 1;
            if !a.redacted.contains(p.as_str()) {
                pii_ok += 1;
            }
        }
    }
    let mut f1s = Vec::new();
    #[allow(clippy::needless_range_loop)] // a confusion matrix reads best with indices
    for c in 0..3 {
        let tp = conf[c][c] as f64;
        let fp: f64 = (0..3).filter(|&r| r != c).map(|r| conf[r][c] as f64).sum();
        let fnn: f64 = (0..3).filter(|&p| p != c).map(|p| conf[c][p] as f64).sum();
        if tp + fp + fnn > 0.0 {
            f1s.push(2.0 * tp / (2.0 * tp + fp + fnn));
        }
    }
    let r4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
    Ok(EvalReport {
        gemeente_accuracy: r4(ratio(g_ok, g_lab)),
        gemeente_wrong: r4(ratio(g_wrong, items.len())),
        topic_accuracy: r4(ratio(t_ok, t_n)),
        topic_group_accuracy: r4(ratio(tg_ok, t_n)),
        sentiment_macro_f1: r4(if f1s.is_empty() {
            1.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        }),
        urgent_recall: r4(ratio(u_tp, u_tp + u_fn)),
        urgent_precision: r4(ratio(u_tp, u_tp + u_fp)),
        pii_recall: r4(ratio(pii_ok, pii_n)),
        n: items.len(),
        messages_per_second: (items.len() as f64 / secs.max(1e-9)).round(),
    })
}
