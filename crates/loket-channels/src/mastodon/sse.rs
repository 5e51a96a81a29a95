//! A server-sent events parser: just what Mastodon's streaming API sends (`event:` and `data:`
//! lines, an empty line ending an event, `:thump` keep-alive comments), fed with bytes as they
//! arrive so a line or a UTF-8 character split over two chunks is handled.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; "message" when the server sent none.
    pub event: String,
    /// The `data:` lines joined by newlines.
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

/// A line longer than this without a newline is not SSE: stop buffering it.
const MAX_LINE: usize = 4 * 1024 * 1024;

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes and returns the events they completed, in order. Errors only when
    /// the server sends a line too long to be an event.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, String> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|b| *b == b'\n') {
            let end = start + pos;
            let mut line = &self.buf[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            if let Some(ev) = self.line(&line) {
                events.push(ev);
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            self.buf.clear();
            return Err("regel in de stream is te lang".to_string());
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.event.take();
            if self.data.is_empty() {
                return None;
            }
            let data = std::mem::take(&mut self.data).join("\n");
            return Some(SseEvent {
                event: event.unwrap_or_else(|| "message".to_string()),
                data,
            });
        }
        if line.starts_with(':') {
            // Comment, e.g. the `:thump` keep-alive.
            return None;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            _ => {} // id, retry and unknown fields do not matter here
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_comments_and_split_chunks() {
        let mut p = SseParser::new();
        let stream = ":thump\n\nevent: notification\ndata: {\"id\":\"1\",\"t\":\"é\"}\n\n:thump\nevent: update\r\ndata: a\r\ndata: b\r\n\r\n";
        let bytes = stream.as_bytes();
        let mut got = Vec::new();
        // Feed in 3-byte pieces so lines and the two-byte 'é' are split.
        for piece in bytes.chunks(3) {
            got.extend(p.push(piece).unwrap());
        }
        assert_eq!(
            got,
            vec![
                SseEvent {
                    event: "notification".into(),
                    data: "{\"id\":\"1\",\"t\":\"é\"}".into()
                },
                SseEvent {
                    event: "update".into(),
                    data: "a\nb".into()
                },
            ]
        );
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        let mut p = SseParser::new();
        assert!(p.push(b"event: filters_changed\n\n").unwrap().is_empty());
        let got = p.push(b"data: x\n\n").unwrap();
        assert_eq!(got[0].event, "message");
    }
}
