//! Accuracy on a held-out 15 % of `data/training.jsonl` (chosen by a hash of the text), with
//! the models trained on the other 85 %. Used to choose hyper-parameters without looking at
//! any evaluation set:
//!
//! `cargo run --release -p loket-text --example validate -- [name=value,...] [--errors]`
//!
//! Names are the fields of `Params` (`chars=0.5,bigram=0.3,group_vote=false`, ...).
//! `TRAIN_FILE=path` replaces the compiled-in training file (for comparing data changes);
//! `VAL_FILE=path` trains on the whole training file and scores that file instead of folds.
//! Figures are also printed for long held-out messages (> 150 bytes) alone.
use loket_text::{Engine, Input, Params, Sentiment, topics};

const TRAINING: &str = include_str!("../data/training.jsonl");

/// Fold `k` holds out the texts whose hash falls in [15k, 15k + 15) of 100: fold 0 is the
/// reported validation split; `FOLDS=6` averages six disjoint 15 % folds for steadier choices.
fn held_out(text: &str, k: u64) -> bool {
    // FNV-1a: a stable split that does not depend on the order of the file.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (15 * k..15 * k + 15).contains(&(h % 100))
}

fn set(p: &mut Params, k: &str, v: &str) {
    let f = || v.parse::<f32>().expect("number");
    let three = || {
        let x: Vec<f32> = v.split('/').map(|x| x.parse().expect("number")).collect();
        [x[0], x[1], x[2]]
    };
    match k {
        "unigram" => p.unigram = f(),
        "part" => p.part = f(),
        "chars" => p.chars = f(),
        "char_min" => p.char_min = v.parse().expect("int"),
        "char_max" => p.char_max = v.parse().expect("int"),
        "bigram" => p.bigram = f(),
        "lex" => p.lex = f(),
        "epochs" => p.epochs = v.parse().expect("int"),
        "l2" => p.l2 = f(),
        "lr" => p.lr = f(),
        "group_vote" => p.group_vote = v == "true",
        "temperature" => p.temperature = f(),
        "sent_word" => p.sent_word = f(),
        "sent_bigram" => p.sent_bigram = f(),
        "sent_epochs" => p.sent_epochs = v.parse().expect("int"),
        "sent_l2" => p.sent_l2 = f(),
        "sent_class_weight" => p.sent_class_weight = three(),
        "sent_bias" => p.sent_bias = three(),
        "cue_len" => p.cue_len = f(),
        "group_model" => p.group_model = f(),
        _ => panic!("unknown parameter {k}"),
    }
}

fn main() {
    let mut params = Params::default();
    let mut errors = false;
    for a in std::env::args().skip(1) {
        if a == "--errors" {
            errors = true;
            continue;
        }
        for kv in a.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').expect("name=value");
            set(&mut params, k, v);
        }
    }
    let folds: u64 = std::env::var("FOLDS")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or(1);
    let training = std::env::var("TRAIN_FILE")
        .map(|p| std::fs::read_to_string(p).expect("TRAIN_FILE"))
        .unwrap_or_else(|_| TRAINING.to_string());
    let val_file = std::env::var("VAL_FILE")
        .ok()
        .map(|p| std::fs::read_to_string(p).expect("VAL_FILE"));
    let folds = if val_file.is_some() { 1 } else { folds };
    // Held-out lines whose text is in EXCLUDE_FILE are not scored (to compare a data
    // change on the lines both versions have).
    let exclude: std::collections::HashSet<String> = std::env::var("EXCLUDE_FILE")
        .map(|p| std::fs::read_to_string(p).expect("EXCLUDE_FILE"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|j| j["text"].as_str().map(str::to_string))
        .collect();
    // All held-out messages, then the long ones alone.
    let (mut all, mut short, mut long) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..folds {
        let (mut train, mut val) = (String::new(), Vec::new());
        for line in training.lines().filter(|l| !l.trim().is_empty()) {
            let j: serde_json::Value = serde_json::from_str(line).expect("json");
            let text = j["text"].as_str().unwrap_or_default().to_string();
            if val_file.is_none() && held_out(&text, k) {
                if !exclude.contains(&text) {
                    val.push(j);
                }
            } else {
                train.push_str(line);
                train.push('\n');
            }
        }
        if let Some(v) = &val_file {
            val = v
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("json"))
                .collect();
        }
        let e = Engine::with_training(&train, params.clone());
        let (long_val, short_val): (Vec<serde_json::Value>, Vec<serde_json::Value>) = val
            .iter()
            .cloned()
            .partition(|j| j["text"].as_str().unwrap_or_default().len() > 150);
        all.push(run(&e, &val, k, errors));
        if !short_val.is_empty() {
            short.push(run(&e, &short_val, k, false));
        }
        if !long_val.is_empty() {
            long.push(run(&e, &long_val, k, false));
        }
    }
    for (name, rs) in [
        ("validation", &all),
        ("short<=150B", &short),
        ("long>150B", &long),
    ] {
        if rs.is_empty() {
            continue;
        }
        let mut sum = [0.0f64; 4];
        for r in rs.iter() {
            for (s, x) in sum.iter_mut().zip(r) {
                *s += x;
            }
        }
        let f = rs.len() as f64;
        println!(
            "{name} folds={} topic_accuracy={:.4} topic_group_accuracy={:.4} topic_nll={:.3} sentiment_macro_f1={:.4}",
            rs.len(),
            sum[0] / f,
            sum[1] / f,
            sum[2] / f,
            sum[3] / f
        );
    }
}

fn run(e: &Engine, val: &[serde_json::Value], k: u64, errors: bool) -> [f64; 4] {
    let (mut n, mut ok, mut gok, mut nll) = (0usize, 0usize, 0usize, 0.0f64);
    let mut conf = [[0usize; 3]; 3];
    for j in val {
        let text = j["text"].as_str().unwrap_or_default();
        let a = e.analyse(&Input::text(text));
        let want = j["topic"].as_str().unwrap_or_default();
        let t = a.topic.expect("topic");
        n += 1;
        if t.code == want {
            ok += 1;
            nll -= t.confidence.max(0.01).ln();
        } else {
            let p = t
                .alternatives
                .iter()
                .find(|x| x.code == want)
                .map_or(0.01, |x| x.confidence.max(0.01));
            nll -= p.ln();
            if errors {
                println!("TOPIC {} -> {} | {text}", want, t.code);
            }
        }
        if topics::group_of(&t.code) == topics::group_of(want) {
            gok += 1;
        }
        if let Some(s) = j["sentiment"].as_str().and_then(Sentiment::parse) {
            conf[s as usize][a.sentiment as usize] += 1;
            if errors && s != a.sentiment {
                println!("SENT {} -> {} | {text}", s.as_str(), a.sentiment.as_str());
            }
        }
    }
    let mut f1 = 0.0;
    #[allow(clippy::needless_range_loop)]
    for c in 0..3 {
        let tp = conf[c][c] as f64;
        let fp: f64 = (0..3).filter(|&r| r != c).map(|r| conf[r][c] as f64).sum();
        let fnn: f64 = (0..3).filter(|&p| p != c).map(|p| conf[c][p] as f64).sum();
        f1 += if tp > 0.0 {
            2.0 * tp / (2.0 * tp + fp + fnn)
        } else {
            0.0
        };
    }
    if errors {
        println!("fold {k}: n={n} sentiment confusion (rows: label) {conf:?}");
    }
    [
        ok as f64 / n as f64,
        gok as f64 / n as f64,
        nll / n as f64,
        f1 / 3.0,
    ]
}
