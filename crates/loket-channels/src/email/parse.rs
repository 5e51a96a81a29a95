//! Raw RFC 5322 messages into [`InboundMessage`]s: pure functions, no I/O.

use super::html::html_to_text;
use crate::adapter::{Attachment, InboundMessage, MessageKind};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// Messages larger than this are not parsed: their headers are kept with a note in the text,
/// their body and attachments are left in the mailbox.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Domain of the Message-IDs synthesised for mail that has none (never a real domain).
const SYNTHETIC_DOMAIN: &str = "synthetisch.loket.invalid";

/// The subject token that ties an e-mail to a Loket conversation: `[Loket #123]`.
pub fn subject_token(conversation_id: i64) -> String {
    format!("[Loket #{conversation_id}]")
}

/// The conversation id of the first `[Loket #123]` token in a subject (case-insensitive,
/// a space after '#' tolerated).
pub fn find_subject_token(subject: &str) -> Option<i64> {
    token_spans(subject).into_iter().next().map(|(_, _, id)| id)
}

/// (start, end, id) of every subject token.
fn token_spans(subject: &str) -> Vec<(usize, usize, i64)> {
    let lower = subject.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("[loket") {
        let start = from + pos;
        from = start + 1;
        let rest = &lower[start + 6..];
        let after_space = rest.trim_start();
        let Some(after_hash) = after_space.strip_prefix('#') else {
            continue;
        };
        let digits_start = after_hash.trim_start();
        let digits: String = digits_start
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let after_digits = digits_start[digits.len()..].trim_start();
        if digits.is_empty() || !after_digits.starts_with(']') {
            continue;
        }
        let Ok(id) = digits.parse::<i64>() else {
            continue;
        };
        let end = lower.len() - after_digits.len() + 1;
        spans.push((start, end, id));
    }
    spans
}

/// The subject of a reply: `Re: <subject without reply prefixes and tokens> [Loket #id]`.
pub fn reply_subject(subject: &str, conversation_id: i64) -> String {
    let mut base = subject.to_string();
    for (start, end, _) in token_spans(subject).into_iter().rev() {
        base.replace_range(start..end, "");
    }
    let mut base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let trimmed = strip_reply_prefix(&base);
        if trimmed.len() == base.len() {
            break;
        }
        base = trimmed.to_string();
    }
    let base = if base.is_empty() { "Uw bericht" } else { &base };
    format!("Re: {base} {}", subject_token(conversation_id))
}

/// `Re:`, `RE:`, `Antw:`, `AW:`, `Re[2]:` and the like at the start, with following spaces.
fn strip_reply_prefix(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    for prefix in ["re", "antw", "aw", "sv", "vs"] {
        let Some(rest) = lower.strip_prefix(prefix) else {
            continue;
        };
        let rest = if rest.starts_with('[') {
            match rest.find(']') {
                Some(e) if rest[1..e].chars().all(|c| c.is_ascii_digit()) => &rest[e + 1..],
                _ => continue,
            }
        } else {
            rest
        };
        let rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(':') {
            let cut = s.len() - after.len();
            return s[cut..].trim_start();
        }
    }
    s
}

/// A Message-ID as Loket stores it: without angle brackets and surrounding space.
pub fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

/// Whether an id was synthesised by [`parse`] (and so is unknown to every other mail system).
pub fn is_synthetic_id(id: &str) -> bool {
    id.ends_with(SYNTHETIC_DOMAIN)
}

/// Parses a raw message; `received_ms` (the server's arrival time) is used when the `Date`
/// header is missing or unreadable. Messages over [`MAX_MESSAGE_BYTES`] are read as headers only.
pub fn parse(raw: &[u8], received_ms: i64) -> InboundMessage {
    if raw.len() > MAX_MESSAGE_BYTES {
        return parse_oversized(header_block(raw), raw.len() as u64, received_ms);
    }
    let parser = MessageParser::default();
    let Some(msg) = parser.parse(raw) else {
        return unreadable(raw, received_ms);
    };
    build(&msg, raw, received_ms, None)
}

/// A message too large to read: `header` holds only its header block, `size` its full size.
pub fn parse_oversized(header: &[u8], size: u64, received_ms: i64) -> InboundMessage {
    let parser = MessageParser::default();
    match parser.parse_headers(header) {
        Some(msg) => build(&msg, header, received_ms, Some(size)),
        None => unreadable(header, received_ms),
    }
}

/// The header block of a raw message (up to and including the first empty line).
fn header_block(raw: &[u8]) -> &[u8] {
    for (i, w) in raw.windows(4).enumerate() {
        if w == b"\r\n\r\n" {
            return &raw[..i + 4];
        }
    }
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return &raw[..i + 2];
        }
    }
    raw
}

fn unreadable(raw: &[u8], received_ms: i64) -> InboundMessage {
    InboundMessage {
        external_id: synthetic_id(raw),
        author_id: String::new(),
        author_name: String::new(),
        text: "[Dit bericht kon niet worden gelezen; bekijk het in de mailbox.]".into(),
        sent_at_ms: received_ms,
        lat: None,
        lon: None,
        attachments: Vec::new(),
        kind: MessageKind::Normal,
        thread_refs: Vec::new(),
        conversation_hint: None,
        for_inbox: true,
        reply_context: serde_json::json!({"subject": "", "message_id": null, "references": []}),
    }
}

fn synthetic_id(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    format!("loket-{}@{SYNTHETIC_DOMAIN}", hex::encode(&digest[..16]))
}

fn build(
    msg: &Message<'_>,
    raw: &[u8],
    received_ms: i64,
    oversized: Option<u64>,
) -> InboundMessage {
    let message_id = msg
        .message_id()
        .map(clean_id)
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace));
    let external_id = message_id.clone().unwrap_or_else(|| synthetic_id(raw));

    let (author_id, author_name) = author(msg);
    let subject = msg.subject().unwrap_or("").trim().to_string();
    let references = id_list(msg.references());
    let mut thread_refs = references.clone();
    for id in id_list(msg.in_reply_to()) {
        if !thread_refs.contains(&id) {
            thread_refs.push(id);
        }
    }
    let sent_at_ms = msg
        .date()
        .map(|d| d.to_timestamp() * 1000)
        .filter(|ms| *ms > 0)
        .unwrap_or(received_ms);

    let kind = classify(msg, &author_id, &subject, &thread_refs);

    let (text, attachments) = match oversized {
        Some(size) => (
            format!(
                "[Dit e-mailbericht is te groot om in Loket te tonen ({:.1} MB; de grens is {} MB). \
                 Alleen afzender en onderwerp zijn overgenomen; tekst en bijlagen staan nog in de \
                 mailbox.]",
                size as f64 / (1024.0 * 1024.0),
                MAX_MESSAGE_BYTES / (1024 * 1024)
            ),
            Vec::new(),
        ),
        None => (body_text(msg), attachments(msg)),
    };

    let mut reply_context = serde_json::json!({
        "subject": subject,
        "message_id": message_id,
        "references": references,
    });
    if let Some(reply_to) = reply_to(msg, &author_id) {
        reply_context["reply_to"] = serde_json::Value::String(reply_to);
    }

    InboundMessage {
        external_id,
        author_id,
        author_name,
        text,
        sent_at_ms,
        lat: None,
        lon: None,
        attachments,
        kind,
        thread_refs,
        conversation_hint: find_subject_token(&subject),
        for_inbox: true,
        reply_context,
    }
}

/// The From address (lower-cased) and display name; Sender when From is missing.
fn author(msg: &Message<'_>) -> (String, String) {
    let addr = msg
        .from()
        .and_then(|a| a.first())
        .or_else(|| msg.sender().and_then(|a| a.first()));
    match addr {
        Some(a) => (
            a.address()
                .map(|s| s.trim().to_lowercase())
                .unwrap_or_default(),
            a.name()
                .map(|s| s.trim().trim_matches('"').trim().to_string())
                .unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    }
}

/// The Reply-To address when it differs from the author (web forms send as no-reply).
fn reply_to(msg: &Message<'_>, author: &str) -> Option<String> {
    let addr = msg.reply_to()?.first()?.address()?.trim().to_lowercase();
    (addr.contains('@') && addr != author).then_some(addr)
}

/// Message-IDs in In-Reply-To or References, without brackets, in header order.
fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    let mut ids = Vec::new();
    for item in raw {
        for part in item.split_whitespace() {
            let id = clean_id(part);
            if id.contains('@') && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

fn header_text<'a>(msg: &'a Message<'_>, name: &'static str) -> Option<&'a str> {
    msg.header_raw(name).map(str::trim)
}

/// Normal, automatic (out-of-office, list mail, `Auto-Submitted`) or a bounce.
fn classify(msg: &Message<'_>, author: &str, subject: &str, thread_refs: &[String]) -> MessageKind {
    let root_type = msg.root_part().content_type();
    let is_report = |report_type: &str| {
        root_type.is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
                && ct
                    .attribute("report-type")
                    .is_some_and(|r| r.eq_ignore_ascii_case(report_type))
        })
    };
    let local_part = author.split('@').next().unwrap_or("");
    if is_report("delivery-status") || local_part == "mailer-daemon" || local_part == "postmaster" {
        return MessageKind::Bounce {
            about: bounced_ids(msg, thread_refs),
        };
    }
    if is_report("disposition-notification") {
        return MessageKind::Automatic;
    }
    if let Some(v) = header_text(msg, "Auto-Submitted")
        && !v.to_ascii_lowercase().starts_with("no")
    {
        return MessageKind::Automatic;
    }
    let flag_headers = [
        "X-Autoreply",
        "X-Autorespond",
        "X-Autogenerated",
        "X-AutoReply-From",
        "X-Mail-Autoreply",
        "List-Id",
        "List-Unsubscribe",
    ];
    if flag_headers
        .iter()
        .any(|h| header_text(msg, h).is_some_and(|v| !v.is_empty()))
    {
        return MessageKind::Automatic;
    }
    if let Some(p) = header_text(msg, "Precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&p.to_ascii_lowercase().as_str())
    {
        return MessageKind::Automatic;
    }
    if is_automatic_subject(subject) {
        return MessageKind::Automatic;
    }
    MessageKind::Normal
}

/// Subjects of out-of-office replies in Dutch and English. Unambiguous phrases match as a
/// prefix; short words only as the whole subject or before a colon ("Afwezig: …").
fn is_automatic_subject(subject: &str) -> bool {
    let s = subject.trim().to_lowercase();
    const PHRASES: &[&str] = &[
        "automatisch antwoord",
        "automatisch bericht",
        "automatische reactie",
        "automatic reply",
        "auto reply",
        "auto-reply",
        "autoreply",
        "out of office",
        "out-of-office",
        "buiten kantoor",
    ];
    const WORDS: &[&str] = &["afwezig", "afwezigheid", "afwezigheidsbericht", "vakantie"];
    PHRASES.iter().any(|p| s.starts_with(p))
        || WORDS.iter().any(|w| {
            s.strip_prefix(w)
                .is_some_and(|rest| rest.is_empty() || rest.trim_start().starts_with(':'))
        })
}

/// The Message-IDs a delivery report is about: from the returned message or its headers, the
/// report's `Original-Message-ID`, the report's own In-Reply-To/References, and as a last
/// resort `Message-ID:` lines quoted in its text.
fn bounced_ids(msg: &Message<'_>, thread_refs: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    fn add(ids: &mut Vec<String>, id: String) {
        if id.contains('@') && !ids.contains(&id) {
            ids.push(id);
        }
    }
    for part in msg.parts.iter().skip(1) {
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id() {
                    add(&mut ids, clean_id(id));
                }
            }
            PartType::Text(text) if is_header_part(part) => {
                for id in ids_in_header_text(text) {
                    add(&mut ids, id);
                }
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) if is_header_part(part) => {
                for id in ids_in_header_text(&String::from_utf8_lossy(bytes)) {
                    add(&mut ids, id);
                }
            }
            _ => {}
        }
    }
    for id in thread_refs {
        add(&mut ids, id.clone());
    }
    if ids.is_empty() {
        for id in ids_in_header_text(&body_text_raw(msg)) {
            add(&mut ids, id);
        }
    }
    ids
}

/// message/delivery-status, text/rfc822-headers and message/rfc822-headers parts.
fn is_header_part(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|ct| {
        let sub = ct.subtype().unwrap_or("").to_ascii_lowercase();
        let main = ct.ctype().to_ascii_lowercase();
        (main == "message" && (sub == "delivery-status" || sub == "rfc822-headers"))
            || (main == "text" && sub == "rfc822-headers")
    })
}

/// `Message-ID:` and `Original-Message-ID:` values in header-formatted text.
fn ids_in_header_text(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start_matches(['>', ' ', '\t']);
        let lower = trimmed.to_ascii_lowercase();
        let value = ["message-id:", "original-message-id:"]
            .iter()
            .find_map(|p| lower.starts_with(p).then(|| &trimmed[p.len()..]));
        let Some(value) = value else {
            continue;
        };
        // The id may be folded onto the next line.
        let mut value = value.trim().to_string();
        if value.is_empty()
            && let Some(next) = lines.get(i + 1)
        {
            value = next.trim().to_string();
        }
        let id = clean_id(value.split_whitespace().next().unwrap_or(""));
        if id.contains('@') && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The message's text parts as written (HTML rendered), before quote stripping.
fn body_text_raw(msg: &Message<'_>) -> String {
    let mut pieces: Vec<String> = Vec::new();
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(t) => pieces.push(t.to_string()),
            PartType::Html(h) => pieces.push(html_to_text(h)),
            _ => {}
        }
    }
    if pieces.iter().all(|p| p.trim().is_empty()) {
        // No text/plain part: render the first HTML part.
        if let Some(PartType::Html(h)) = msg
            .html_body
            .first()
            .and_then(|&id| msg.parts.get(id as usize))
            .map(|p| &p.body)
        {
            pieces = vec![html_to_text(h)];
        }
    }
    pieces
        .iter()
        .map(|p| p.replace("\r\n", "\n").replace('\r', "\n"))
        .map(|p| p.trim_matches('\n').to_string())
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The resident's own words: the text part (or rendered HTML) without the quoted reply tail.
fn body_text(msg: &Message<'_>) -> String {
    let text = body_text_raw(msg);
    let stripped = strip_quoted_tail(&text);
    stripped
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Cuts the quoted earlier message from a reply, conservatively: only when an attribution line
/// ("Op … schreef …:", "On … wrote:") is followed by nothing but quoted ("> ") lines, or at an
/// Outlook-style separator ("-----Oorspronkelijk bericht-----", or a "Van:/Verzonden:/Aan:/
/// Onderwerp:" block). Never cuts when nothing would remain.
pub fn strip_quoted_tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = None;
    for i in 0..lines.len() {
        let line = lines[i].trim();
        if is_separator(line) || is_outlook_header_block(&lines[i..]) {
            cut = Some(i);
            break;
        }
        // The attribution may wrap over two lines (long names and addresses).
        for span in 1..=2 {
            if i + span > lines.len() {
                break;
            }
            let joined = lines[i..i + span]
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ");
            if is_attribution(&joined) && only_quotes_follow(&lines[i + span..]) {
                cut = Some(i);
                break;
            }
        }
        if cut.is_some() {
            break;
        }
    }
    // A quote block at the very end without an attribution line.
    if cut.is_none() {
        let first_quote = lines
            .iter()
            .rposition(|l| !l.trim().is_empty() && !l.trim_start().starts_with('>'))
            .map(|last_own| last_own + 1);
        if let Some(start) = first_quote
            && start < lines.len()
            && lines[start..]
                .iter()
                .any(|l| l.trim_start().starts_with('>'))
            && lines[start..]
                .iter()
                .filter(|l| !l.trim().is_empty())
                .count()
                >= 2
        {
            cut = Some(start);
        }
    }
    match cut {
        Some(i) if lines[..i].iter().any(|l| !l.trim().is_empty()) => lines[..i].join("\n"),
        _ => text.to_string(),
    }
}

fn is_attribution(line: &str) -> bool {
    let lower = line.to_lowercase();
    if !lower.ends_with(':') {
        return false;
    }
    (lower.starts_with("op ") && lower.contains(" schreef"))
        || (lower.starts_with("on ") && lower.contains(" wrote"))
        || (lower.starts_with("am ") && lower.contains(" schrieb"))
        || (lower.starts_with("le ") && lower.contains(" a écrit"))
}

fn only_quotes_follow(rest: &[&str]) -> bool {
    let non_empty: Vec<&&str> = rest.iter().filter(|l| !l.trim().is_empty()).collect();
    !non_empty.is_empty() && non_empty.iter().all(|l| l.trim_start().starts_with('>'))
}

fn is_separator(line: &str) -> bool {
    let lower = line.to_lowercase();
    let core = lower.trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
    (lower.starts_with("---") || lower.starts_with("___"))
        && [
            "oorspronkelijk bericht",
            "original message",
            "doorgestuurd bericht",
        ]
        .contains(&core)
}

/// Outlook's reply header: "Van:" followed within four lines by "Verzonden:"/"Datum:" and
/// "Onderwerp:" (or the English "From:", "Sent:", "Subject:").
fn is_outlook_header_block(lines: &[&str]) -> bool {
    let starts = |l: &str, ps: &[&str]| {
        let lower = l.trim().to_lowercase();
        ps.iter().any(|p| lower.starts_with(p))
    };
    let Some(first) = lines.first() else {
        return false;
    };
    if !starts(first, &["van:", "from:"]) {
        return false;
    }
    let window = &lines[1..lines.len().min(6)];
    window
        .iter()
        .any(|l| starts(l, &["verzonden:", "datum:", "sent:", "date:"]))
        && window
            .iter()
            .any(|l| starts(l, &["onderwerp:", "subject:"]))
}

/// Attachments with their bytes; body text parts are not attachments.
fn attachments(msg: &Message<'_>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (n, &id) in msg.attachments.iter().enumerate() {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        let data: Vec<u8> = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Message(m) => m.raw_message().to_vec(),
            PartType::Multipart(_) => continue,
        };
        let filename = part
            .attachment_name()
            .map(sanitize_filename)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| default_filename(n + 1, &content_type));
        out.push(Attachment {
            filename,
            content_type,
            data: Some(data),
            reference: None,
        });
    }
    out
}

/// A file name without directories or control characters.
fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string()
}

fn default_filename(n: usize, content_type: &str) -> String {
    let ext = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        _ => "bin",
    };
    format!("bijlage-{n}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}")
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes()
    }

    const BASIC: &str = "From: \"Anna de Vries\" <Anna.de.Vries@Example.NL>\n\
        To: gemeente@utrecht.nl\n\
        Subject: Re: Losse stoeptegel [Loket #42]\n\
        Date: Tue, 3 Jun 2025 10:15:00 +0200\n\
        Message-ID: <abc.123@mail.example.nl>\n\
        In-Reply-To: <loket-7@utrecht.nl>\n\
        References: <first@mail.example.nl>\n <loket-7@utrecht.nl>\n\
        Content-Type: text/plain; charset=utf-8";

    #[test]
    fn plain_reply_fields() {
        let m = parse(
            &msg(
                BASIC,
                "Hij ligt er nog steeds.\n\nAnna\n\nOp 2 jun. 2025 om 09:00 schreef Gemeente Utrecht <gemeente@utrecht.nl>:\n> Dank voor uw melding.\n>\n> Met vriendelijke groet\n",
            ),
            1,
        );
        assert_eq!(m.external_id, "abc.123@mail.example.nl");
        assert_eq!(m.author_id, "anna.de.vries@example.nl");
        assert_eq!(m.author_name, "Anna de Vries");
        assert_eq!(m.text, "Hij ligt er nog steeds.\n\nAnna");
        assert_eq!(m.sent_at_ms, 1_748_938_500_000);
        assert_eq!(m.kind, MessageKind::Normal);
        assert_eq!(
            m.thread_refs,
            vec!["first@mail.example.nl", "loket-7@utrecht.nl"]
        );
        assert_eq!(m.conversation_hint, Some(42));
        assert_eq!(
            m.reply_context["subject"],
            "Re: Losse stoeptegel [Loket #42]"
        );
        assert_eq!(m.reply_context["message_id"], "abc.123@mail.example.nl");
        assert_eq!(
            m.reply_context["references"],
            serde_json::json!(["first@mail.example.nl", "loket-7@utrecht.nl"])
        );
        assert!(m.reply_context.get("reply_to").is_none());
    }

    #[test]
    fn missing_message_id_gets_a_stable_synthetic_one() {
        let raw = msg(
            "From: a@b.nl\nSubject: Hallo\nDate: Tue, 3 Jun 2025 10:15:00 +0200",
            "Tekst",
        );
        let a = parse(&raw, 1);
        let b = parse(&raw, 2);
        assert_eq!(a.external_id, b.external_id);
        assert!(is_synthetic_id(&a.external_id));
        assert!(a.reply_context["message_id"].is_null());
        let other = parse(
            &msg(
                "From: a@b.nl\nSubject: Hallo\nDate: Tue, 3 Jun 2025 10:15:00 +0200",
                "Andere tekst",
            ),
            1,
        );
        assert_ne!(a.external_id, other.external_id);
    }

    #[test]
    fn missing_date_uses_the_arrival_time() {
        let m = parse(&msg("From: a@b.nl\nSubject: x", "y"), 1234);
        assert_eq!(m.sent_at_ms, 1234);
    }

    #[test]
    fn tokens_and_reply_subjects() {
        assert_eq!(subject_token(7), "[Loket #7]");
        assert_eq!(
            find_subject_token("Re: iets [loket # 12] en meer"),
            Some(12)
        );
        assert_eq!(find_subject_token("[Loket #x] [Loket #3]"), Some(3));
        assert_eq!(find_subject_token("Loket #3"), None);
        assert_eq!(
            reply_subject("Losse stoeptegel", 5),
            "Re: Losse stoeptegel [Loket #5]"
        );
        assert_eq!(
            reply_subject("RE: Antw: Re[2]: Losse stoeptegel [Loket #5]", 5),
            "Re: Losse stoeptegel [Loket #5]"
        );
        assert_eq!(
            reply_subject("Re: Losse stoeptegel [Loket #4]", 5),
            "Re: Losse stoeptegel [Loket #5]"
        );
        assert_eq!(reply_subject("", 9), "Re: Uw bericht [Loket #9]");
        assert_eq!(
            reply_subject("Reparatie lantaarn", 1),
            "Re: Reparatie lantaarn [Loket #1]"
        );
    }

    #[test]
    fn quote_stripping_is_conservative() {
        // Attribution wrapped over two lines.
        let t = "Nee.\n\nOn Mon, 2 Jun 2025 at 09:00, Gemeente Utrecht\n<gemeente@utrecht.nl> wrote:\n> vraag\n";
        assert_eq!(strip_quoted_tail(t).trim(), "Nee.");
        // Own text after the quote (inline answers): keep everything.
        let t = "Op 2 jun. schreef X:\n> vraag 1\nantwoord 1\n> vraag 2\nantwoord 2";
        assert_eq!(strip_quoted_tail(t), t);
        // Outlook.
        let t = "Prima.\n\n-----Oorspronkelijk bericht-----\nVan: Gemeente\nOnderwerp: x\n\ntekst";
        assert_eq!(strip_quoted_tail(t).trim(), "Prima.");
        let t = "Prima.\n\nVan: Gemeente Utrecht <g@u.nl>\nVerzonden: maandag 2 juni 2025 09:00\nAan: Anna\nOnderwerp: RE: x\n\ntekst";
        assert_eq!(strip_quoted_tail(t).trim(), "Prima.");
        // Nothing of our own: keep the text.
        let t = "> alleen een citaat\n> meer";
        assert_eq!(strip_quoted_tail(t), t);
        // A single quoted line at the end is kept (could be a citation in the resident's text).
        let t = "Zoals u schreef:\n> de weg is dicht";
        assert_eq!(strip_quoted_tail(t), t);
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let m = parse(
            &msg(
                "From: a@b.nl\nSubject: x\nMessage-ID: <h@b.nl>\nContent-Type: text/html; charset=utf-8",
                "<html><body><p>Beste gemeente,</p><p>Er ligt <b>afval</b> op straat.</p></body></html>",
            ),
            1,
        );
        assert_eq!(m.text, "Beste gemeente,\n\nEr ligt afval op straat.");
        assert!(!m.text.contains('<'));
        assert!(m.attachments.is_empty());
    }

    #[test]
    fn alternative_prefers_plain_text() {
        let body = "--b\nContent-Type: text/plain; charset=utf-8\n\nPlatte tekst\n--b\nContent-Type: text/html\n\n<p>HTML <i>tekst</i></p>\n--b--\n";
        let m = parse(
            &msg(
                "From: a@b.nl\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b",
                body,
            ),
            1,
        );
        assert_eq!(m.text, "Platte tekst");
        assert!(m.attachments.is_empty());
    }

    #[test]
    fn attachments_keep_bytes_name_and_type() {
        let body = "--b\nContent-Type: text/plain\n\nZie foto.\n--b\nContent-Type: image/png; name=\"../foto.png\"\nContent-Disposition: attachment; filename=\"../foto.png\"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n";
        let m = parse(
            &msg(
                "From: a@b.nl\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b",
                body,
            ),
            1,
        );
        assert_eq!(m.text, "Zie foto.");
        assert_eq!(m.attachments.len(), 1);
        let a = &m.attachments[0];
        assert_eq!(a.filename, "foto.png");
        assert_eq!(a.content_type, "image/png");
        assert_eq!(a.data.as_deref(), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    }

    #[test]
    fn oversized_messages_keep_headers_and_say_so() {
        let mut raw = msg(BASIC, "");
        raw.extend(std::iter::repeat_n(b'x', MAX_MESSAGE_BYTES + 10));
        let m = parse(&raw, 1);
        assert_eq!(m.external_id, "abc.123@mail.example.nl");
        assert_eq!(m.author_id, "anna.de.vries@example.nl");
        assert!(m.text.contains("te groot"), "{}", m.text);
        assert!(m.attachments.is_empty());
        assert_eq!(m.conversation_hint, Some(42));
    }

    #[test]
    fn automatic_messages() {
        let auto = |h: &str| parse(&msg(&format!("From: a@b.nl\n{h}"), "x"), 1).kind;
        assert_eq!(
            auto("Subject: vraag\nAuto-Submitted: auto-replied"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nAuto-Submitted: no"),
            MessageKind::Normal
        );
        assert_eq!(
            auto("Subject: vraag\nX-Autoreply: yes"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nX-Autorespond: ja"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nPrecedence: bulk"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nPrecedence: List"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nList-Id: <buurt.lists.example>"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: vraag\nList-Unsubscribe: <mailto:u@example.nl>"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: Automatisch antwoord: vraag"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: Out of Office: vraag"),
            MessageKind::Automatic
        );
        assert_eq!(auto("Subject: Afwezig"), MessageKind::Automatic);
        assert_eq!(
            auto("Subject: Afwezig: tot 12 juni"),
            MessageKind::Automatic
        );
        assert_eq!(
            auto("Subject: Afwezigheid vuilniswagen"),
            MessageKind::Normal
        );
        assert_eq!(auto("Subject: Vakantiepark overlast"), MessageKind::Normal);
    }

    #[test]
    fn bounce_by_sender_uses_in_reply_to() {
        let m = parse(
            &msg(
                "From: MAILER-DAEMON@mx.example.nl\nSubject: Undelivered\nIn-Reply-To: <loket-9@utrecht.nl>",
                "Could not deliver.",
            ),
            1,
        );
        assert_eq!(
            m.kind,
            MessageKind::Bounce {
                about: vec!["loket-9@utrecht.nl".into()]
            }
        );
    }

    #[test]
    fn bounce_with_rfc822_headers_part() {
        let body = "--r\nContent-Type: text/plain\n\nFailed.\n--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.nl\n\nFinal-Recipient: rfc822; x@example.nl\nAction: failed\nStatus: 5.1.1\n\n--r\nContent-Type: text/rfc822-headers\n\nFrom: Gemeente <g@utrecht.nl>\nMessage-ID:\n <loket-11@utrecht.nl>\nSubject: x\n--r--\n";
        let m = parse(
            &msg(
                "From: Mail Delivery System <bounces@mx.example.nl>\nSubject: Returned mail\nContent-Type: multipart/report; report-type=delivery-status; boundary=r",
                body,
            ),
            1,
        );
        assert_eq!(
            m.kind,
            MessageKind::Bounce {
                about: vec!["loket-11@utrecht.nl".into()]
            }
        );
    }

    #[test]
    fn reply_to_is_kept_for_the_answer() {
        let m = parse(
            &msg(
                "From: Formulier <noreply@forms.example.nl>\nReply-To: Piet <Piet@Example.nl>\nSubject: Melding",
                "tekst",
            ),
            1,
        );
        assert_eq!(m.author_id, "noreply@forms.example.nl");
        assert_eq!(m.reply_context["reply_to"], "piet@example.nl");
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [
            &b""[..],
            b"\x00\x01\x02",
            b"no headers at all",
            b"From:\r\n\r\n",
        ] {
            let m = parse(raw, 5);
            assert!(!m.external_id.is_empty());
        }
    }
}
