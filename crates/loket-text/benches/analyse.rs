//! Throughput of `Engine::analyse` on one core, against a bare baseline (lowercase + split)
//! over the same messages. Run: `cargo bench -p loket-text --bench analyse`.
use loket_text::{Input, engine};
use std::hint::black_box;
use std::time::Instant;

const TRAINING: &str = include_str!("../data/training.jsonl");
/// Messages the models were not trained on (words missing from the token table).
const HELDOUT: &str = include_str!("../data/heldout-formal.jsonl");

fn messages() -> Vec<String> {
    // Typical-length messages (posts, chats, e-mails and web forms of 60-400 bytes, about
    // 140 on average): the training texts, the held-out letters and a few with places and
    // personal data.
    let mut v: Vec<String> = TRAINING
        .lines()
        .chain(HELDOUT.lines())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|j| j["text"].as_str().map(str::to_string))
        .collect();
    v.push("Er ligt al weken een losse stoeptegel in Hoograven, bel me op 06-12345678.".into());
    v.push(
        "@gemeenteutrecht de lantaarnpaal bij de Oudegracht brandt niet, ik woon in Zeist".into(),
    );
    v.push(
        "Beste gemeente, mijn BSN is 111222333 en mijn IBAN NL91ABNA0417164300. Groet, Jan".into(),
    );
    v
}

fn run<F: FnMut(&str) -> usize>(msgs: &[String], rounds: usize, mut f: F) -> f64 {
    let start = Instant::now();
    let mut acc = 0usize;
    for _ in 0..rounds {
        for m in msgs {
            acc = acc.wrapping_add(f(m));
        }
    }
    black_box(acc);
    (msgs.len() * rounds) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let msgs = messages();
    let avg = msgs.iter().map(String::len).sum::<usize>() / msgs.len();
    let e = engine();
    // warm-up
    run(&msgs, 2, |m| e.analyse(&Input::text(m)).redacted.len());
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(40);
    let base = run(&msgs, rounds, |m| {
        m.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .count()
    });
    let full = run(&msgs, rounds, |m| e.analyse(&Input::text(m)).redacted.len());
    println!(
        "messages: {} (average {} bytes), rounds: {rounds}",
        msgs.len(),
        avg
    );
    println!("baseline (lowercase + tokenise): {base:>12.0} messages/s");
    println!("Engine::analyse:                 {full:>12.0} messages/s");
    println!("ratio baseline/analyse:          {:>12.1}", base / full);
}
