//! HTML mail bodies rendered as plain text: Loket never keeps a resident's HTML.
//!
//! A small tag scanner, not a browser: block elements become line breaks, `<li>` a bullet,
//! `<blockquote>` quoted lines ("> ", so the quote stripper treats them like plain-text quotes),
//! links keep their address, and `<head>`, `<style>`, `<script>` and comments are dropped. The
//! tokens, entities and line handling are the crate's shared [`crate::html`].

use crate::html::{Token, Writer, tokens};

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
    for token in tokens(html) {
        match token {
            Token::Text(text) => out.text(&text),
            Token::Start { .. } => out.start(&token),
            Token::End { name } => out.end(&name),
        }
    }
    out.out.finish()
}

#[derive(Default)]
struct Renderer {
    out: Writer,
    /// Inside `<head>`, `<style>`, … : depth of hidden elements.
    hidden: usize,
    pre: usize,
    quote: usize,
    /// Address of the link being rendered and where its text starts in the line.
    link: Option<(String, usize)>,
    list_depth: usize,
}

impl Renderer {
    fn text(&mut self, text: &str) {
        match (self.hidden, self.pre) {
            (0, 0) => self.out.push_collapsed(text),
            (0, _) => self.out.push(text),
            _ => {}
        }
    }

    fn start(&mut self, token: &Token) {
        let Token::Start {
            name, self_closing, ..
        } = token
        else {
            return;
        };
        if HIDDEN.contains(&name.as_str()) {
            if !self_closing {
                self.hidden += 1;
            }
            return;
        }
        if self.hidden > 0 {
            return;
        }
        match name.as_str() {
            "br" => self.out.break_line(),
            "li" => {
                self.out.newline();
                let indent = "  ".repeat(self.list_depth.saturating_sub(1));
                self.out.push(&format!("{indent}- "));
            }
            "ul" | "ol" => {
                self.out.newline();
                self.list_depth += 1;
            }
            "blockquote" => {
                self.out.newline();
                self.quote += 1;
                self.out.prefix = "> ".repeat(self.quote);
            }
            "pre" => {
                self.out.newline();
                self.pre += 1;
            }
            "a" => {
                let href = token.attr("href").map(|h| h.trim().to_string());
                self.link = href.map(|h| (h, self.out.line().len()));
            }
            n if n == "p" || BLOCK.contains(&n) => self.out.newline(),
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        if HIDDEN.contains(&name) {
            self.hidden = self.hidden.saturating_sub(1);
            return;
        }
        if self.hidden > 0 {
            return;
        }
        match name {
            "br" => self.out.break_line(),
            "ul" | "ol" => {
                self.out.newline();
                self.list_depth = self.list_depth.saturating_sub(1);
            }
            "blockquote" => {
                self.out.newline();
                self.quote = self.quote.saturating_sub(1);
                self.out.prefix = "> ".repeat(self.quote);
            }
            "pre" => {
                self.out.newline();
                self.pre = self.pre.saturating_sub(1);
            }
            "td" | "th" if !self.out.at_space() => self.out.push(" "),
            "a" => self.end_link(),
            "p" => self.out.paragraph(),
            n if n == "li" || BLOCK.contains(&n) => self.out.newline(),
            _ => {}
        }
    }

    /// A link keeps its address after its text, unless the text is the address.
    fn end_link(&mut self) {
        let Some((href, start)) = self.link.take() else {
            return;
        };
        let shown = self.out.line().get(start..).unwrap_or("").trim();
        let target = href.strip_prefix("mailto:").unwrap_or(&href);
        let useful = href.starts_with("http://")
            || href.starts_with("https://")
            || href.starts_with("mailto:");
        if useful && !shown.is_empty() && shown != target && shown != href {
            self.out.push(&format!(" ({target})"));
        }
    }
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
