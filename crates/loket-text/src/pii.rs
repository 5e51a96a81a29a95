//! Personal data: BSN, IBAN, Dutch phone numbers, e-mail addresses and licence plates.
//!
//! Scanners work on bytes of the original text so that spans are exact byte offsets.
//! Checksums (elfproef, mod-97) keep ordinary numbers such as amounts out.

use serde::{Deserialize, Serialize};

/// A span of personal data in the original text (byte offsets, end exclusive).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PiiSpan {
    /// `bsn`, `iban`, `telefoon`, `email` or `kenteken`.
    pub kind: String,
    pub start: usize,
    pub end: usize,
}

/// Elfproef for a 9-digit BSN (8-digit numbers are left-padded with a zero by the caller).
pub fn elfproef(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().any(|d| !d.is_ascii_digit()) {
        return false;
    }
    if digits.iter().all(|&d| d == b'0') {
        return false;
    }
    let mut sum: i64 = 0;
    for (i, &d) in digits.iter().enumerate() {
        let v = i64::from(d - b'0');
        sum += if i == 8 { -v } else { v * (9 - i as i64) };
    }
    sum % 11 == 0
}

/// ISO 13616 mod-97 check on an IBAN without spaces.
pub fn iban_valid(iban: &str) -> bool {
    let b = iban.as_bytes();
    if b.len() < 15 || b.len() > 34 {
        return false;
    }
    if !(b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit())
    {
        return false;
    }
    if &b[..2] == b"NL" && b.len() != 18 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(b[..4].iter()) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Find all PII spans, sorted by start, non-overlapping.
pub fn find(text: &str) -> Vec<PiiSpan> {
    let b = text.as_bytes();
    let mut out: Vec<PiiSpan> = Vec::new();
    // Cheap gates: each scanner needs an '@', a number of digits or a hyphen; one that
    // cannot find anything is skipped.
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let at = b.contains(&b'@');
    if digits == 0 && !at {
        return out;
    }
    if at {
        find_emails(b, &mut out);
    }
    // An IBAN has two check digits, a phone number at least 9 digits, a BSN 8 or 9, and a
    // licence plate two hyphens.
    if digits >= 2 {
        find_ibans(b, &mut out);
    }
    if digits >= 9 {
        find_phones(b, &mut out);
    }
    if digits >= 8 {
        find_bsns(b, &mut out);
    }
    if digits >= 1 && b.contains(&b'-') {
        find_plates(b, &mut out);
    }
    out.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut merged: Vec<PiiSpan> = Vec::with_capacity(out.len());
    for s in out {
        if let Some(last) = merged.last()
            && s.start < last.end
        {
            continue;
        }
        merged.push(s);
    }
    merged
}

fn overlaps(out: &[PiiSpan], s: usize, e: usize) -> bool {
    out.iter().any(|p| s < p.end && p.start < e)
}

fn push(out: &mut Vec<PiiSpan>, kind: &str, start: usize, end: usize) {
    if !overlaps(out, start, end) {
        out.push(PiiSpan {
            kind: kind.to_string(),
            start,
            end,
        });
    }
}

fn find_emails(b: &[u8], out: &mut Vec<PiiSpan>) {
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    for (i, &c) in b.iter().enumerate() {
        if c != b'@' {
            continue;
        }
        let mut s = i;
        while s > 0 && local(b[s - 1]) {
            s -= 1;
        }
        while s < i && !b[s].is_ascii_alphanumeric() {
            s += 1;
        }
        let mut e = i + 1;
        while e < b.len() && domain(b[e]) {
            e += 1;
        }
        while e > i + 1 && !b[e - 1].is_ascii_alphanumeric() {
            e -= 1;
        }
        if s == i || e <= i + 1 {
            continue;
        }
        let dom = &b[i + 1..e];
        let Some(dot) = dom.iter().rposition(|&c| c == b'.') else {
            continue;
        };
        let tld = &dom[dot + 1..];
        if tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) && dot > 0 {
            push(out, "email", s, e);
        }
    }
}

fn find_ibans(b: &[u8], out: &mut Vec<PiiSpan>) {
    let n = b.len();
    let mut i = 0;
    while i + 4 <= n {
        let start_ok = i == 0 || !is_word_byte(b[i - 1]);
        if start_ok
            && b[i].is_ascii_alphabetic()
            && b[i + 1].is_ascii_alphabetic()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
        {
            // Collect alphanumerics, allowing single spaces between groups.
            let mut compact = String::new();
            let mut j = i;
            let mut last_end = i;
            while j < n && compact.len() < 34 {
                let c = b[j];
                if c.is_ascii_alphanumeric() {
                    compact.push(c.to_ascii_uppercase() as char);
                    j += 1;
                    last_end = j;
                } else if (c == b' ' || c == b'-' || c == b'.')
                    && j + 1 < n
                    && b[j + 1].is_ascii_alphanumeric()
                    && j > i
                {
                    j += 1;
                } else {
                    break;
                }
            }
            // Try the longest prefix that validates (text may continue after the IBAN).
            let mut found = None;
            let mut count = 0;
            let mut end_at = Vec::new();
            for (k, &c) in b[i..last_end].iter().enumerate() {
                if c.is_ascii_alphanumeric() {
                    count += 1;
                    end_at.push((count, i + k + 1));
                }
            }
            for &(len, end) in end_at.iter().rev() {
                if len < 15 {
                    break;
                }
                if (end == n || !is_word_byte(b[end])) && iban_valid(&compact[..len]) {
                    found = Some(end);
                    break;
                }
            }
            if let Some(end) = found {
                push(out, "iban", i, end);
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

/// Collect a run of digits starting at `i`, allowing single separators between digits.
/// Returns (digits, end) where end is just after the last digit.
fn digit_run(b: &[u8], i: usize, seps: &[u8], max: usize) -> (Vec<u8>, usize) {
    let mut d = Vec::new();
    let mut j = i;
    let mut end = i;
    while j < b.len() && d.len() < max {
        let c = b[j];
        if c.is_ascii_digit() {
            d.push(c);
            j += 1;
            end = j;
        } else if seps.contains(&c) && j + 1 < b.len() && j > i {
            // allow "( 0 )" style only through the phone scanner's own handling
            let next = b[j + 1];
            if next.is_ascii_digit() || (seps.contains(&next) && next != c) {
                j += 1;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    (d, end)
}

fn find_phones(b: &[u8], out: &mut Vec<PiiSpan>) {
    let n = b.len();
    let seps: &[u8] = b" -.()/";
    let mut i = 0;
    while i < n {
        let c = b[i];
        let prev_ok = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+');
        if !prev_ok {
            i += 1;
            continue;
        }
        // +31 / 0031 international prefix
        let (intl, body_start) = if c == b'+' && b[i + 1..].starts_with(b"31") {
            (true, i + 3)
        } else if b[i..].starts_with(b"0031") {
            (true, i + 4)
        } else if c == b'0' {
            (false, i)
        } else {
            i += 1;
            continue;
        };
        let mut j = body_start;
        while j < n && (b[j] == b' ' || b[j] == b'-' || b[j] == b'(' || b[j] == b')') {
            j += 1;
        }
        if j >= n || !b[j].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (mut d, end) = digit_run(b, j, seps, 12);
        if intl && d.first() == Some(&b'0') {
            d.remove(0); // +31 (0)6 ...
        }
        let national = if intl { d.len() == 9 } else { d.len() == 10 };
        let after_ok = end >= n || !b[end].is_ascii_alphanumeric();
        let first = if intl { d.first() } else { d.get(1) };
        if national && after_ok && first.is_some_and(|&f| f != b'0') {
            push(out, "telefoon", i, end);
            i = end;
            continue;
        }
        i += 1;
    }
}

fn find_bsns(b: &[u8], out: &mut Vec<PiiSpan>) {
    let n = b.len();
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_digit() || (i > 0 && (is_word_byte(b[i - 1]) || b[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let (d, end) = digit_run(b, i, b" .-", 10);
        let after_ok = end >= n || !is_word_byte(b[end]);
        let ok = match d.len() {
            9 => elfproef(&d),
            8 => {
                let mut p = vec![b'0'];
                p.extend_from_slice(&d);
                elfproef(&p) && !b[i..end].contains(&b' ')
            }
            _ => false,
        };
        if ok && after_ok {
            push(out, "bsn", i, end);
            i = end;
            continue;
        }
        // Skip the rest of this digit group.
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
    }
}

/// Dutch licence plates need hyphens here: without them too many codes look alike.
fn find_plates(b: &[u8], out: &mut Vec<PiiSpan>) {
    let n = b.len();
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_alphanumeric() || (i > 0 && is_word_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        // Take up to 8 bytes of [A-Z0-9-].
        let mut j = i;
        while j < n
            && j - i < 9
            && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'-')
        {
            j += 1;
        }
        let cand = &b[i..j];
        if (j >= n || !is_word_byte(b[j])) && plate_shape(cand) {
            push(out, "kenteken", i, j);
            i = j;
            continue;
        }
        i += 1;
    }
}

fn plate_shape(s: &[u8]) -> bool {
    if !(8..=8).contains(&s.len()) {
        return false;
    }
    let groups: Vec<&[u8]> = s.split(|&c| c == b'-').collect();
    if groups.len() != 3 || groups.iter().any(|g| g.is_empty()) {
        return false;
    }
    let kind = |g: &[u8]| -> u8 {
        if g.iter().all(u8::is_ascii_digit) {
            b'9'
        } else if g.iter().all(u8::is_ascii_uppercase) {
            b'X'
        } else {
            b'?'
        }
    };
    let shape: Vec<u8> = groups
        .iter()
        .flat_map(|g| std::iter::repeat_n(kind(g), g.len()).chain(std::iter::once(b'-')))
        .collect();
    let shape = &shape[..shape.len() - 1];
    const SHAPES: [&[u8]; 14] = [
        b"XX-99-99",
        b"99-99-XX",
        b"99-XX-99",
        b"XX-99-XX",
        b"XX-XX-99",
        b"99-XX-XX",
        b"99-XXX-9",
        b"9-XXX-99",
        b"XX-999-X",
        b"X-999-XX",
        b"XXX-99-X",
        b"X-99-XXX",
        b"9-XX-999",
        b"999-XX-9",
    ];
    SHAPES.contains(&shape)
}

/// Replace every span by its placeholder.
pub fn redact_spans(text: &str, spans: &[PiiSpan]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for s in spans {
        if s.start < last || s.end > text.len() {
            continue;
        }
        out.push_str(&text[last..s.start]);
        out.push_str(match s.kind.as_str() {
            "bsn" => "[BSN]",
            "iban" => "[IBAN]",
            "telefoon" => "[TELEFOON]",
            "email" => "[EMAIL]",
            _ => "[KENTEKEN]",
        });
        last = s.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &str) -> Vec<(String, String)> {
        find(t)
            .into_iter()
            .map(|s| (s.kind.clone(), t[s.start..s.end].to_string()))
            .collect()
    }

    /// `find` without the gates that skip scanners.
    fn find_all_scanners(text: &str) -> Vec<PiiSpan> {
        let b = text.as_bytes();
        let mut out: Vec<PiiSpan> = Vec::new();
        find_emails(b, &mut out);
        find_ibans(b, &mut out);
        find_phones(b, &mut out);
        find_bsns(b, &mut out);
        find_plates(b, &mut out);
        out.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        let mut merged: Vec<PiiSpan> = Vec::new();
        for s in out {
            if merged.last().is_some_and(|l| s.start < l.end) {
                continue;
            }
            merged.push(s);
        }
        merged
    }

    #[test]
    fn gates_skip_only_fruitless_scanners() {
        let parts = [
            "06-12345678",
            "+31 6 1234 5678",
            "0031612345678",
            "+31 (0)6 12345678",
            "111222333",
            "1112 22 333",
            "11122233",
            "NL91ABNA0417164300",
            "NL91 ABNA 0417 1643 00",
            "GB82WEST12345698765432",
            "AB-12-CD",
            "12-ABC-3",
            "jan@example.nl",
            "a@b",
            "x-y-z",
            "1-2",
            "tel 020 1234567",
            "3512 AB",
            "€ 12,50",
            "-",
            "@",
            "0",
            "+",
        ];
        let mut n = 0u64;
        for a in parts {
            for b in parts {
                for sep in [" ", "", "-", ". "] {
                    let t = format!("Bel {a}{sep}{b} nu");
                    assert_eq!(find(&t), find_all_scanners(&t), "{t}");
                    n += 1;
                }
            }
        }
        let train = include_str!("../data/training.jsonl");
        for l in train.lines() {
            assert_eq!(find(l), find_all_scanners(l), "{l}");
        }
        assert!(n > 0);
    }

    #[test]
    fn elfproef_edges() {
        assert!(elfproef(b"111222333"));
        assert!(elfproef(b"123456782"));
        assert!(!elfproef(b"123456789"));
        assert!(!elfproef(b"000000000"));
        assert!(!elfproef(b"12345678"));
        assert!(!elfproef(b"12345678a"));
    }

    #[test]
    fn bsn_formats() {
        assert_eq!(
            kinds("bsn 111222333."),
            vec![("bsn".into(), "111222333".into())]
        );
        assert_eq!(
            kinds("BSN: 1112.22.333"),
            vec![("bsn".into(), "1112.22.333".into())]
        );
        assert_eq!(
            kinds("BSN 111 222 333"),
            vec![("bsn".into(), "111 222 333".into())]
        );
        assert!(kinds("factuur 123456789").is_empty());
        assert!(kinds("nummer 1112223334").is_empty());
    }

    #[test]
    fn iban_mod97() {
        assert!(iban_valid("NL91ABNA0417164300"));
        assert!(!iban_valid("NL91ABNA0417164301"));
        assert!(!iban_valid("NL91ABNA041716430"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(!iban_valid("nl91abna0417164300"));
        assert_eq!(
            kinds("rekening NL91 ABNA 0417 1643 00 graag"),
            vec![("iban".into(), "NL91 ABNA 0417 1643 00".into())]
        );
        assert_eq!(
            kinds("NL91ABNA0417164300."),
            vec![("iban".into(), "NL91ABNA0417164300".into())]
        );
    }

    #[test]
    fn phones() {
        for p in [
            "06-12345678",
            "0612345678",
            "06 1234 5678",
            "+31 6 12345678",
            "+31(0)612345678",
            "0031612345678",
            "010-1234567",
            "020 123 4567",
        ] {
            let t = format!("bel {p} aub");
            assert_eq!(kinds(&t), vec![("telefoon".into(), p.into())], "{p}");
        }
        assert!(kinds("in 2024 en 2025").is_empty());
    }

    #[test]
    fn email_and_plate() {
        assert_eq!(
            kinds("mail j.de-vries+x@voorbeeld.nl."),
            vec![("email".into(), "j.de-vries+x@voorbeeld.nl".into())]
        );
        assert!(kinds("@gemeenteutrecht hoi").is_empty());
        assert_eq!(
            kinds("auto 12-ABC-3 staat"),
            vec![("kenteken".into(), "12-ABC-3".into())]
        );
        assert_eq!(
            kinds("GX-123-B fout"),
            vec![("kenteken".into(), "GX-123-B".into())]
        );
        assert!(kinds("A2-B3-C4").is_empty());
    }

    #[test]
    fn redacts() {
        let t = "BSN 111222333 en 06-12345678";
        let r = redact_spans(t, &find(t));
        assert_eq!(r, "BSN [BSN] en [TELEFOON]");
    }
}
