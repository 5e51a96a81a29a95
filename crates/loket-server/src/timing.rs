//! Step timings of one request, sent as a W3C `Server-Timing` header: the browser's developer
//! tools and `loket bench dashboard` then show where a page's time goes, without a profiler.

use axum::http::HeaderValue;
use std::time::Instant;

/// Named steps, each the time since the previous mark.
#[derive(Debug, Clone)]
pub struct ServerTiming {
    last: Instant,
    steps: Vec<(&'static str, f64)>,
}

impl Default for ServerTiming {
    fn default() -> Self {
        Self::start()
    }
}

impl ServerTiming {
    pub fn start() -> Self {
        Self {
            last: Instant::now(),
            steps: Vec::new(),
        }
    }

    /// Ends step `name` (a token: letters, digits, `-` and `_`) now.
    pub fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.steps
            .push((name, now.duration_since(self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }

    /// Adds a step measured elsewhere (one of several that ran at the same time).
    pub fn record(&mut self, name: &'static str, ms: f64) {
        self.steps.push((name, ms));
    }

    pub fn steps(&self) -> &[(&'static str, f64)] {
        &self.steps
    }

    /// `rollups;dur=12.3, sla;dur=4.0` (milliseconds).
    pub fn header(&self) -> HeaderValue {
        let v = self
            .steps
            .iter()
            .map(|(n, d)| format!("{n};dur={d:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Parses a `Server-Timing` header back into `(name, ms)` pairs (for the benchmark).
    pub fn parse(header: &str) -> Vec<(String, f64)> {
        header
            .split(',')
            .filter_map(|part| {
                let mut it = part.trim().split(';');
                let name = it.next()?.trim().to_string();
                let dur = it
                    .find_map(|p| p.trim().strip_prefix("dur="))
                    .and_then(|d| d.parse().ok())?;
                Some((name, dur))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut t = ServerTiming::start();
        t.mark("rollups");
        t.mark("render");
        let h = t.header();
        let parsed = ServerTiming::parse(h.to_str().unwrap());
        assert_eq!(
            parsed.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["rollups", "render"]
        );
        assert!(parsed.iter().all(|p| p.1 >= 0.0));
    }
}
