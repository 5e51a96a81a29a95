//! Mastodon channel adapter (social.overheid.nl and any other Mastodon server).
//!
//! Inbound:
//! - mentions of the municipality: `GET /api/v1/notifications?types[]=mention`;
//! - direct messages: `GET /api/v1/conversations` (a direct message from someone the account
//!   does not follow may be held back from notifications by the notification policy, but its
//!   conversation is always there). A conversation shows only its last status, so for one with
//!   new activity the thread above it (`/api/v1/statuses/:id/context`) is read too;
//! - real time: two server-sent event streams, `/api/v1/streaming/user` (`notification`
//!   events; `update`, our home timeline, is ignored: it is not addressed to us) and
//!   `/api/v1/streaming/direct` (`conversation` events, which the user stream does not carry).
//!   The stream host comes from the instance information (`configuration.urls.streaming`).
//!
//! Reading goes forward with `min_id` (and the `Link` header's `rel="prev"`), so a long gap is
//! read completely, oldest first. The cursor format is [`Cursor`]; the reply context format is
//! [`ReplyContext`].
//!
//! Outbound: `POST /api/v1/statuses` starting with `@acct`, `in_reply_to_id` the resident's
//! status, visibility from [`reply_visibility`] (direct stays direct; public or unlisted is
//! answered unlisted), `Idempotency-Key` the reply's key. A reply longer than the instance's
//! limit becomes a numbered thread (see [`split_reply`]); `Sent::external_id` is the id of the
//! last part, the one a resident answers. The rate limit (`X-RateLimit-*`) is respected: after
//! a 429 nothing is sent before the reset time.

mod client;
mod html;
mod model;
mod sse;

pub use html::to_text as html_to_text;
pub use model::{
    Cursor, MAX_PARTS, ReplyContext, id_cmp, qualify_acct, reply_visibility, split_reply,
    status_length,
};

use crate::DeliveryError;
use crate::adapter::{
    AccountConfig, Adapter, Batch, ChannelError, ChannelKind, Event, Field, InboundMessage, Reply,
    Sent,
};
use async_trait::async_trait;
use client::{Api, ApiError};
use futures::StreamExt;
use model::{Context, Conversation, Me, Notification, Status};
use sse::{SseEvent, SseParser};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{Mutex, OnceCell, mpsc};

/// The OAuth scopes the access token needs (granular; the coarse `read write` also works but
/// grants far more).
pub const SCOPES: &str = "read:notifications read:statuses read:accounts write:statuses";

pub const FIELDS: &[Field] = &[
    Field {
        key: "base_url",
        label: "Adres van de Mastodon-server",
        help: "Bijvoorbeeld https://social.overheid.nl",
        secret: false,
        required: true,
    },
    Field {
        key: "access_token",
        label: "Toegangstoken",
        help: "Maak in Mastodon onder Voorkeuren → Ontwikkelen een toepassing aan met alleen de rechten read:notifications, read:statuses, read:accounts en write:statuses, en plak hier het toegangstoken.",
        secret: true,
        required: true,
    },
    Field {
        key: "account",
        label: "Account",
        help: "Optioneel, bijvoorbeeld @utrecht@social.overheid.nl: de verbindingstest controleert dan dat het token bij dit account hoort.",
        secret: false,
        required: false,
    },
];

/// Notifications per page (Mastodon's maximum).
const NOTIFICATION_PAGE: usize = 80;
/// Conversations per page (Mastodon's maximum).
const CONVERSATION_PAGE: usize = 40;
/// Pages read per list in one backfill; the rest follows in the next (listen starts with one).
const MAX_PAGES: usize = 50;
/// Mastodon's default status length and URL weight, when the instance does not say.
const DEFAULT_MAX_CHARS: usize = 500;
const DEFAULT_URL_CHARS: usize = 23;
/// The streaming server sends a keep-alive every 15 s or so: this much silence is a dead
/// connection.
const STREAM_IDLE: Duration = Duration::from_secs(90);

#[derive(Debug, Clone)]
struct Instance {
    domain: String,
    streaming_base: String,
    max_chars: usize,
    url_chars: usize,
}

pub struct MastodonAdapter {
    api: Api,
    expected_account: Option<String>,
    base_host: String,
    me: OnceCell<Me>,
    instance: Mutex<Option<Instance>>,
    stream_idle: Duration,
}

impl MastodonAdapter {
    pub fn new(config: &AccountConfig) -> Result<Self, ChannelError> {
        let base = parse_base_url(config.require("base_url")?)?;
        let token = config.require("access_token")?.to_string();
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ChannelError::config(
                "het toegangstoken bevat spaties of regeleinden",
            ));
        }
        let base_host = host_of(&base);
        let expected_account = config
            .get("account")
            .map(|a| a.trim().trim_start_matches('@').to_string());
        Ok(Self {
            api: Api::new(base, token),
            expected_account,
            base_host,
            me: OnceCell::new(),
            instance: Mutex::new(None),
            stream_idle: STREAM_IDLE,
        })
    }

    /// Shorter stream silence before giving up (tests).
    pub fn with_stream_idle_timeout(mut self, idle: Duration) -> Self {
        self.stream_idle = idle;
        self
    }

    /// Instance information (`GET /api/v2/instance`, public). A definite answer is kept; a
    /// failure gives defaults from the configured URL for this call only.
    async fn instance(&self) -> Instance {
        let mut guard = self.instance.lock().await;
        if let Some(i) = guard.as_ref() {
            return i.clone();
        }
        let fallback = Instance {
            domain: self.base_host.clone(),
            streaming_base: self.api.base().to_string(),
            max_chars: DEFAULT_MAX_CHARS,
            url_chars: DEFAULT_URL_CHARS,
        };
        match self
            .api
            .get_one::<serde_json::Value>("/api/v2/instance", false)
            .await
        {
            Ok(v) => {
                let conf = &v["configuration"];
                let info = Instance {
                    domain: v["domain"]
                        .as_str()
                        .filter(|d| !d.is_empty())
                        .map(str::to_string)
                        .unwrap_or(fallback.domain),
                    streaming_base: conf["urls"]["streaming"]
                        .as_str()
                        .and_then(streaming_to_http)
                        .unwrap_or(fallback.streaming_base),
                    max_chars: conf["statuses"]["max_characters"]
                        .as_u64()
                        .map(|n| n as usize)
                        .filter(|n| *n > 0)
                        .unwrap_or(DEFAULT_MAX_CHARS),
                    url_chars: conf["statuses"]["characters_reserved_per_url"]
                        .as_u64()
                        .map(|n| n as usize)
                        .unwrap_or(DEFAULT_URL_CHARS),
                };
                *guard = Some(info.clone());
                info
            }
            Err(ApiError::Status { code, .. }) if (400..500).contains(&code) && code != 429 => {
                // An older server without v2: defaults for good.
                *guard = Some(fallback.clone());
                fallback
            }
            Err(e) => {
                tracing::debug!(error = ?e, "mastodon: instance information unavailable");
                fallback
            }
        }
    }

    async fn fetch_me(&self) -> Result<Me, ChannelError> {
        let inst = self.instance().await;
        let acc: model::Account = self
            .api
            .get_one("/api/v1/accounts/verify_credentials", true)
            .await
            .map_err(|e| e.to_channel())?;
        Ok(Me::from_account(&acc, &inst.domain))
    }

    async fn me(&self) -> Result<Me, ChannelError> {
        self.me.get_or_try_init(|| self.fetch_me()).await.cloned()
    }

    fn parse_cursor(cursor: &str) -> Result<Cursor, ChannelError> {
        Cursor::parse(cursor).map_err(|_| {
            ChannelError::malformed("de opgeslagen Mastodon-leespositie is onleesbaar")
        })
    }

    /// Where "now" is: the newest mention and the newest direct conversation.
    async fn cursor_now(&self) -> Result<Cursor, ChannelError> {
        let notifs: client::Page<Notification> = self
            .api
            .get(
                "/api/v1/notifications",
                &[("types[]", "mention"), ("limit", "1")],
                true,
            )
            .await
            .map_err(|e| e.to_channel())?;
        let convs: client::Page<Conversation> = self
            .api
            .get("/api/v1/conversations", &[("limit", "1")], true)
            .await
            .map_err(|e| e.to_channel())?;
        let mut c = Cursor::default();
        if let Some(n) = notifs.items.first() {
            c.advance_notifications(&n.id);
        }
        if let Some(id) = convs
            .items
            .first()
            .and_then(|cv| cv.last_status.as_ref().map(|s| s.id.clone()))
            .or(convs.prev_min_id)
        {
            c.advance_statuses(&id);
        }
        Ok(c)
    }

    /// Everything after `cur`, oldest first, and the cursor after it.
    async fn read_since(
        &self,
        me: &Me,
        domain: &str,
        cur: &Cursor,
    ) -> Result<(Vec<InboundMessage>, Cursor), ChannelError> {
        let mut next = cur.clone();
        let mut found: Vec<Status> = Vec::new();

        // Mentions.
        let (notifications, _) = self
            .read_forward(
                "/api/v1/notifications",
                &[("types[]", "mention")],
                NOTIFICATION_PAGE,
                cur.notifications.as_deref(),
                "notifications",
                |n: &Notification| Some(n.id.as_str()),
            )
            .await?;
        for n in notifications {
            next.advance_notifications(&n.id);
            if n.kind == "mention"
                && let Some(s) = n.status
            {
                found.push(s);
            }
        }

        // Direct conversations.
        let (conversations, newest) = self
            .read_forward(
                "/api/v1/conversations",
                &[],
                CONVERSATION_PAGE,
                cur.statuses.as_deref(),
                "conversations",
                |cv: &Conversation| cv.last_status.as_ref().map(|s| s.id.as_str()),
            )
            .await?;
        if let Some(newest) = newest {
            next.advance_statuses(&newest);
        }
        for cv in conversations {
            let Some(last) = cv.last_status else { continue };
            if last.in_reply_to_id.is_some() {
                let ctx: Context = self
                    .api
                    .get_one(&format!("/api/v1/statuses/{}/context", last.id), true)
                    .await
                    .map_err(|e| e.to_channel())?;
                for a in ctx.ancestors {
                    let newer = cur
                        .statuses
                        .as_deref()
                        .is_none_or(|s| model::id_cmp(&a.id, s).is_gt());
                    if newer && a.visibility == "direct" {
                        found.push(a);
                    }
                }
            }
            found.push(last);
        }

        found.sort_by(|a, b| model::id_cmp(&a.id, &b.id));
        found.dedup_by(|a, b| a.id == b.id);
        let mut out = Vec::new();
        for s in found {
            if s.account.id == me.id || s.reblog.is_some() || cur.is_seen(&s.id) {
                continue;
            }
            if s.visibility == "direct" {
                next.mark_seen(&s.id);
            }
            out.push(model::normalize(&s, me, domain));
        }
        Ok((out, next))
    }

    /// Reads `path` forward from the `min_id` `from`, page after page (`page_size` items, at
    /// most [`MAX_PAGES`]) until nothing newer comes: the items, oldest page first, and the id
    /// reading got to (the newest item's or the `Link` header's; `None` when nothing was newer
    /// than `from`). `id` is an item's id; `what` names the items in a warning.
    async fn read_forward<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        page_size: usize,
        from: Option<&str>,
        what: &str,
        id: impl Fn(&T) -> Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), ChannelError> {
        let start = from.unwrap_or("0");
        let mut min_id = start.to_string();
        let limit = page_size.to_string();
        let mut items = Vec::new();
        for page_no in 0.. {
            if page_no == MAX_PAGES {
                tracing::warn!("mastodon: many {what}; the rest follows in the next read");
                break;
            }
            let mut q = query.to_vec();
            q.extend([("min_id", min_id.as_str()), ("limit", limit.as_str())]);
            let page: client::Page<T> = self
                .api
                .get(path, &q, true)
                .await
                .map_err(|e| e.to_channel())?;
            if page.items.is_empty() {
                break;
            }
            let newest = page
                .items
                .iter()
                .filter_map(&id)
                .fold(min_id.as_str(), |newest, i| {
                    if model::id_cmp(i, newest).is_gt() {
                        i
                    } else {
                        newest
                    }
                })
                .to_string();
            let newest = page
                .prev_min_id
                .filter(|p| model::id_cmp(p, &min_id).is_gt())
                .unwrap_or(newest);
            items.extend(page.items);
            if !model::id_cmp(&newest, &min_id).is_gt() {
                break;
            }
            min_id = newest;
        }
        Ok((items, (min_id != start).then_some(min_id)))
    }

    async fn open_sse(
        &self,
        inst: &Instance,
        path: &str,
    ) -> Result<futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>, ChannelError> {
        let url = format!("{}{path}", inst.streaming_base);
        let resp = self
            .api
            .open_stream(&url, path)
            .await
            .map_err(|e| e.to_channel())?;
        Ok(resp.bytes_stream().map(|r| r.map(|b| b.to_vec())).boxed())
    }
}

/// The state of one `listen` call.
struct Live {
    me: Me,
    domain: String,
    cursor: Cursor,
    emitted: HashSet<String>,
}

impl Live {
    /// Turns one stream event into a batch to send (None: nothing to tell).
    fn handle(&mut self, ev: &SseEvent) -> Result<Option<Batch>, ChannelError> {
        let before = self.cursor.clone();
        let status = match ev.event.as_str() {
            "notification" => {
                let n: Notification = parse_event(ev)?;
                if n.kind != "mention" {
                    return Ok(None);
                }
                if !self.cursor.advance_notifications(&n.id) {
                    return Ok(None);
                }
                n.status
            }
            "conversation" => {
                let c: Conversation = parse_event(ev)?;
                let Some(last) = c.last_status else {
                    return Ok(None);
                };
                if !self.cursor.advance_statuses(&last.id) {
                    return Ok(None);
                }
                Some(last)
            }
            // `update`/`status.update` (home timeline), `delete`, `filters_changed`,
            // announcements: nothing for the inbox.
            _ => return Ok(None),
        };
        let mut events = Vec::new();
        if let Some(s) = status
            && s.account.id != self.me.id
            && s.reblog.is_none()
            && !before.is_seen(&s.id)
            && self.emitted.insert(s.id.clone())
        {
            if s.visibility == "direct" {
                self.cursor.mark_seen(&s.id);
            }
            events.push(Event::Message(model::normalize(&s, &self.me, &self.domain)));
        }
        if events.is_empty() && self.cursor == before {
            return Ok(None);
        }
        Ok(Some(Batch {
            events,
            cursor: Some(self.cursor.to_json()),
        }))
    }
}

fn parse_event<T: serde::de::DeserializeOwned>(ev: &SseEvent) -> Result<T, ChannelError> {
    serde_json::from_str(&ev.data).map_err(|e| {
        ChannelError::malformed(format!(
            "Mastodon-stream stuurde een onleesbaar ‘{}’-bericht: {e}",
            ev.event
        ))
    })
}

/// One SSE connection being read.
struct SseConn {
    name: &'static str,
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    parser: SseParser,
    pending: std::collections::VecDeque<SseEvent>,
    idle: Duration,
}

impl SseConn {
    /// The next event; Err when the connection ends, fails or stays silent too long. Cancel
    /// safe: bytes are only taken from the body inside one poll.
    async fn next(&mut self) -> Result<SseEvent, ChannelError> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => {
                    return Err(ChannelError::unreachable(format!(
                        "Mastodon-stream ({}) zweeg te lang: verbinding verbroken",
                        self.name
                    )));
                }
                Ok(None) => {
                    return Err(ChannelError::unreachable(format!(
                        "Mastodon-stream ({}) is gesloten door de server",
                        self.name
                    )));
                }
                Ok(Some(Err(_))) => {
                    return Err(ChannelError::unreachable(format!(
                        "Mastodon-stream ({}) is verbroken",
                        self.name
                    )));
                }
                Ok(Some(Ok(chunk))) => {
                    let evs = self.parser.push(&chunk).map_err(|m| {
                        ChannelError::malformed(format!("Mastodon-stream ({}): {m}", self.name))
                    })?;
                    self.pending.extend(evs);
                }
            }
        }
    }
}

#[async_trait]
impl Adapter for MastodonAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Mastodon
    }

    async fn test_connection(&self) -> Result<String, ChannelError> {
        let me = self.fetch_me().await?;
        if let Some(expected) = &self.expected_account {
            let inst = self.instance().await;
            if !qualify_acct(expected, &inst.domain).eq_ignore_ascii_case(&me.acct) {
                return Err(ChannelError::config(format!(
                    "het token hoort bij @{}, niet bij @{}",
                    me.acct,
                    qualify_acct(expected, &inst.domain)
                )));
            }
        }
        let _ = self.me.set(me.clone());
        Ok(format!("verbonden als @{}", me.acct))
    }

    async fn send(&self, reply: &Reply) -> Result<Sent, DeliveryError> {
        let ctx: ReplyContext = serde_json::from_value(reply.context.clone()).unwrap_or_default();
        let acct = ctx
            .acct
            .clone()
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| reply.recipient.clone());
        let acct = acct.trim().trim_start_matches('@').to_string();
        if acct.is_empty() || acct.chars().any(char::is_whitespace) {
            return Err(DeliveryError::fatal(
                "geen geldig Mastodon-account om aan te antwoorden",
            ));
        }
        let visibility = reply_visibility(ctx.visibility.as_deref());
        let inst = self.instance().await;
        let parts = split_reply(&acct, &reply.text, inst.max_chars, inst.url_chars)
            .map_err(DeliveryError::fatal)?;
        let n = parts.len();
        let mut in_reply_to = ctx.status_id.clone();
        for (i, text) in parts.into_iter().enumerate() {
            // Each part has its own key derived from the reply's, so a retry after a partial
            // thread re-posts nothing that already went out.
            let key = if n == 1 {
                reply.idempotency_key.clone()
            } else {
                format!("{}-{}/{n}", reply.idempotency_key, i + 1)
            };
            let mut body = serde_json::json!({
                "status": text,
                "visibility": visibility,
            });
            if let Some(id) = &in_reply_to {
                body["in_reply_to_id"] = serde_json::Value::String(id.clone());
            }
            let id = self
                .api
                .post_status(&body, &key)
                .await
                .map_err(|e| e.to_delivery())?;
            in_reply_to = Some(id);
        }
        Ok(Sent {
            external_id: in_reply_to,
            delivered: false,
        })
    }

    async fn backfill(&self, cursor: Option<&str>) -> Result<Batch, ChannelError> {
        let Some(cursor) = cursor else {
            self.me().await?;
            let c = self.cursor_now().await?;
            return Ok(Batch {
                events: Vec::new(),
                cursor: Some(c.to_json()),
            });
        };
        let cur = Self::parse_cursor(cursor)?;
        let me = self.me().await?;
        let inst = self.instance().await;
        let (msgs, next) = self.read_since(&me, &inst.domain, &cur).await?;
        Ok(Batch {
            events: msgs.into_iter().map(Event::Message).collect(),
            cursor: Some(next.to_json()),
        })
    }

    async fn listen(
        &self,
        cursor: Option<String>,
        tx: mpsc::Sender<Batch>,
    ) -> Result<(), ChannelError> {
        let me = self.me().await?;
        let inst = self.instance().await;
        // Connect first, then catch up by REST: whatever arrives in between is in both and is
        // delivered once.
        let mut user = SseConn {
            name: "user",
            body: self.open_sse(&inst, "/api/v1/streaming/user").await?,
            parser: SseParser::new(),
            pending: Default::default(),
            idle: self.stream_idle,
        };
        let mut direct = SseConn {
            name: "direct",
            body: self.open_sse(&inst, "/api/v1/streaming/direct").await?,
            parser: SseParser::new(),
            pending: Default::default(),
            idle: self.stream_idle,
        };
        let (catch_up, cur) = match cursor.as_deref() {
            None => (Vec::new(), self.cursor_now().await?),
            Some(c) => {
                let cur = Self::parse_cursor(c)?;
                self.read_since(&me, &inst.domain, &cur).await?
            }
        };
        let mut live = Live {
            me,
            domain: inst.domain.clone(),
            cursor: cur,
            emitted: catch_up.iter().map(|m| m.external_id.clone()).collect(),
        };
        let first = Batch {
            events: catch_up.into_iter().map(Event::Message).collect(),
            cursor: Some(live.cursor.to_json()),
        };
        if tx.send(first).await.is_err() {
            return Ok(());
        }
        loop {
            let ev = tokio::select! {
                biased;
                _ = tx.closed() => return Ok(()),
                ev = user.next() => ev?,
                ev = direct.next() => ev?,
            };
            if let Some(batch) = live.handle(&ev)?
                && tx.send(batch).await.is_err()
            {
                return Ok(());
            }
        }
    }
}

/// Accepts `https://host[:port][/]`; plain http only for this machine (tests, a local proxy).
fn parse_base_url(raw: &str) -> Result<String, ChannelError> {
    let s = raw.trim().trim_end_matches('/');
    let bad = || {
        ChannelError::config(format!(
            "‘{s}’ is geen geldig adres van een Mastodon-server (bijvoorbeeld https://social.overheid.nl)"
        ))
    };
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or("");
        if !(host == "localhost" || host == "127.0.0.1" || r.starts_with("[::1]")) {
            return Err(ChannelError::config(
                "gebruik https:// voor de Mastodon-server",
            ));
        }
        r
    } else {
        return Err(bad());
    };
    if rest.is_empty() || rest.contains(['?', '#', '@', ' ']) || rest.starts_with(['/', ':', '.']) {
        return Err(bad());
    }
    Ok(s.to_string())
}

fn host_of(base: &str) -> String {
    let rest = base.split_once("://").map(|(_, r)| r).unwrap_or(base);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        return authority.to_string();
    }
    authority
        .split(':')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase()
}

/// `wss://streaming.example` → `https://streaming.example` (SSE runs over plain HTTP(S)).
fn streaming_to_http(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "wss" | "https" => "https",
        "ws" | "http" => "http",
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url(" https://social.overheid.nl/ ").unwrap(),
            "https://social.overheid.nl"
        );
        assert!(parse_base_url("http://social.overheid.nl").is_err());
        assert!(parse_base_url("http://127.0.0.1:4000").is_ok());
        assert!(parse_base_url("social.overheid.nl").is_err());
        assert!(parse_base_url("https://x?token=1").is_err());
        assert_eq!(
            host_of("https://Social.Overheid.nl:443"),
            "social.overheid.nl"
        );
        assert_eq!(
            streaming_to_http("wss://streaming.mastodon.social").as_deref(),
            Some("https://streaming.mastodon.social")
        );
        assert_eq!(streaming_to_http("ftp://x"), None);
    }

    #[test]
    fn fields_name_the_scopes() {
        let token = FIELDS.iter().find(|f| f.key == "access_token").unwrap();
        assert!(token.secret && token.required);
        for scope in SCOPES.split(' ') {
            assert!(token.help.contains(scope), "{scope}");
        }
    }
}
