//! `loket analyse` and `loket eval`: the text engine on the command line.

use anyhow::Context;
use clap::Args;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct AnalyseArgs {
    /// The text to analyse (omit with --input).
    text: Option<String>,
    /// JSONL file with objects holding at least `text` (optionally `lat`, `lon`); `-` for stdin.
    #[arg(long)]
    input: Option<PathBuf>,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Labelled JSONL file in the format of the development set.
    #[arg(long)]
    input: PathBuf,
    /// Print exactly one JSON object and nothing else on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Deserialize)]
struct Line {
    text: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

pub fn analyse(a: AnalyseArgs) -> anyhow::Result<()> {
    let engine = loket_text::engine();
    let out = std::io::stdout();
    let mut out = out.lock();
    match (a.text, a.input) {
        (Some(text), None) => {
            let r = engine.analyse(&loket_text::Input::text(&text));
            writeln!(out, "{}", serde_json::to_string(&r)?)?;
        }
        (None, Some(path)) => {
            let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
                Box::new(std::io::BufReader::new(std::io::stdin()))
            } else {
                Box::new(std::io::BufReader::new(
                    std::fs::File::open(&path)
                        .with_context(|| format!("kan {} niet openen", path.display()))?,
                ))
            };
            for (n, line) in reader.split(b'\n').enumerate() {
                let bytes = line?;
                // Invalid UTF-8 is repaired at this boundary rather than rejected.
                let s = String::from_utf8_lossy(&bytes);
                if s.trim().is_empty() {
                    continue;
                }
                let l: Line = serde_json::from_str(&s)
                    .with_context(|| format!("regel {}: geen geldig object met 'text'", n + 1))?;
                let r = engine.analyse(&loket_text::Input {
                    text: &l.text,
                    lat: l.lat,
                    lon: l.lon,
                    history: &[],
                });
                writeln!(out, "{}", serde_json::to_string(&r)?)?;
            }
        }
        _ => anyhow::bail!("geef een tekst of --input FILE (niet beide)"),
    }
    Ok(())
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let mut raw = Vec::new();
    std::fs::File::open(&a.input)
        .with_context(|| format!("kan {} niet openen", a.input.display()))?
        .read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let report = loket_text::eval::evaluate(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let v = serde_json::to_value(&report)?;
        if let Some(m) = v.as_object() {
            for (k, v) in m {
                println!("{k:<22} {v}");
            }
        }
    }
    Ok(())
}
