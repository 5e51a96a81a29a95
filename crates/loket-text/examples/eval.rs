//! Run the evaluation on a labelled JSONL file: `cargo run --release -p loket-text --example eval -- FILE [--errors]`.
use loket_text::{Input, engine, eval};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/eval/berichten-dev.jsonl".into());
    let flag = args.next();
    let show = flag.as_deref() == Some("--errors");
    if flag.as_deref() == Some("--confusion") {
        confusion(&std::fs::read_to_string(&path).expect("read input"));
    }
    let data = std::fs::read_to_string(&path).expect("read input");
    if show {
        for m in eval::parse(&data).expect("parse") {
            let a = engine().analyse(&Input {
                text: &m.text,
                lat: m.lat,
                lon: m.lon,
                history: &m.history,
            });
            let got = a.gemeente.as_ref().map(|g| g.code.clone());
            let topic = a.topic.as_ref().map(|t| t.code.clone()).unwrap_or_default();
            let mut flags = Vec::new();
            if got != m.gemeente_code {
                flags.push(format!(
                    "GEM {:?} want {:?} cands {:?}",
                    got,
                    m.gemeente_code,
                    a.candidates
                        .iter()
                        .map(|c| format!("{} {} {:?}", c.code, c.confidence, c.evidence))
                        .collect::<Vec<_>>()
                ));
            }
            if Some(topic.clone()) != m.topic {
                flags.push(format!("TOPIC {} want {:?}", topic, m.topic));
            }
            if Some(a.sentiment.as_str().to_string()) != m.sentiment {
                flags.push(format!(
                    "SENT {} want {:?}",
                    a.sentiment.as_str(),
                    m.sentiment
                ));
            }
            if Some(a.urgent) != m.urgent {
                flags.push(format!(
                    "URG {} want {:?} {:?}",
                    a.urgent, m.urgent, a.urgency_evidence
                ));
            }
            if !flags.is_empty() {
                println!(
                    "--- {}\n    {}",
                    m.text.replace('\n', " "),
                    flags.join("\n    ")
                );
            }
        }
    }
    let r = eval::evaluate(&data).expect("evaluate");
    println!("{}", serde_json::to_string_pretty(&r).expect("json"));
}

/// Aggregate confusion of sentiment (rows: label, columns: prediction) and accuracy per
/// topic group; prints no message text.
fn confusion(data: &str) {
    use std::collections::BTreeMap;
    let mut m = [[0usize; 3]; 3];
    let mut groups: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut by: BTreeMap<String, [[usize; 3]; 3]> = BTreeMap::new();
    let raw: Vec<serde_json::Value> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    for (x, r) in eval::parse(data).expect("parse").into_iter().zip(&raw) {
        let a = engine().analyse(&Input {
            text: &x.text,
            lat: x.lat,
            lon: x.lon,
            history: &x.history,
        });
        if let Some(s) = x
            .sentiment
            .as_deref()
            .and_then(loket_text::Sentiment::parse)
        {
            let i = loket_text::Sentiment::ALL
                .iter()
                .position(|&v| v == s)
                .unwrap();
            let j = loket_text::Sentiment::ALL
                .iter()
                .position(|&v| v == a.sentiment)
                .unwrap();
            m[i][j] += 1;
            for k in ["channel", "difficulty", "language"] {
                if let Some(v) = r.get(k).and_then(|v| v.as_str()) {
                    by.entry(format!("{k}={v}")).or_default()[i][j] += 1;
                }
            }
            if let Some(t) = x.topic.as_deref().and_then(loket_text::topics::get) {
                by.entry(format!("kind={}", t.kind)).or_default()[i][j] += 1;
            }
            let len = if x.text.len() > 200 { "long" } else { "short" };
            by.entry(format!("len={len}")).or_default()[i][j] += 1;
        }
        if let Some(t) = &x.topic {
            let g = t.split('.').next().unwrap_or_default().to_string();
            let got = a.topic.as_ref().map(|t| t.code.clone()).unwrap_or_default();
            let e = groups.entry(g.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(&got == t);
            e.2 += usize::from(got.split('.').next() == Some(g.as_str()));
        }
    }
    println!("sentiment rows=label cols=pred (neg neu pos): {m:?}");
    for (k, m) in by {
        println!("{k:22} {m:?}");
    }
    for (g, (n, sub, grp)) in groups {
        println!("{g:16} n={n:3} topic={sub:3} group={grp:3}");
    }
}
