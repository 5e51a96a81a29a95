//! Splitting a long reply into parts the platform accepts.
//!
//! Limits as Meta documents them: WhatsApp text bodies at most 4096 characters, Messenger text
//! "less than 2000 characters", Instagram text "UTF-8 and 1000 bytes or less". Characters are
//! counted as UTF-16 code units, the stricter of the two plausible readings (an emoji counts as
//! two), so a part never exceeds the limit whichever way Meta counts.
//!
//! Parts are cut at the last paragraph break, else line break, else sentence end, else space
//! before the limit; only a text without any of those in its second half is cut mid-word.

/// How a platform measures the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many UTF-16 code units.
    Chars(usize),
    /// At most this many bytes of UTF-8.
    Bytes(usize),
}

impl Limit {
    fn measure(self, s: &str) -> usize {
        match self {
            Limit::Chars(_) => s.encode_utf16().count(),
            Limit::Bytes(_) => s.len(),
        }
    }

    fn max(self) -> usize {
        match self {
            Limit::Chars(n) | Limit::Bytes(n) => n,
        }
    }

    /// The largest byte index (a char boundary) such that `s[..i]` fits.
    fn fit(self, s: &str) -> usize {
        let max = self.max();
        let mut used = 0;
        for (i, c) in s.char_indices() {
            let w = match self {
                Limit::Chars(_) => c.len_utf16(),
                Limit::Bytes(_) => c.len_utf8(),
            };
            if used + w > max {
                return i;
            }
            used += w;
        }
        s.len()
    }
}

/// Splits `text` into trimmed, non-empty parts that each fit `limit`. An empty or blank text
/// gives no parts.
pub fn split_text(text: &str, limit: Limit) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if limit.measure(rest) <= limit.max() {
            parts.push(rest.to_string());
            break;
        }
        let fit = limit.fit(rest);
        let cut = if fit == 0 {
            // A limit smaller than one character: take that character anyway rather than loop.
            rest.chars().next().map_or(rest.len(), char::len_utf8)
        } else {
            break_point(&rest[..fit]).unwrap_or(fit)
        };
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_string());
        }
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Where to cut inside `window` (which fits): after the last paragraph break, line break,
/// sentence end or space, as long as that keeps at least half the window.
fn break_point(window: &str) -> Option<usize> {
    let half = window.len() / 2;
    let candidates = [
        window.rfind("\n\n").map(|i| i + 2),
        window.rfind('\n').map(|i| i + 1),
        [". ", "! ", "? ", ".\t"]
            .iter()
            .filter_map(|p| window.rfind(p).map(|i| i + 1))
            .max(),
        window.rfind(char::is_whitespace).map(|i| i + 1),
    ];
    candidates.into_iter().flatten().find(|&i| i > half)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(parts: &[String], limit: Limit) {
        for p in parts {
            assert!(limit.measure(p) <= limit.max(), "te lang: {}", p.len());
            assert!(!p.is_empty());
            assert_eq!(p.trim(), p);
        }
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_text("  Hallo!  ", Limit::Chars(10)), vec!["Hallo!"]);
        assert!(split_text("   ", Limit::Chars(10)).is_empty());
        let exact = "a".repeat(4096);
        assert_eq!(split_text(&exact, Limit::Chars(4096)), vec![exact.clone()]);
    }

    #[test]
    fn prefers_paragraphs_then_sentences_then_spaces() {
        let text = "Eerste alinea hier.\n\nTweede alinea is langer dan de rest.";
        assert_eq!(
            split_text(text, Limit::Chars(40)),
            vec![
                "Eerste alinea hier.",
                "Tweede alinea is langer dan de rest."
            ]
        );
        let text = "Dit is de eerste zin. Dan de tweede die doorloopt";
        let parts = split_text(text, Limit::Chars(30));
        assert_eq!(parts[0], "Dit is de eerste zin.");
        check(&parts, Limit::Chars(30));
        let text = "woord ".repeat(100);
        let parts = split_text(&text, Limit::Chars(50));
        check(&parts, Limit::Chars(50));
        assert!(parts.iter().all(|p| p.split(' ').all(|w| w == "woord")));
        assert_eq!(parts.join(" "), text.trim());
    }

    #[test]
    fn hard_cut_without_spaces_keeps_everything() {
        let text = "x".repeat(4097);
        let parts = split_text(&text, Limit::Chars(4096));
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 4096);
        assert_eq!(parts[1], "x");
    }

    #[test]
    fn counts_utf16_and_bytes() {
        // An emoji is two UTF-16 units and four bytes.
        let text = "😀".repeat(3);
        let parts = split_text(&text, Limit::Chars(4));
        assert_eq!(parts, vec!["😀😀", "😀"]);
        let parts = split_text(&text, Limit::Bytes(9));
        assert_eq!(parts, vec!["😀😀", "😀"]);
        let text = "é".repeat(1000); // 2000 bytes
        let parts = split_text(&text, Limit::Bytes(1000));
        assert_eq!(parts.len(), 2);
        check(&parts, Limit::Bytes(1000));
    }
}
