//! Status HTML to plain text.
//!
//! Mastodon sends a status's `content` as sanitised HTML: `<p>` paragraphs, `<br>` line breaks,
//! mention and hashtag links, and links whose visible text is split over `invisible`/`ellipsis`
//! spans (the full URL is the concatenation, which is what an agent wants to see). Other
//! fediverse servers send similar markup, sometimes with lists or quotes. A small tokenizer is
//! enough for that; nothing here executes or renders anything.

/// One piece of HTML.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Text(String),
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
}

impl Token {
    fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Token::Start { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

fn tokenize(html: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            out.push(Token::Text(rest.to_string()));
            break;
        };
        if lt > 0 {
            out.push(Token::Text(rest[..lt].to_string()));
            rest = &rest[lt..];
        }
        // `rest` starts with '<'.
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = match after.find("-->") {
                Some(end) => &after[end + 3..],
                None => "",
            };
            continue;
        }
        let Some(end) = tag_end(rest) else {
            // A lone '<' that opens no tag is text.
            out.push(Token::Text(rest.to_string()));
            break;
        };
        let inner = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(tok) = parse_tag(inner) {
            out.push(tok);
        } else {
            out.push(Token::Text(format!("<{inner}>")));
        }
    }
    out
}

/// Index of the '>' closing the tag that starts at byte 0, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '>' => return Some(i),
            None if c == '<' => return None,
            None => {}
        }
    }
    None
}

fn parse_tag(inner: &str) -> Option<Token> {
    // "< b" is text in HTML: a tag name follows '<' directly.
    if inner.starts_with(char::is_whitespace) {
        return None;
    }
    let inner = inner.trim_end();
    if let Some(name) = inner.strip_prefix('/') {
        let name = name.trim().to_ascii_lowercase();
        return valid_name(&name).then_some(Token::End { name });
    }
    if inner.starts_with('!') || inner.starts_with('?') {
        // Doctype or processing instruction: nothing to show.
        return Some(Token::Text(String::new()));
    }
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    let name_len = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = inner[..name_len].to_ascii_lowercase();
    if !valid_name(&name) {
        return None;
    }
    let mut attrs = Vec::new();
    let mut s = inner[name_len..].trim_start();
    while !s.is_empty() {
        let key_len = s
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(s.len());
        let key = s[..key_len].to_ascii_lowercase();
        s = s[key_len..].trim_start();
        let mut value = String::new();
        if let Some(after_eq) = s.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            if let Some(q) = after_eq.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &after_eq[1..];
                let close = body.find(q).unwrap_or(body.len());
                value = decode_entities(&body[..close]);
                s = body.get(close + 1..).unwrap_or("");
            } else {
                let len = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                value = decode_entities(&after_eq[..len]);
                s = &after_eq[len..];
            }
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
        s = s.trim_start();
    }
    Some(Token::Start { name, attrs })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Decodes the character references HTML uses in text: the named ones Mastodon and its
/// neighbours emit, and every numeric one. Unknown names stay as they are.
pub fn decode_entities(s: &str) -> String {
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
            .map(|i| i + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..end];
        let has_semicolon = rest[end..].starts_with(';');
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ if name.starts_with("#x") || name.starts_with("#X") => {
                u32::from_str_radix(&name[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if name.starts_with('#') => name[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + usize::from(has_semicolon)..];
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

/// Plain text of status HTML: tags stripped, `<br>` a line break, paragraphs separated by a
/// blank line, entities decoded.
pub fn to_text(html: &str) -> String {
    render(&tokenize(html), &|_| false).0
}

/// Like [`to_text`], but mention links at the very start of the text (before any words) whose
/// `href` satisfies `is_ours` are left out. Also says whether there was such a mention: a status
/// that starts by naming the municipality is addressed to it.
pub fn to_text_without_leading_mention(
    html: &str,
    is_ours: &dyn Fn(&str) -> bool,
) -> (String, bool) {
    render(&tokenize(html), is_ours)
}

fn is_mention_link(tok: &Token, is_ours: &dyn Fn(&str) -> bool) -> bool {
    let class = tok.attr("class").unwrap_or("");
    let href = tok.attr("href").unwrap_or("");
    let classes: Vec<&str> = class.split_whitespace().collect();
    (classes.contains(&"mention") && !classes.contains(&"hashtag"))
        || (!href.is_empty() && is_ours(href))
}

fn render(tokens: &[Token], is_ours: &dyn Fn(&str) -> bool) -> (String, bool) {
    let mut out = String::new();
    let mut leading = true;
    let mut ours_at_start = false;
    let mut skip_until_a_end = false;
    let mut in_other_mention = false;
    let mut after_removed = false;
    let mut skip_raw: Option<&str> = None;
    let mut in_pre = 0usize;

    for tok in tokens {
        if let Some(raw) = skip_raw {
            if matches!(tok, Token::End { name } if name == raw) {
                skip_raw = None;
            }
            continue;
        }
        if skip_until_a_end {
            if matches!(tok, Token::End { name } if name == "a") {
                skip_until_a_end = false;
                after_removed = true;
            }
            continue;
        }
        match tok {
            Token::Text(t) => {
                let text = decode_entities(t);
                let mut text = if in_pre > 0 {
                    text
                } else {
                    text.replace(['\r', '\n'], " ")
                };
                if after_removed {
                    // No double space where the mention was.
                    if out.is_empty() || out.ends_with([' ', '\n']) {
                        text = text.trim_start_matches(' ').to_string();
                    }
                    after_removed = text.is_empty();
                }
                if leading && !in_other_mention && !text.trim().is_empty() {
                    leading = false;
                }
                out.push_str(&text);
            }
            Token::Start { name, .. } => match name.as_str() {
                "br" => out.push('\n'),
                "li" => {
                    newline(&mut out);
                    out.push_str("- ");
                }
                "pre" => in_pre += 1,
                "script" | "style" | "template" => {
                    skip_raw = Some(match name.as_str() {
                        "script" => "script",
                        "style" => "style",
                        _ => "template",
                    })
                }
                "a" if leading && is_mention_link(tok, is_ours) => {
                    let href = tok.attr("href").unwrap_or("");
                    if is_ours(href) {
                        ours_at_start = true;
                        skip_until_a_end = true;
                    } else {
                        // Someone else's mention: shown, and the leading run goes on.
                        in_other_mention = true;
                    }
                }
                "a" => leading = false,
                _ => {}
            },
            Token::End { name } => match name.as_str() {
                "a" => in_other_mention = false,
                "p" | "blockquote" | "pre" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul"
                | "ol" => {
                    if name == "pre" {
                        in_pre = in_pre.saturating_sub(1);
                    }
                    paragraph(&mut out);
                }
                "li" | "div" => newline(&mut out),
                _ => {}
            },
        }
    }
    (tidy(&out), ours_at_start)
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn paragraph(out: &mut String) {
    if out.trim().is_empty() {
        return;
    }
    newline(out);
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// Trims line ends and the whole, at most one blank line in a row, and no run of spaces left by
/// a removed mention at a line start.
fn tidy(s: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
            lines.push("");
        } else {
            blank = 0;
            lines.push(line);
        }
    }
    let joined = lines.join("\n");
    joined.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_and_entities() {
        let html = "<p>&quot;Lantaarnpaal&quot; kapot &amp; donker</p><p>Hoek A&#39;straat<br />bij nr. 3 &#x1F600;</p>";
        assert_eq!(
            to_text(html),
            "\"Lantaarnpaal\" kapot & donker\n\nHoek A'straat\nbij nr. 3 😀"
        );
    }

    #[test]
    fn links_keep_the_full_url() {
        let html = "<p><a href=\"https://www.theguardian.com/money/x\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://www.</span><span class=\"ellipsis\">theguardian.com/mon</span><span class=\"invisible\">ey/x</span></a></p>";
        assert_eq!(to_text(html), "https://www.theguardian.com/money/x");
    }

    #[test]
    fn leading_mention_of_us_is_dropped_others_kept() {
        let ours = |h: &str| h == "https://social.overheid.nl/@utrecht";
        let html = "<p><span class=\"h-card\"><a href=\"https://social.overheid.nl/@utrecht\" class=\"u-url mention\">@<span>utrecht</span></a></span> Er ligt glas op het fietspad</p>";
        assert_eq!(
            to_text_without_leading_mention(html, &ours),
            ("Er ligt glas op het fietspad".to_string(), true)
        );

        let html = "<p><span class=\"h-card\"><a href=\"https://mastodon.social/@buur\" class=\"u-url mention\">@<span>buur</span></a></span> <span class=\"h-card\"><a href=\"https://social.overheid.nl/@utrecht\" class=\"u-url mention\">@<span>utrecht</span></a></span> kijk</p>";
        assert_eq!(
            to_text_without_leading_mention(html, &ours),
            ("@buur kijk".to_string(), true)
        );
    }

    #[test]
    fn mention_later_in_the_text_is_not_at_the_start() {
        let ours = |h: &str| h == "https://social.overheid.nl/@utrecht";
        let html = "<p>Wat een gedoe weer, <span class=\"h-card\"><a href=\"https://social.overheid.nl/@utrecht\" class=\"u-url mention\">@<span>utrecht</span></a></span></p>";
        assert_eq!(
            to_text_without_leading_mention(html, &ours),
            ("Wat een gedoe weer, @utrecht".to_string(), false)
        );
        // A hashtag link is not a mention.
        let html = "<p><a href=\"https://x/tags/afval\" class=\"mention hashtag\">#<span>afval</span></a> <a href=\"https://social.overheid.nl/@utrecht\" class=\"u-url mention\">@utrecht</a></p>";
        assert!(!to_text_without_leading_mention(html, &ours).1);
    }

    #[test]
    fn odd_markup_does_not_panic() {
        for html in [
            "",
            "<",
            "a < b en c > d",
            "<p",
            "<a href=\"x>y",
            "&",
            "&#xZZ; &#99999999; &unknown; &amp",
            "<!-- x",
            "<p>é<br>ü</p>",
            "<script>alert(1)</script>zichtbaar",
        ] {
            let _ = to_text(html);
        }
        assert_eq!(to_text("a < b en c > d"), "a < b en c > d");
        assert_eq!(to_text("<script>alert(1)</script>zichtbaar"), "zichtbaar");
        assert_eq!(to_text("&amp"), "&");
        assert_eq!(
            to_text("<ul><li>een</li><li>twee</li></ul><p>drie</p>"),
            "- een\n- twee\n\ndrie"
        );
    }
}
