//! HTML to plain text: what the e-mail and Mastodon renderers share.
//!
//! A small tokenizer, not a browser: [`tokens`] splits HTML into text, start tags (with their
//! attributes) and end tags, drops comments, doctypes and processing instructions, and keeps a
//! '<' that opens no tag as text. [`decode_entities`] decodes character references, and
//! [`Writer`] builds the text line by line. Each channel keeps its own rules for which elements
//! mean what (`email::html`, `mastodon::html`). Nothing here executes or renders anything.

/// One piece of HTML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// Text, character references decoded.
    Text(String),
    /// A start tag: name in lower case, attribute names in lower case, values decoded.
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        /// Written `<name … />`.
        self_closing: bool,
    },
    End {
        name: String,
    },
}

impl Token {
    /// The value of a start tag's attribute.
    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Token::Start { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

/// The tokens of an HTML text, in order.
pub(crate) fn tokens(html: &str) -> Tokens<'_> {
    Tokens { rest: html }
}

pub(crate) struct Tokens<'a> {
    rest: &'a str,
}

/// What starts at a '<'.
enum Markup<'a> {
    /// `<!-- … -->`, `<!…>`, `<?…>`: `len` bytes that show nothing.
    Skip { len: usize },
    /// A tag: what is between '<' and '>'.
    Tag { inner: &'a str },
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            // Text runs to the first '<' that opens markup; a '<' that opens none is text.
            let mut at = 0;
            let markup = loop {
                match self.rest[at..].find('<') {
                    None => break None,
                    Some(lt) => {
                        at += lt;
                        if let Some(m) = markup(&self.rest[at..]) {
                            break Some(m);
                        }
                        at += 1;
                    }
                }
            };
            let Some(markup) = markup else {
                let text = std::mem::take(&mut self.rest);
                return Some(Token::Text(decode_entities(text)));
            };
            if at > 0 {
                let text = &self.rest[..at];
                self.rest = &self.rest[at..];
                return Some(Token::Text(decode_entities(text)));
            }
            match markup {
                Markup::Skip { len } => self.rest = &self.rest[len..],
                Markup::Tag { inner } => {
                    self.rest = &self.rest[inner.len() + 2..];
                    return Some(tag(inner));
                }
            }
        }
    }
}

/// The markup `s` (which starts with '<') opens, if any.
fn markup(s: &str) -> Option<Markup<'_>> {
    if let Some(after) = s.strip_prefix("<!--") {
        let len = after.find("-->").map_or(s.len(), |end| 4 + end + 3);
        return Some(Markup::Skip { len });
    }
    let bytes = s.as_bytes();
    if !bytes
        .get(1)
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?'))
    {
        // "a < b", "<3": text in HTML.
        return None;
    }
    let end = tag_end(s)?;
    let tag = match bytes[1] {
        b'/' => bytes[2].is_ascii_alphabetic(),
        c => c.is_ascii_alphabetic(),
    };
    if !tag {
        // Doctype, processing instruction, "</>" or "</ p>": nothing to show.
        return Some(Markup::Skip { len: end + 1 });
    }
    Some(Markup::Tag { inner: &s[1..end] })
}

/// Index of the '>' closing the tag that starts at byte 0, skipping quoted attribute values. An
/// unquoted '<' first means there is no tag here.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.bytes().enumerate().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return Some(i),
            (None, b'<') => return None,
            _ => {}
        }
    }
    None
}

/// A tag from what is between '<' and '>' (starting with the name or '/' and the name).
fn tag(inner: &str) -> Token {
    if let Some(closing) = inner.strip_prefix('/') {
        // Anything after an end tag's name means nothing.
        return Token::End {
            name: name_of(closing).0,
        };
    }
    let (name, mut s) = name_of(inner);
    let mut attrs = Vec::new();
    let self_closing;
    loop {
        let next = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if next.is_empty() {
            self_closing = s.contains('/');
            break;
        }
        s = next;
        let key_len = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        let key = s[..key_len].to_ascii_lowercase();
        s = s[key_len..].trim_start();
        let mut value = String::new();
        if let Some(after_eq) = s.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let (raw, rest) = match after_eq.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after_eq[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    after_eq.split_at(after_eq.find(char::is_whitespace).unwrap_or(after_eq.len()))
                }
            };
            value = decode(raw, true);
            s = rest;
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
    }
    Token::Start {
        name,
        attrs,
        self_closing,
    }
}

/// A tag's name in lower case, and what follows it.
fn name_of(s: &str) -> (String, &str) {
    let len = s
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(s.len());
    (s[..len].to_ascii_lowercase(), &s[len..])
}

/// Decodes character references in text: every named one HTML knows (`&eacute;`), every numeric
/// one (`&#233;`, `&#xE9;`), and the common ones written without ';' (`&amp`, `&lt`, `&#233`).
/// What is not a reference stays as written.
pub(crate) fn decode_entities(s: &str) -> String {
    decode(s, false)
}

/// Named references also understood without their ';', as browsers do.
const WITHOUT_SEMICOLON: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
];

/// [`decode_entities`]; in an attribute value a named reference without ';' followed by '=' stays
/// as written (`?a=1&lt=2` is a URL, not "<=2").
fn decode(s: &str, in_attribute: bool) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |i| i + 1);
        let name = &rest[1..end];
        let terminated = rest[end..].starts_with(';');
        let decoded = if let Some(number) = name.strip_prefix('#') {
            numeric(number)
        } else if terminated {
            named(name)
        } else if in_attribute && rest[end..].starts_with('=') {
            None
        } else {
            WITHOUT_SEMICOLON
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| *c)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + usize::from(terminated)..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `233`, `x E9`: the character, U+FFFD for a number that is none (0, a surrogate, too large).
fn numeric(number: &str) -> Option<char> {
    let (digits, radix) = match number.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let c = u32::from_str_radix(digits, radix)
        .ok()
        .and_then(char::from_u32)
        .filter(|c| *c != '\0');
    Some(c.unwrap_or(char::REPLACEMENT_CHARACTER))
}

/// The character a named reference (`eacute`) stands for.
fn named(name: &str) -> Option<char> {
    let mut out = String::new();
    mail_parser::decoders::html::add_html_token(&mut out, format!("&{name};").as_bytes(), false);
    // An unknown name comes back as written.
    let mut chars = out.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Plain text built line by line.
#[derive(Default)]
pub(crate) struct Writer {
    lines: Vec<String>,
    line: String,
    /// Put before every line with text when it ends (e-mail quoting: "> ").
    pub(crate) prefix: String,
}

impl Writer {
    /// The line being written, without [`Writer::prefix`].
    pub(crate) fn line(&self) -> &str {
        &self.line
    }

    /// At a line start or after a space: where collapsed whitespace adds nothing.
    pub(crate) fn at_space(&self) -> bool {
        self.line.is_empty() || self.line.ends_with(' ')
    }

    /// Appends text as written; '\n' ends the line, '\r' is dropped.
    pub(crate) fn push(&mut self, text: &str) {
        for (n, part) in text.split('\n').enumerate() {
            if n > 0 {
                self.break_line();
            }
            self.line.extend(part.chars().filter(|c| *c != '\r'));
        }
    }

    /// Appends text as HTML shows it: a run of whitespace is one space, none at a line start. A
    /// no-break space stays (as a space when the text is done).
    pub(crate) fn push_collapsed(&mut self, text: &str) {
        for c in text.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !self.at_space() {
                    self.line.push(' ');
                }
            } else {
                self.line.push(c);
            }
        }
    }

    /// Ends the current line, even an empty one (`<br>`).
    pub(crate) fn break_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.trim_end();
        self.lines.push(if line.is_empty() {
            String::new()
        } else {
            format!("{}{line}", self.prefix)
        });
    }

    /// Ends the current line if it has text (a block starts or ends); a line of only spaces is
    /// dropped.
    pub(crate) fn newline(&mut self) {
        if self.line.trim().is_empty() {
            self.line.clear();
        } else {
            self.break_line();
        }
    }

    /// Ends the current line and leaves an empty one: a paragraph ends.
    pub(crate) fn paragraph(&mut self) {
        self.newline();
        self.lines.push(String::new());
    }

    /// The text: line ends trimmed, no-break spaces as spaces, a run of empty lines as one, none
    /// at the start or the end.
    pub(crate) fn finish(mut self) -> String {
        self.newline();
        let mut out = String::new();
        let mut blank = false;
        for line in &self.lines {
            let line = line.trim_end();
            if line.is_empty() {
                blank = true;
                continue;
            }
            if !out.is_empty() {
                out.push_str(if blank { "\n\n" } else { "\n" });
            }
            blank = false;
            out.extend(line.chars().map(|c| if c == '\u{a0}' { ' ' } else { c }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(name: &str, attrs: &[(&str, &str)]) -> Token {
        Token::Start {
            name: name.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            self_closing: false,
        }
    }

    fn text(t: &str) -> Token {
        Token::Text(t.into())
    }

    fn end(name: &str) -> Token {
        Token::End { name: name.into() }
    }

    #[test]
    fn tags_attributes_and_text() {
        let got: Vec<Token> = tokens(
            "<!DOCTYPE html><P Class=\"a b\" id=x data-v='1 &amp; 2'>Hoi&nbsp;<b>daar</b></p><br/>",
        )
        .collect();
        assert_eq!(
            got,
            vec![
                start("p", &[("class", "a b"), ("id", "x"), ("data-v", "1 & 2")]),
                text("Hoi\u{a0}"),
                start("b", &[]),
                text("daar"),
                end("b"),
                end("p"),
                Token::Start {
                    name: "br".into(),
                    attrs: vec![],
                    self_closing: true
                },
            ]
        );
        assert_eq!(got[0].attr("id"), Some("x"));
        assert_eq!(got[0].attr("href"), None);
        // An unquoted value may end in '/'; that is no self-closing tag.
        assert_eq!(
            tokens("<a href=https://x/>").next(),
            Some(start("a", &[("href", "https://x/")]))
        );
        assert_eq!(tokens("<o:p></o:p>").count(), 2);
    }

    #[test]
    fn comments_and_odd_angle_brackets() {
        let all = |html: &str| tokens(html).collect::<Vec<_>>();
        assert_eq!(all("a<!-- <p>x</p> -->b"), vec![text("a"), text("b")]);
        assert_eq!(all("a<!-- open"), vec![text("a")]);
        assert_eq!(all("<?xml version=\"1.0\"?>x"), vec![text("x")]);
        // A '<' that opens no tag is text; "</" without a name opens nothing to show.
        assert_eq!(all("3 < 4 en 5 <3 </"), vec![text("3 < 4 en 5 <3 </")]);
        assert_eq!(all("a</>b</ p>c"), vec![text("a"), text("b"), text("c")]);
        assert_eq!(all("<p"), vec![text("<p")]);
        assert_eq!(all("<a href=\"x>y"), vec![text("<a href=\"x>y")]);
        assert_eq!(
            all("x <y <b>z</b>"),
            vec![text("x <y "), start("b", &[]), text("z"), end("b")]
        );
        // A quoted '>' does not end the tag.
        assert_eq!(
            all("<span title=\"a>b\">ok</span>"),
            vec![start("span", &[("title", "a>b")]), text("ok"), end("span")]
        );
    }

    #[test]
    fn named_and_numeric_references() {
        assert_eq!(
            decode_entities("&quot;&amp;&lt;&gt;&apos;&nbsp;&eacute;&euro;&hellip;&Uuml;"),
            "\"&<>'\u{a0}é€…Ü"
        );
        assert_eq!(
            decode_entities("&#39;&#233;&#xE9;&#X263A;&#x1F600;"),
            "'éé☺😀"
        );
    }

    #[test]
    fn references_without_semicolon_and_broken_ones() {
        assert_eq!(
            decode_entities("a &amp b &lt c &#233 &nbsp"),
            "a & b < c é \u{a0}"
        );
        // Only the common names work without ';'.
        assert_eq!(decode_entities("&eacute &euro"), "&eacute &euro");
        assert_eq!(
            decode_entities("&unknown; & &; &#; &#xZZ; &ampx"),
            "&unknown; & &; &#; &#xZZ; &ampx"
        );
        assert_eq!(
            decode_entities("&#99999999;&#0;&#xD800;"),
            "\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(decode_entities("&amp;amp;"), "&amp;");
        // In an attribute, `&name=` is part of a URL.
        assert_eq!(
            tokens("<a href=\"/x?a=1&lt=2&amp;b=3&copy=4\">")
                .next()
                .unwrap()
                .attr("href"),
            Some("/x?a=1&lt=2&b=3&copy=4")
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for html in [
            "",
            "<",
            "<<<",
            "&",
            "&#",
            "&#x",
            "&#x;",
            "<é>",
            "</é>",
            "&é;",
            "é<b>é</b>é",
            "<a href='é>",
            "<a href=é>é",
            "<p =x>",
            "<a b c=>",
            "<!",
            "<!-",
            "<!--",
            "<?",
            "</",
            "</a",
            "<a/",
            "<a /",
            "<a\u{a0}b>",
        ] {
            let mut w = Writer::default();
            for t in tokens(html) {
                if let Token::Text(t) = t {
                    w.push(&t);
                    w.push_collapsed(&t);
                }
            }
            let _ = w.finish();
        }
    }

    #[test]
    fn writer_lines_paragraphs_and_spaces() {
        let mut w = Writer::default();
        w.push_collapsed("  een \n  twee\u{a0} ");
        w.break_line();
        w.break_line();
        w.push("  drie\r\nvier");
        w.paragraph();
        w.paragraph();
        w.push(" ");
        w.newline();
        w.prefix = "> ".into();
        w.push("vijf  ");
        w.newline();
        w.newline();
        assert_eq!(w.finish(), "een twee\n\n  drie\nvier\n\n> vijf");

        let mut w = Writer::default();
        w.paragraph();
        w.push("a\u{a0} b");
        assert!(!w.at_space());
        w.paragraph();
        assert_eq!(w.finish(), "a  b");
    }
}
