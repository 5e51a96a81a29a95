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

/// Fold `text` into the padded matching form with its byte map.
pub fn fold(text: &str) -> Folded {
    let mut out = String::with_capacity(text.len() + 2);
    let mut map = Vec::with_capacity(text.len() + 2);
    out.push(' ');
    map.push(0);
    let mut last_space = true;
    for (i, c) in text.char_indices() {
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
    }
    if !last_space {
        out.push(' ');
        map.push(text.len() as u32);
    }
    Folded { text: out, map }
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
