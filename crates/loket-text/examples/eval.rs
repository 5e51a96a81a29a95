//! Run the evaluation on a labelled JSONL file: `cargo run --release -p loket-text --example eval -- FILE [--errors]`.
use loket_text::{Input, engine, eval};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/eval/berichten-dev.jsonl".into());
    let show = args.next().as_deref() == Some("--errors");
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
