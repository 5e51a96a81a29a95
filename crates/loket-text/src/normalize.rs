//! Text normalisation shared by every part of the engine.
//!
//! All matching happens on one folded form (lowercase, diacritics removed, every run of
//! non-alphanumerics collapsed to one space, padded with a space at both ends) so that
//! gazetteer patterns written as `" den haag "` get word boundaries for free. A byte map
//! leads back to the original text for evidence and offsets.

use unicode_normalization::char::decompose_canonical;

/// Folded text plus, for every byte of it, the byte offset in the original.
pub struct Folded {
    /// `" tok tok tok "`: lowercase ASCII where possible, single spaces, padded.
    pub text: String,
    /// `map[i]` = byte offset in the original of the character that produced byte `i`.
    pub map: Vec<u32>,
    /// ASCII letters of the original, and the language-relevant counts of its other
    /// characters.
    pub(crate) ascii_letters: usize,
    pub(crate) scripts: crate::lang::ScriptCounts,
}

impl Folded {
    /// Original byte range of the folded range `[start, end)` (end exclusive, no padding).
    pub fn original_span(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let s = self.map[start] as usize;
        let last = self.map[end - 1] as usize;
        let e = last + original[last..].chars().next().map_or(0, char::len_utf8);
        (s, e)
    }
}

/// Fold one character into `out`; returns false when it is a separator.
#[inline]
fn fold_char(c: char, out: &mut String) -> bool {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            return true;
        }
        return false;
    }
    match c {
        'ß' => {
            out.push_str("ss");
            return true;
        }
        'ø' | 'Ø' => {
            out.push('o');
            return true;
        }
        'æ' | 'Æ' => {
            out.push_str("ae");
            return true;
        }
        'ł' | 'Ł' => {
            out.push('l');
            return true;
        }
        'ı' => {
            out.push('i');
            return true;
        }
        // Typographic apostrophes separate like the ASCII one.
        _ => {}
    }
    if !c.is_alphanumeric() {
        return false;
    }
    let mut pushed = false;
    let mut any_ascii = false;
    decompose_canonical(c, |d| {
        if d.is_ascii_alphanumeric() {
            out.push(d.to_ascii_lowercase());
            any_ascii = true;
            pushed = true;
        }
    });
    if !any_ascii {
        for l in c.to_lowercase() {
            out.push(l);
            pushed = true;
        }
    }
    pushed
}

/// Code points below this have their `fold_char` result precomputed.
const TABLED: u32 = 0x2100;

/// `fold_char` of every code point below [`TABLED`]: `(offset << 8) | length` of its output
/// in the string (length 0 = separator).
fn fold_table() -> &'static (Vec<u32>, String) {
    static T: std::sync::OnceLock<(Vec<u32>, String)> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut table = Vec::with_capacity(TABLED as usize);
        let mut folds = String::new();
        let mut buf = String::new();
        for cp in 0..TABLED {
            let Some(c) = char::from_u32(cp) else {
                table.push(0);
                continue;
            };
            buf.clear();
            if fold_char(c, &mut buf) {
                assert!(!buf.is_empty() && buf.len() < 256);
                table.push(((folds.len() as u32) << 8) | buf.len() as u32);
                folds.push_str(&buf);
            } else {
                table.push(0);
            }
        }
        (table, folds)
    })
}

/// Fold `text` into the padded matching form with its byte map.
pub fn fold(text: &str) -> Folded {
    let mut out = String::with_capacity(text.len() + 2);
    let mut map = Vec::with_capacity(text.len() + 2);
    out.push(' ');
    map.push(0);
    let mut last_space = true;
    let mut ascii_letters = 0;
    let mut scripts = crate::lang::ScriptCounts::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            // ASCII: the common case, without decoding.
            if b.is_ascii_alphanumeric() {
                ascii_letters += usize::from(b > b'9');
                out.push(char::from(b.to_ascii_lowercase()));
                map.push(i as u32);
                last_space = false;
            } else if !last_space {
                out.push(' ');
                map.push(i as u32);
                last_space = true;
            }
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        scripts.add(c);
        let (table, folds) = fold_table();
        if let Some(&ent) = table.get(c as usize) {
            // A precomputed `fold_char` result (Latin letters, punctuation).
            let len = (ent & 0xff) as usize;
            if len > 0 {
                let off = (ent >> 8) as usize;
                out.push_str(&folds[off..off + len]);
                for _ in 0..len {
                    map.push(i as u32);
                }
                last_space = false;
            } else if !last_space {
                out.push(' ');
                map.push(i as u32);
                last_space = true;
            }
            i += c.len_utf8();
            continue;
        }
        let before = out.len();
        if fold_char(c, &mut out) {
            for _ in before..out.len() {
                map.push(i as u32);
            }
            last_space = false;
        } else if !last_space {
            out.push(' ');
            map.push(i as u32);
            last_space = true;
        }
        i += c.len_utf8();
    }
    if !last_space {
        out.push(' ');
        map.push(text.len() as u32);
    }
    Folded {
        text: out,
        map,
        ascii_letters,
        scripts,
    }
}

/// Byte spans `[start, end)` of the tokens of a folded text, appended to `out`.
#[inline]
pub(crate) fn token_spans(folded: &str, out: &mut Vec<(u32, u32)>) {
    let b = folded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && b[i] != b' ' {
            i += 1;
        }
        out.push((s as u32, i as u32));
    }
}

/// Fold a short string (a name or keyword) to its unpadded matching form.
pub fn fold_plain(text: &str) -> String {
    let f = fold(text);
    f.text.trim().to_string()
}

/// Lowercase, fold and split into word tokens (no stemming, no stop-word removal).
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .text
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_diacritics_and_punctuation() {
        let f = fold("Súdwest-Fryslân, 's-Hertogenbosch!");
        assert_eq!(f.text, " sudwest fryslan s hertogenbosch ");
        assert_eq!(f.map.len(), f.text.len());
    }

    #[test]
    fn span_maps_back() {
        let t = "In Súdwest-Fryslân ligt";
        let f = fold(t);
        let start = f.text.find("sudwest").unwrap();
        let end = start + "sudwest fryslan".len();
        let (s, e) = f.original_span(start, end, t);
        assert_eq!(&t[s..e], "Súdwest-Fryslân");
    }

    #[test]
    fn keeps_arabic_letters() {
        assert_eq!(fold_plain("مرحبا Apeldoorn"), "مرحبا apeldoorn");
    }
}
