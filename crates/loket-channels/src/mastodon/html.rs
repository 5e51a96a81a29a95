//! Status HTML to plain text.
//!
//! Mastodon sends a status's `content` as sanitised HTML: `<p>` paragraphs, `<br>` line breaks,
//! mention and hashtag links, and links whose visible text is split over `invisible`/`ellipsis`
//! spans (the full URL is the concatenation, which is what an agent wants to see). Other
//! fediverse servers send similar markup, sometimes with lists or quotes. A small tokenizer is
//! enough for that (the crate's shared [`crate::html`]); nothing here executes or renders
//! anything.

use crate::html::{Token, Writer, tokens};

/// Plain text of status HTML: tags stripped, `<br>` a line break, paragraphs separated by a
/// blank line, entities decoded.
pub fn to_text(html: &str) -> String {
    render(html, &|_| false).0
}

/// Like [`to_text`], but mention links at the very start of the text (before any words) whose
/// `href` satisfies `is_ours` are left out. Also says whether there was such a mention: a status
/// that starts by naming the municipality is addressed to it.
pub fn to_text_without_leading_mention(
    html: &str,
    is_ours: &dyn Fn(&str) -> bool,
) -> (String, bool) {
    render(html, is_ours)
}

fn is_mention_link(tok: &Token, is_ours: &dyn Fn(&str) -> bool) -> bool {
    let class = tok.attr("class").unwrap_or("");
    let href = tok.attr("href").unwrap_or("");
    let classes: Vec<&str> = class.split_whitespace().collect();
    (classes.contains(&"mention") && !classes.contains(&"hashtag"))
        || (!href.is_empty() && is_ours(href))
}

fn render(html: &str, is_ours: &dyn Fn(&str) -> bool) -> (String, bool) {
    let mut out = Writer::default();
    let mut leading = true;
    let mut ours_at_start = false;
    let mut skip_until_a_end = false;
    let mut in_other_mention = false;
    let mut after_removed = false;
    let mut skip_raw: Option<String> = None;
    let mut in_pre = 0usize;

    for tok in tokens(html) {
        if let Some(raw) = &skip_raw {
            if matches!(&tok, Token::End { name } if name == raw) {
                skip_raw = None;
            }
            continue;
        }
        if skip_until_a_end {
            if matches!(&tok, Token::End { name } if name == "a") {
                skip_until_a_end = false;
                after_removed = true;
            }
            continue;
        }
        match &tok {
            Token::Text(text) => {
                let mut text = if in_pre > 0 {
                    text.clone()
                } else {
                    text.replace(['\r', '\n'], " ")
                };
                if after_removed {
                    // No double space where the mention was.
                    if out.at_space() {
                        text = text.trim_start_matches([' ', '\u{a0}']).to_string();
                    }
                    after_removed = text.is_empty();
                }
                if leading && !in_other_mention && !text.trim().is_empty() {
                    leading = false;
                }
                out.push(&text);
            }
            Token::Start { name, .. } => match name.as_str() {
                "br" => out.break_line(),
                "li" => {
                    out.newline();
                    out.push("- ");
                }
                "pre" => in_pre += 1,
                "script" | "style" | "template" => skip_raw = Some(name.clone()),
                "a" if leading && is_mention_link(&tok, is_ours) => {
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
                    out.paragraph();
                }
                "li" | "div" => out.newline(),
                _ => {}
            },
        }
    }
    (out.finish().trim_start().to_string(), ours_at_start)
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
