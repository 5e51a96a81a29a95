//! HTML mail bodies rendered as plain text: Loket never keeps a resident's HTML.
//!
//! A small tag scanner, not a browser: block elements become line breaks, `<li>` a bullet,
//! `<blockquote>` quoted lines ("> ", so the quote stripper treats them like plain-text quotes),
//! links keep their address, and `<head>`, `<style>`, `<script>` and comments are dropped.

/// Elements that start and end on their own line.
const BLOCK: &[&str] = &[
    "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "h1", "h2", "h3",
    "h4", "h5", "h6", "pre", "hr", "address", "center", "form", "fieldset", "dl", "dt", "dd",
];

/// Elements whose content is never text for a reader.
const HIDDEN: &[&str] = &[
    "head", "style", "script", "template", "title", "noscript", "svg", "object",
];

/// Renders an HTML document as readable plain text.
pub fn html_to_text(html: &str) -> String {
    let mut out = Renderer::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        out.text(&html[text_start..i]);
        if html[i..].starts_with("<!--") {
            i = html[i + 4..]
                .find("-->")
                .map_or(bytes.len(), |e| i + 4 + e + 3);
            text_start = i;
            continue;
        }
        let Some(end) = tag_end(bytes, i + 1) else {
            // A lone '<' in text.
            out.text("<");
            i += 1;
            text_start = i;
            continue;
        };
        out.tag(&html[i + 1..end]);
        i = end + 1;
        text_start = i;
    }
    out.text(&html[text_start..]);
    out.finish()
}

/// The index of the '>' closing the tag that starts at `from`, skipping quoted attributes.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    match bytes.get(from) {
        Some(c) if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!' || *c == b'?' => {}
        _ => return None,
    }
    let mut quote = None;
    for (j, &c) in bytes.iter().enumerate().skip(from) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return Some(j),
            _ => {}
        }
    }
    None
}

#[derive(Default)]
struct Renderer {
    lines: Vec<String>,
    line: String,
    /// Inside `<head>`, `<style>`, … : depth of hidden elements.
    hidden: usize,
    pre: usize,
    quote: usize,
    /// The last character written was whitespace (or nothing on this line yet).
    space: bool,
    /// Address of the link being rendered and where its text starts in `line`.
    link: Option<(String, usize)>,
    list_depth: usize,
}

impl Renderer {
    fn text(&mut self, raw: &str) {
        if self.hidden > 0 || raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre > 0 {
            for (n, part) in decoded.split('\n').enumerate() {
                if n > 0 {
                    self.break_line();
                }
                self.line.push_str(&part.replace('\r', ""));
            }
            self.space = false;
            return;
        }
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !self.space && !self.line.is_empty() {
                    self.line.push(' ');
                }
                self.space = true;
            } else {
                self.line.push(if c == '\u{a0}' { ' ' } else { c });
                self.space = false;
            }
        }
    }

    fn tag(&mut self, inner: &str) {
        let inner = inner.trim();
        if inner.starts_with('!') || inner.starts_with('?') {
            return;
        }
        let closing = inner.starts_with('/');
        let body = inner.trim_start_matches('/');
        let name_end = body
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(body.len());
        let name = body[..name_end].to_ascii_lowercase();
        let self_closing = inner.ends_with('/');

        if HIDDEN.contains(&name.as_str()) {
            if closing {
                self.hidden = self.hidden.saturating_sub(1);
            } else if !self_closing {
                self.hidden += 1;
            }
            return;
        }
        if self.hidden > 0 {
            return;
        }
        match name.as_str() {
            "br" => self.break_line(),
            "li" if !closing => {
                self.block();
                let indent = "  ".repeat(self.list_depth.saturating_sub(1));
                self.line.push_str(&indent);
                self.line.push_str("- ");
                self.space = true;
            }
            "li" => self.block(),
            "ul" | "ol" => {
                self.block();
                if closing {
                    self.list_depth = self.list_depth.saturating_sub(1);
                } else {
                    self.list_depth += 1;
                }
            }
            "blockquote" => {
                self.block();
                if closing {
                    self.quote = self.quote.saturating_sub(1);
                } else {
                    self.quote += 1;
                }
            }
            "pre" => {
                self.block();
                if closing {
                    self.pre = self.pre.saturating_sub(1);
                } else {
                    self.pre += 1;
                }
            }
            "td" | "th" if closing && !self.space => {
                self.line.push(' ');
                self.space = true;
            }
            "a" if !closing => {
                self.link = attribute(body, "href").map(|href| (href, self.line.len()));
            }
            "a" => {
                if let Some((href, start)) = self.link.take() {
                    let shown = self.line.get(start..).unwrap_or("").trim().to_string();
                    let target = href.strip_prefix("mailto:").unwrap_or(&href);
                    let useful = href.starts_with("http://")
                        || href.starts_with("https://")
                        || href.starts_with("mailto:");
                    if useful && !shown.is_empty() && shown != target && shown != href {
                        self.line.push_str(&format!(" ({target})"));
                        self.space = false;
                    }
                }
            }
            "p" => {
                self.block();
                if closing {
                    // A paragraph ends with an empty line; runs of them collapse in `finish`.
                    self.lines.push(String::new());
                }
            }
            n if BLOCK.contains(&n) => self.block(),
            _ => {}
        }
    }

    /// Ends the current line if it has text.
    fn block(&mut self) {
        if !self.line.trim().is_empty() {
            self.break_line();
        }
    }

    fn break_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.trim_end();
        let prefix = "> ".repeat(self.quote);
        self.lines
            .push(format!("{prefix}{line}").trim_end().to_string());
        self.space = true;
    }

    fn finish(mut self) -> String {
        self.block();
        // Collapse runs of blank lines to one and trim the ends.
        let mut out = String::new();
        let mut blank = 0;
        for line in &self.lines {
            let line = line.trim_end();
            let is_blank = line.is_empty() || line.chars().all(|c| c == '>' || c == ' ');
            if is_blank {
                blank += 1;
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
                if blank > 0 {
                    out.push('\n');
                }
            }
            blank = 0;
            out.push_str(line);
        }
        out
    }
}

/// The value of an attribute in a tag's inside (`a href="…"`), entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(name) {
        let at = from + pos;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let v = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(v).trim().to_string());
    }
    None
}

/// Decodes `&amp;`, `&eacute;`, `&#233;` and `&#xE9;`; unknown entities stay as written.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        match end {
            Some(e) if rest.as_bytes()[e] == b';' && e > 1 => {
                let token = &rest[..=e];
                let before = out.len();
                mail_parser::decoders::html::add_html_token(&mut out, token.as_bytes(), false);
                if out.len() == before {
                    out.push_str(token);
                }
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines_and_hidden_parts_disappear() {
        let html = r#"<html><head><title>x</title><style>p{color:red}</style></head>
            <body><div>Beste gemeente,</div><div><br></div>
            <p>De lantaarnpaal bij <b>Kerkstraat&nbsp;12</b> is kapot &amp; het is er donker.</p>
            <script>alert(1)</script><!-- tracking --><p>Groet,<br>Anna</p></body></html>"#;
        assert_eq!(
            html_to_text(html),
            "Beste gemeente,\n\nDe lantaarnpaal bij Kerkstraat 12 is kapot & het is er donker.\n\nGroet,\nAnna"
        );
    }

    #[test]
    fn lists_links_quotes_and_entities() {
        let html = "<ul><li>&eacute;&eacute;n</li><li>twee &#8364; &#x263A;</li></ul>\
            <p>Zie <a href=\"https://example.org/foto\">de foto</a> of \
            <a href='https://example.org'>https://example.org</a>.</p>\
            <blockquote type=cite><p>Eerder bericht</p></blockquote><p>a &lt; b &unknown; &</p>";
        assert_eq!(
            html_to_text(html),
            "- één\n- twee € ☺\nZie de foto (https://example.org/foto) of https://example.org.\n\n> Eerder bericht\n\na < b &unknown; &"
        );
    }

    #[test]
    fn stray_angle_brackets_and_attributes_with_gt() {
        assert_eq!(
            html_to_text("3 < 4 en <span title=\"a>b\">ok</span>"),
            "3 < 4 en ok"
        );
        assert_eq!(
            html_to_text("<pre>regel 1\n  regel 2</pre>"),
            "regel 1\n  regel 2"
        );
    }
}
