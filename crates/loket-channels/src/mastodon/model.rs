//! Mastodon's entities as far as Loket reads them, the cursor, and the pure logic that turns a
//! status into an [`InboundMessage`] and a reply into statuses. No I/O here.

use super::html;
use crate::adapter::{Attachment, InboundMessage, MessageKind};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub bot: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Mention {
    pub id: String,
    #[serde(default)]
    pub url: String,
    pub acct: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaAttachment {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub remote_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub id: String,
    pub created_at: String,
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    #[serde(default)]
    pub in_reply_to_account_id: Option<String>,
    #[serde(default)]
    pub spoiler_text: String,
    pub visibility: String,
    #[serde(default)]
    pub content: String,
    pub account: Account,
    #[serde(default)]
    pub media_attachments: Vec<MediaAttachment>,
    #[serde(default)]
    pub mentions: Vec<Mention>,
    #[serde(default)]
    pub reblog: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    #[serde(default)]
    pub last_status: Option<Status>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub ancestors: Vec<Status>,
}

/// The account the token belongs to: the municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    pub id: String,
    pub username: String,
    /// Fully qualified, without leading '@': `utrecht@social.overheid.nl`.
    pub acct: String,
    /// Profile URL (`https://social.overheid.nl/@utrecht`).
    pub url: Option<String>,
}

impl Me {
    pub fn from_account(a: &Account, domain: &str) -> Self {
        Me {
            id: a.id.clone(),
            username: a.username.clone(),
            acct: qualify_acct(&a.acct, domain),
            url: a.url.clone(),
        }
    }

    /// Whether a mention link points at this account: its profile URL in either form Mastodon
    /// and other servers use (`/@name`, `/users/name`), or the URL the status's own mention
    /// list gives for our account id.
    pub fn is_our_href(&self, href: &str, mentions: &[Mention]) -> bool {
        let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        let href = norm(href);
        if href.is_empty() {
            return false;
        }
        if let Some(url) = &self.url {
            let url = norm(url);
            if href == url {
                return true;
            }
            let users_form = url.replace(
                &format!("/@{}", self.username.to_ascii_lowercase()),
                &format!("/users/{}", self.username.to_ascii_lowercase()),
            );
            if href == users_form {
                return true;
            }
        }
        mentions
            .iter()
            .any(|m| m.id == self.id && !m.url.is_empty() && norm(&m.url) == href)
    }
}

/// Where a Mastodon account's reading stands; stored by the server as JSON, e.g.
/// `{"notifications":"34975861","statuses":"103196583826321184","seen":["103196583826321184"]}`.
///
/// - `notifications`: highest mention notification id read (`min_id` of the next read);
/// - `statuses`: highest `last_status` id of the direct conversations read (conversations are
///   paginated by it);
/// - `seen`: recent direct-message status ids already delivered through a notification but
///   not yet passed by `statuses`, so the conversation that carries the same status later does
///   not deliver it again (at most [`SEEN_MAX`]).
///
/// A missing id means "from the beginning": the account had nothing when reading started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

pub const SEEN_MAX: usize = 100;

impl Cursor {
    pub fn parse(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Moves the mention cursor to `id` if that is newer; says whether it was.
    pub fn advance_notifications(&mut self, id: &str) -> bool {
        advance(&mut self.notifications, id)
    }

    /// Moves the conversation cursor to `id` if that is newer; says whether it was.
    pub fn advance_statuses(&mut self, id: &str) -> bool {
        let newer = advance(&mut self.statuses, id);
        if newer {
            self.prune_seen();
        }
        newer
    }

    pub fn mark_seen(&mut self, id: &str) {
        if !self.seen.iter().any(|s| s == id) {
            self.seen.push(id.to_string());
        }
        self.prune_seen();
    }

    pub fn is_seen(&self, id: &str) -> bool {
        self.seen.iter().any(|s| s == id)
    }

    fn prune_seen(&mut self) {
        if let Some(st) = &self.statuses {
            self.seen.retain(|s| id_cmp(s, st) == Ordering::Greater);
        }
        self.seen.sort_by(|a, b| id_cmp(a, b));
        if self.seen.len() > SEEN_MAX {
            let drop = self.seen.len() - SEEN_MAX;
            self.seen.drain(..drop);
        }
    }
}

fn advance(slot: &mut Option<String>, id: &str) -> bool {
    match slot {
        Some(cur) if id_cmp(id, cur) != Ordering::Greater => false,
        _ => {
            *slot = Some(id.to_string());
            true
        }
    }
}

/// Orders Mastodon ids: numeric strings (all of Mastodon's, "cast from an integer") by value
/// without overflow, anything else as text.
pub fn id_cmp(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let a = a.trim_start_matches('0');
        let b = b.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// An `acct` made fully qualified: `zsc` on social.overheid.nl is `zsc@social.overheid.nl`;
/// `amic@nulled.red` stays; a leading '@' goes; the domain is lower-cased.
pub fn qualify_acct(acct: &str, local_domain: &str) -> String {
    let acct = acct.trim().trim_start_matches('@');
    match acct.split_once('@') {
        Some((user, domain)) => format!("{user}@{}", domain.to_ascii_lowercase()),
        None => format!("{acct}@{}", local_domain.to_ascii_lowercase()),
    }
}

/// What [`InboundMessage::reply_context`] holds for a Mastodon status, and what `send` reads
/// back from [`crate::adapter::Reply::context`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplyContext {
    /// The resident's status to answer (`in_reply_to_id`).
    #[serde(default)]
    pub status_id: Option<String>,
    /// Its visibility: `public`, `unlisted`, `private` or `direct`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// The resident, fully qualified.
    #[serde(default)]
    pub acct: Option<String>,
    /// Others the resident mentioned (fully qualified, without the municipality). The reply
    /// does not mention them: the municipality answers the resident only.
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// Normalises a status. `domain` is the instance's own domain (for local accounts' `acct`).
pub fn normalize(status: &Status, me: &Me, domain: &str) -> InboundMessage {
    let is_ours = |href: &str| me.is_our_href(href, &status.mentions);
    let (body, ours_at_start) = html::to_text_without_leading_mention(&status.content, &is_ours);
    let spoiler = status.spoiler_text.trim();
    let text = if spoiler.is_empty() {
        body
    } else {
        format!("Inhoudswaarschuwing: {spoiler}\n\n{body}")
    };
    let author = &status.account;
    let author_id = qualify_acct(&author.acct, domain);
    let author_name = match author.display_name.trim() {
        "" => author.username.clone(),
        n => n.to_string(),
    };
    let is_reply_to_us = status.in_reply_to_account_id.as_deref() == Some(me.id.as_str());
    let for_inbox = status.visibility == "direct" || is_reply_to_us || ours_at_start;
    let mentions: Vec<String> = status
        .mentions
        .iter()
        .filter(|m| m.id != me.id)
        .map(|m| qualify_acct(&m.acct, domain))
        .collect();
    let context = ReplyContext {
        status_id: Some(status.id.clone()),
        visibility: Some(status.visibility.clone()),
        acct: Some(author_id.clone()),
        mentions,
    };
    InboundMessage {
        external_id: status.id.clone(),
        author_id,
        author_name,
        text,
        sent_at_ms: parse_time_ms(&status.created_at).unwrap_or(0),
        lat: None,
        lon: None,
        attachments: status
            .media_attachments
            .iter()
            .filter_map(attachment)
            .collect(),
        // Posts by bot accounts are never answered (no reply loops with other bots).
        kind: if author.bot {
            MessageKind::Automatic
        } else {
            MessageKind::Normal
        },
        thread_refs: status.in_reply_to_id.iter().cloned().collect(),
        conversation_hint: None,
        for_inbox,
        reply_context: serde_json::to_value(context).unwrap_or_default(),
    }
}

pub fn parse_time_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn attachment(m: &MediaAttachment) -> Option<Attachment> {
    let url = m.url.clone().or_else(|| m.remote_url.clone())?;
    let filename = url
        .split(['?', '#'])
        .next()
        .and_then(|p| p.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("bijlage")
        .to_string();
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let content_type = match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        _ => match m.kind.as_str() {
            "image" => "image/*",
            "gifv" | "video" => "video/*",
            "audio" => "audio/*",
            _ => "application/octet-stream",
        },
    };
    Some(Attachment {
        filename,
        content_type: content_type.to_string(),
        data: None,
        reference: Some(url),
    })
}

/// The visibility of the municipality's answer. A direct message is answered directly; a
/// followers-only post too (answering `private` would show the answer to the municipality's
/// followers, who never saw the question); a public or unlisted post is answered `unlisted`:
/// visible in the thread for everyone who follows it, but not pushed onto public timelines.
/// Unknown or missing: `direct`, the safe side.
pub fn reply_visibility(theirs: Option<&str>) -> &'static str {
    match theirs {
        Some("public") | Some("unlisted") => "unlisted",
        _ => "direct",
    }
}

/// Length as Mastodon counts it: every URL as `url_chars` characters, a mention of a remote
/// account by its username only (`@jan@mastodon.social` counts as `@jan`).
pub fn status_length(text: &str, url_chars: usize) -> usize {
    let mut n = 0;
    let mut word = String::new();
    let flush = |word: &mut String, n: &mut usize| {
        if word.is_empty() {
            return;
        }
        *n += word_length(word, url_chars);
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut n);
            n += 1;
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut n);
    n
}

fn word_length(word: &str, url_chars: usize) -> usize {
    if word.starts_with("https://") || word.starts_with("http://") {
        return url_chars;
    }
    if let Some(rest) = word.strip_prefix('@')
        && let Some((user, _domain)) = rest.split_once('@')
        && !user.is_empty()
    {
        return 1 + user.chars().count();
    }
    word.chars().count()
}

/// At most this many statuses for one reply.
pub const MAX_PARTS: usize = 10;

/// The statuses a reply becomes: `@acct text`, or, when that is longer than the instance
/// allows, a numbered thread (`… (1/3)`) split between words, each part starting with the
/// mention so every part reaches the resident. Err with a Dutch message when even
/// [`MAX_PARTS`] parts are not enough.
pub fn split_reply(
    acct: &str,
    text: &str,
    max_chars: usize,
    url_chars: usize,
) -> Result<Vec<String>, String> {
    let acct = acct.trim().trim_start_matches('@');
    let prefix = format!("@{acct} ");
    let mut body = text.trim();
    // The agent may have typed the mention already.
    if let Some(rest) = body.strip_prefix(prefix.trim_end())
        && (rest.is_empty() || rest.starts_with(char::is_whitespace))
    {
        body = rest.trim_start();
    }
    if body.is_empty() {
        return Err("de reactie is leeg".to_string());
    }
    let single = format!("{prefix}{body}");
    if status_length(&single, url_chars) <= max_chars {
        return Ok(vec![single]);
    }
    // Room for " (10/10)".
    const SUFFIX: usize = 8;
    let prefix_len = status_length(&prefix, url_chars);
    let budget = max_chars.saturating_sub(prefix_len + SUFFIX);
    if budget < 40 {
        return Err(format!(
            "de Mastodon-server staat maar {max_chars} tekens per bericht toe: te weinig voor een reactie"
        ));
    }
    let chunks = chunk_words(body, budget, url_chars);
    if chunks.len() > MAX_PARTS {
        return Err(format!(
            "de reactie is te lang voor Mastodon: maximaal ongeveer {} tekens ({MAX_PARTS} berichten van {max_chars})",
            budget * MAX_PARTS
        ));
    }
    let n = chunks.len();
    Ok(chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| format!("{prefix}{c} ({}/{n})", i + 1))
        .collect())
}

/// Greedy split between words (newlines kept inside a chunk); a word longer than the budget is
/// cut.
fn chunk_words(text: &str, budget: usize, url_chars: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    // Words with the whitespace that precedes them, so line breaks survive.
    let mut pieces: Vec<(String, String)> = Vec::new();
    let mut ws = String::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                pieces.push((std::mem::take(&mut ws), std::mem::take(&mut word)));
            }
            ws.push(c);
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        pieces.push((ws, word));
    }
    for (sep, w) in pieces {
        let candidate = if cur.is_empty() {
            w.clone()
        } else {
            format!("{cur}{sep}{w}")
        };
        if status_length(&candidate, url_chars) <= budget {
            cur = candidate;
            continue;
        }
        if !cur.is_empty() {
            chunks.push(std::mem::take(&mut cur).trim().to_string());
        }
        if status_length(&w, url_chars) <= budget {
            cur = w;
        } else {
            // Cut an overlong word into budget-sized pieces.
            let chars: Vec<char> = w.chars().collect();
            for part in chars.chunks(budget) {
                let s: String = part.iter().collect();
                if s.chars().count() == budget {
                    chunks.push(s);
                } else {
                    cur = s;
                }
            }
        }
    }
    if !cur.trim().is_empty() {
        chunks.push(cur.trim().to_string());
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acct_is_qualified() {
        assert_eq!(
            qualify_acct("zsc", "social.overheid.nl"),
            "zsc@social.overheid.nl"
        );
        assert_eq!(
            qualify_acct("@zsc", "Social.Overheid.NL"),
            "zsc@social.overheid.nl"
        );
        assert_eq!(
            qualify_acct("amic@nulled.red", "social.overheid.nl"),
            "amic@nulled.red"
        );
        assert_eq!(qualify_acct(" Amic@Nulled.Red ", "x"), "Amic@nulled.red");
    }

    #[test]
    fn ids_order_numerically() {
        assert_eq!(id_cmp("9", "10"), Ordering::Less);
        assert_eq!(
            id_cmp("103186126728896492", "103186126728896492"),
            Ordering::Equal
        );
        assert_eq!(id_cmp("0103", "99"), Ordering::Greater);
        assert_eq!(id_cmp("abc", "abd"), Ordering::Less);
    }

    #[test]
    fn cursor_seen_is_pruned_by_statuses() {
        let mut c = Cursor::default();
        c.mark_seen("15");
        c.mark_seen("12");
        c.advance_statuses("12");
        assert_eq!(c.seen, vec!["15".to_string()]);
        c.advance_statuses("11"); // never goes back
        assert_eq!(c.statuses.as_deref(), Some("12"));
        let json = c.to_json();
        assert_eq!(Cursor::parse(&json).unwrap(), c);
        assert_eq!(Cursor::parse("{}").unwrap(), Cursor::default());
    }

    #[test]
    fn length_counts_urls_and_remote_mentions_like_mastodon() {
        assert_eq!(
            status_length("@jan@mastodon.social hoi", 23),
            "@jan hoi".len()
        );
        assert_eq!(status_length("zie https://a.nl", 23), 4 + 23);
    }

    #[test]
    fn reply_split_into_numbered_thread() {
        let text = "woord ".repeat(60);
        let parts = split_reply("jan@mastodon.social", &text, 100, 23).unwrap();
        assert!(parts.len() > 1);
        let n = parts.len();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.starts_with("@jan@mastodon.social "), "{p}");
            assert!(p.ends_with(&format!("({}/{n})", i + 1)), "{p}");
            assert!(status_length(p, 23) <= 100, "{p}");
        }
        let joined: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.split_whitespace())
            .filter(|w| *w == "woord")
            .collect();
        assert_eq!(joined.len(), 60);
        assert_eq!(
            split_reply("jan", "@jan hallo", 500, 23).unwrap(),
            vec!["@jan hallo".to_string()]
        );
        assert!(split_reply("jan", &"x".repeat(10_000), 500, 23).is_err());
        assert!(split_reply("jan", "  ", 500, 23).is_err());
    }

    #[test]
    fn visibility_of_answers() {
        assert_eq!(reply_visibility(Some("direct")), "direct");
        assert_eq!(reply_visibility(Some("private")), "direct");
        assert_eq!(reply_visibility(Some("public")), "unlisted");
        assert_eq!(reply_visibility(Some("unlisted")), "unlisted");
        assert_eq!(reply_visibility(None), "direct");
    }
}
