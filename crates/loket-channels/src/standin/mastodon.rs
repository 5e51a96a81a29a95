//! An in-memory Mastodon server for tests, built from the public API documentation
//! (docs.joinmastodon.org: notifications, conversations, statuses, streaming, entities). It is
//! a stand-in, not Mastodon: it speaks only the endpoints Loket uses, with payloads shaped like
//! the documentation's examples (the example entities are the templates in
//! `fixtures/mastodon/`), and it is driven by the test through [`StandinHandle`].
//!
//! Endpoints:
//! - `GET /api/v2/instance` (public; `domain`, `configuration.urls.streaming`,
//!   `configuration.statuses.max_characters`);
//! - `GET /api/v1/accounts/verify_credentials`;
//! - `GET /api/v1/notifications` (`types[]`, `exclude_types[]`, `max_id`, `since_id`,
//!   `min_id`, `limit`; `Link` header);
//! - `GET /api/v1/conversations` (paginated by `last_status` id like Mastodon; `Link` header);
//! - `GET /api/v1/statuses/:id`, `GET /api/v1/statuses/:id/context`;
//! - `POST /api/v1/statuses` (JSON or form; `Idempotency-Key`: the same key answers the same
//!   status and posts nothing; 422 on an empty or too long text, 404 on an unknown
//!   `in_reply_to_id`);
//! - `GET /api/v1/streaming/user` (`notification`, `update`) and `/api/v1/streaming/direct`
//!   (`conversation`) as server-sent events with `:thump` keep-alives;
//! - every answer carries `X-RateLimit-Limit/Remaining/Reset`; a wrong token gets 401.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The access token the stand-in accepts.
pub const TOKEN: &str = "standin-token";
/// The municipality's account on the stand-in.
pub const OUR_USERNAME: &str = "gemeente";
/// The stand-in's own domain (`acct` of local accounts is qualified with it).
pub const DOMAIN: &str = "social.standin.test";
/// Requests per window, like Mastodon's default per-account limit.
const RATE_LIMIT: i64 = 300;

const ACCOUNT: &str = include_str!("fixtures/mastodon/account.json");
const STATUS: &str = include_str!("fixtures/mastodon/status.json");
const NOTIFICATION: &str = include_str!("fixtures/mastodon/notification.json");
const CONVERSATION: &str = include_str!("fixtures/mastodon/conversation.json");

/// A status the municipality posted, as the stand-in received it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedStatus {
    pub id: String,
    pub status: String,
    pub in_reply_to_id: Option<String>,
    pub visibility: String,
    pub idempotency_key: Option<String>,
}

/// Where a resident's status mentions the municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentionAt {
    /// `@gemeente …`: addressed to the municipality.
    Start,
    /// `… @gemeente`: talked about, not addressed.
    End,
    /// Not mentioned.
    None,
}

/// A status a resident posts.
#[derive(Debug, Clone)]
pub struct ResidentPost {
    /// `piet` (local) or `jan@mastodon.example` (remote).
    pub acct: String,
    pub text: String,
    /// `public`, `unlisted`, `private` or `direct`.
    pub visibility: String,
    pub in_reply_to_id: Option<String>,
    pub mention: MentionAt,
    /// Media URLs.
    pub media: Vec<String>,
    pub bot: bool,
    /// Held back by the notification policy (a private mention from a stranger, Mastodon
    /// 4.3's default): no notification, only the conversation.
    pub filtered: bool,
}

impl ResidentPost {
    pub fn new(acct: &str, text: &str, visibility: &str) -> Self {
        Self {
            acct: acct.to_string(),
            text: text.to_string(),
            visibility: visibility.to_string(),
            in_reply_to_id: None,
            mention: MentionAt::Start,
            media: Vec::new(),
            bot: false,
            filtered: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum StreamKind {
    User,
    Direct,
}

#[derive(Clone, Debug)]
struct StreamItem {
    stream: StreamKind,
    event: &'static str,
    data: String,
}

struct Conv {
    last_status: u64,
    accounts: Vec<Value>,
}

struct State0 {
    next_status: u64,
    next_notification: u64,
    next_conversation: u64,
    next_account: u64,
    me: Value,
    accounts: HashMap<String, Value>,
    statuses: BTreeMap<u64, Value>,
    notifications: BTreeMap<u64, Value>,
    conv_of: HashMap<u64, u64>,
    conversations: BTreeMap<u64, Conv>,
    posted: Vec<PostedStatus>,
    idempotency: HashMap<String, u64>,
    post_attempts: usize,
    limited_until: Option<DateTime<Utc>>,
    down: bool,
    malformed: bool,
    max_characters: usize,
    remaining: i64,
    window_reset: DateTime<Utc>,
}

struct Shared {
    base_url: String,
    state: Mutex<State0>,
    events: broadcast::Sender<StreamItem>,
    drop_gen: watch::Sender<u64>,
    streams: AtomicUsize,
}

/// Starts stand-ins.
pub struct MastodonStandin;

impl MastodonStandin {
    /// Starts a stand-in on 127.0.0.1 with a free port: its base URL and the handle that drives
    /// it. The server stops when the last handle clone is dropped.
    pub async fn start() -> (String, StandinHandle) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        let base_url = format!("http://{addr}");
        let me = account_json("1", OUR_USERNAME, OUR_USERNAME, "Gemeente Standin", false);
        let (events, _) = broadcast::channel(1024);
        let (drop_gen, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            base_url: base_url.clone(),
            state: Mutex::new(State0 {
                next_status: 110_000_000_000_000_001,
                next_notification: 34_975_861,
                next_conversation: 418_450,
                next_account: 100,
                me,
                accounts: HashMap::new(),
                statuses: BTreeMap::new(),
                notifications: BTreeMap::new(),
                conv_of: HashMap::new(),
                conversations: BTreeMap::new(),
                posted: Vec::new(),
                idempotency: HashMap::new(),
                post_attempts: 0,
                limited_until: None,
                down: false,
                malformed: false,
                max_characters: 500,
                remaining: RATE_LIMIT,
                window_reset: Utc::now() + chrono::TimeDelta::minutes(5),
            }),
            events,
            drop_gen,
            streams: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/api/v2/instance", get(instance))
            .route(
                "/api/v1/accounts/verify_credentials",
                get(verify_credentials),
            )
            .route("/api/v1/notifications", get(notifications))
            .route("/api/v1/conversations", get(conversations))
            .route("/api/v1/statuses", axum::routing::post(post_status))
            .route("/api/v1/statuses/{id}", get(get_status))
            .route("/api/v1/statuses/{id}/context", get(context))
            .route("/api/v1/streaming/health", get(|| async { "OK" }))
            .route("/api/v1/streaming/user", get(stream_user))
            .route("/api/v1/streaming/direct", get(stream_direct))
            .layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (
            base_url,
            StandinHandle {
                shared,
                _server: Arc::new(AbortOnDrop(task)),
            },
        )
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Drives a running stand-in from a test.
#[derive(Clone)]
pub struct StandinHandle {
    shared: Arc<Shared>,
    _server: Arc<AbortOnDrop>,
}

impl StandinHandle {
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The municipality's fully qualified account.
    pub fn our_acct(&self) -> String {
        format!("{OUR_USERNAME}@{DOMAIN}")
    }

    /// A resident mentions the municipality at the start of a status; returns its id.
    pub fn resident_mentions(&self, acct: &str, text: &str, visibility: &str) -> String {
        self.resident_post(ResidentPost::new(acct, text, visibility))
    }

    /// A resident sends the municipality a direct message; returns its id.
    pub fn resident_dm(&self, acct: &str, text: &str) -> String {
        self.resident_post(ResidentPost::new(acct, text, "direct"))
    }

    /// A resident answers a status (ours or theirs), mentioning the municipality first.
    pub fn resident_reply(
        &self,
        acct: &str,
        in_reply_to_id: &str,
        text: &str,
        visibility: &str,
    ) -> String {
        let mut p = ResidentPost::new(acct, text, visibility);
        p.in_reply_to_id = Some(in_reply_to_id.to_string());
        self.resident_post(p)
    }

    /// A resident posts a status; notifications, conversations and stream events follow as on
    /// Mastodon. Returns the status id.
    pub fn resident_post(&self, p: ResidentPost) -> String {
        let (id, items) = {
            let mut st = self.shared.state.lock().unwrap();
            st.resident_post(&p)
        };
        for item in items {
            let _ = self.shared.events.send(item);
        }
        id
    }

    /// The municipality posts a status of its own (e.g. an announcement residents reply to).
    pub fn municipality_posts(&self, text: &str, visibility: &str) -> String {
        let (v, items) = {
            let mut st = self.shared.state.lock().unwrap();
            st.our_status(text, visibility, None)
        };
        for item in items {
            let _ = self.shared.events.send(item);
        }
        v["id"].as_str().unwrap_or_default().to_string()
    }

    /// A resident favourites a status: a notification that is not a mention.
    pub fn resident_favourites(&self, acct: &str, status_id: &str) {
        let item = {
            let mut st = self.shared.state.lock().unwrap();
            let account = st.account(acct, false);
            let status = status_id
                .parse::<u64>()
                .ok()
                .and_then(|id| st.statuses.get(&id).cloned())
                .unwrap_or(Value::Null);
            st.notify("favourite", account, status)
        };
        let _ = self.shared.events.send(item);
    }

    /// What the municipality posted (idempotent repeats not counted twice), oldest first.
    pub fn posted(&self) -> Vec<PostedStatus> {
        self.shared.state.lock().unwrap().posted.clone()
    }

    /// How many `POST /api/v1/statuses` requests reached the server, answered or refused.
    pub fn post_attempts(&self) -> usize {
        self.shared.state.lock().unwrap().post_attempts
    }

    /// Number of open streaming connections.
    pub fn stream_count(&self) -> usize {
        self.shared.streams.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` streaming connections are open (panics after 10 s).
    pub async fn wait_for_streams(&self, n: usize) {
        for _ in 0..1000 {
            if self.stream_count() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "stand-in: {n} streams expected, {} open",
            self.stream_count()
        );
    }

    /// Ends every open streaming connection (the client sees the stream close).
    pub fn drop_streams(&self) {
        self.shared.drop_gen.send_modify(|g| *g += 1);
    }

    /// Answer every request with 429 (reset 30 s from now), or stop doing so.
    pub fn set_rate_limited(&self, on: bool) {
        let mut st = self.shared.state.lock().unwrap();
        st.limited_until = on.then(|| Utc::now() + chrono::TimeDelta::seconds(30));
    }

    /// Answer every request with 503 (and drop the streams), or stop doing so.
    pub fn set_down(&self, down: bool) {
        self.shared.state.lock().unwrap().down = down;
        if down {
            self.drop_streams();
        }
    }

    /// Answer API requests with a body that is not valid JSON.
    pub fn set_malformed(&self, on: bool) {
        self.shared.state.lock().unwrap().malformed = on;
    }

    /// The instance's status length limit (default 500).
    pub fn set_max_characters(&self, n: usize) {
        self.shared.state.lock().unwrap().max_characters = n;
    }
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn template(s: &str) -> Value {
    serde_json::from_str(s).expect("stand-in fixture is JSON")
}

fn profile_url(acct: &str) -> String {
    match acct.split_once('@') {
        Some((user, domain)) => format!("https://{domain}/@{user}"),
        None => format!("https://{DOMAIN}/@{acct}"),
    }
}

fn account_json(id: &str, username: &str, acct: &str, display_name: &str, bot: bool) -> Value {
    let mut a = template(ACCOUNT);
    a["id"] = json!(id);
    a["username"] = json!(username);
    a["acct"] = json!(acct);
    a["display_name"] = json!(display_name);
    a["bot"] = json!(bot);
    a["url"] = json!(profile_url(acct));
    a["note"] = json!("");
    a["emojis"] = json!([]);
    a["fields"] = json!([]);
    a["created_at"] = json!("2024-01-01T00:00:00.000Z");
    a
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Text to Mastodon-style HTML: paragraphs on blank lines, `<br />` on single newlines.
fn text_html(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.lines().map(escape).collect::<Vec<_>>().join("<br />"))
        .collect()
}

fn mention_html(account: &Value) -> String {
    format!(
        "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
        account["url"].as_str().unwrap_or_default(),
        account["username"].as_str().unwrap_or_default()
    )
}

fn mention_entry(account: &Value) -> Value {
    json!({
        "id": account["id"],
        "username": account["username"],
        "url": account["url"],
        "acct": account["acct"],
    })
}

impl State0 {
    fn account(&mut self, acct: &str, bot: bool) -> Value {
        let acct = acct.trim_start_matches('@').to_string();
        if let Some(a) = self.accounts.get(&acct) {
            return a.clone();
        }
        let username = acct.split('@').next().unwrap_or(&acct).to_string();
        let id = self.next_account.to_string();
        self.next_account += 1;
        let mut display = username.clone();
        if let Some(first) = display.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let a = account_json(&id, &username, &acct, &display, bot);
        self.accounts.insert(acct, a.clone());
        a
    }

    fn find_account_by_mention(&self, token: &str) -> Option<Value> {
        let t = token.trim_start_matches('@');
        let local = t
            .strip_suffix(&format!("@{DOMAIN}"))
            .unwrap_or(t)
            .to_string();
        if local == OUR_USERNAME {
            return Some(self.me.clone());
        }
        self.accounts.get(&local).cloned()
    }

    fn status_json(
        &mut self,
        account: &Value,
        content: String,
        visibility: &str,
        in_reply_to: Option<&Value>,
        mentions: Vec<Value>,
        media: &[String],
    ) -> Value {
        let id = self.next_status;
        self.next_status += 1;
        let mut s = template(STATUS);
        let url = account["url"].as_str().unwrap_or_default();
        s["id"] = json!(id.to_string());
        s["created_at"] = json!(now_rfc3339());
        s["in_reply_to_id"] = in_reply_to.map(|p| p["id"].clone()).unwrap_or(Value::Null);
        s["in_reply_to_account_id"] = in_reply_to
            .map(|p| p["account"]["id"].clone())
            .unwrap_or(Value::Null);
        s["visibility"] = json!(visibility);
        s["language"] = json!("nl");
        s["uri"] = json!(format!("{url}/statuses/{id}"));
        s["url"] = json!(format!("{url}/{id}"));
        s["replies_count"] = json!(0);
        s["reblogs_count"] = json!(0);
        s["favourites_count"] = json!(0);
        s["quotes_count"] = json!(0);
        s["content"] = json!(content);
        s["account"] = account.clone();
        s["mentions"] = json!(mentions);
        s["card"] = Value::Null;
        s["media_attachments"] = json!(
            media
                .iter()
                .enumerate()
                .map(|(i, u)| json!({
                    "id": format!("{id}{i}"),
                    "type": "image",
                    "url": u,
                    "preview_url": u,
                    "remote_url": null,
                    "description": null,
                    "blurhash": null,
                    "meta": {}
                }))
                .collect::<Vec<_>>()
        );
        self.statuses.insert(id, s.clone());
        s
    }

    fn notify(&mut self, kind: &str, account: Value, status: Value) -> StreamItem {
        let id = self.next_notification;
        self.next_notification += 1;
        let mut n = template(NOTIFICATION);
        n["id"] = json!(id.to_string());
        n["type"] = json!(kind);
        n["group_key"] = json!(format!("ungrouped-{id}"));
        n["created_at"] = json!(now_rfc3339());
        n["account"] = account;
        n["status"] = status;
        self.notifications.insert(id, n.clone());
        StreamItem {
            stream: StreamKind::User,
            event: "notification",
            data: n.to_string(),
        }
    }

    /// Files a direct status in its conversation (the parent's, or a new one).
    fn converse(&mut self, status: &Value, other: Option<Value>) -> StreamItem {
        let id: u64 = status["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let parent: Option<u64> = status["in_reply_to_id"]
            .as_str()
            .and_then(|s| s.parse().ok());
        let conv_id = match parent.and_then(|p| self.conv_of.get(&p).copied()) {
            Some(c) => c,
            None => {
                let c = self.next_conversation;
                self.next_conversation += 1;
                c
            }
        };
        self.conv_of.insert(id, conv_id);
        let conv = self.conversations.entry(conv_id).or_insert(Conv {
            last_status: id,
            accounts: Vec::new(),
        });
        conv.last_status = id;
        if let Some(o) = other
            && !conv.accounts.iter().any(|a| a["id"] == o["id"])
        {
            conv.accounts.push(o);
        }
        let v = self.conversation_json(conv_id);
        StreamItem {
            stream: StreamKind::Direct,
            event: "conversation",
            data: v.to_string(),
        }
    }

    fn conversation_json(&self, conv_id: u64) -> Value {
        let conv = &self.conversations[&conv_id];
        let mut c = template(CONVERSATION);
        c["id"] = json!(conv_id.to_string());
        c["unread"] = json!(true);
        c["accounts"] = json!(conv.accounts);
        c["last_status"] = self
            .statuses
            .get(&conv.last_status)
            .cloned()
            .unwrap_or(Value::Null);
        c
    }

    fn resident_post(&mut self, p: &ResidentPost) -> (String, Vec<StreamItem>) {
        let account = self.account(&p.acct, p.bot);
        let parent = p
            .in_reply_to_id
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .and_then(|id| self.statuses.get(&id).cloned());
        let me = self.me.clone();
        let mut paras = text_html(&p.text);
        match p.mention {
            MentionAt::Start => paras[0] = format!("{} {}", mention_html(&me), paras[0]),
            MentionAt::End => {
                let last = paras.len() - 1;
                paras[last] = format!("{} {}", paras[last], mention_html(&me));
            }
            MentionAt::None => {}
        }
        let content: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
        let mentions = if p.mention == MentionAt::None {
            Vec::new()
        } else {
            vec![mention_entry(&me)]
        };
        let status = self.status_json(
            &account,
            content,
            &p.visibility,
            parent.as_ref(),
            mentions,
            &p.media,
        );
        let mut items = Vec::new();
        if p.mention != MentionAt::None && !p.filtered {
            items.push(self.notify("mention", account.clone(), status.clone()));
        }
        if p.visibility == "direct" && p.mention != MentionAt::None {
            items.push(self.converse(&status, Some(account)));
        }
        (status["id"].as_str().unwrap_or_default().to_string(), items)
    }

    fn our_status(
        &mut self,
        text: &str,
        visibility: &str,
        in_reply_to: Option<&Value>,
    ) -> (Value, Vec<StreamItem>) {
        let me = self.me.clone();
        let mut mentions = Vec::new();
        let mut others = Vec::new();
        for word in text.split_whitespace().filter(|w| w.starts_with('@')) {
            if let Some(a) = self.find_account_by_mention(word)
                && a["id"] != me["id"]
                && !mentions.iter().any(|m: &Value| m["id"] == a["id"])
            {
                mentions.push(mention_entry(&a));
                others.push(a);
            }
        }
        let content: String = text_html(text)
            .iter()
            .map(|p| format!("<p>{p}</p>"))
            .collect();
        let status = self.status_json(&me, content, visibility, in_reply_to, mentions, &[]);
        let mut items = vec![StreamItem {
            stream: StreamKind::User,
            event: "update",
            data: status.to_string(),
        }];
        if visibility == "direct" {
            items.push(self.converse(&status, others.into_iter().next()));
        }
        (status, items)
    }

    fn roll_window(&mut self) {
        let now = Utc::now();
        if now >= self.window_reset {
            self.window_reset = now + chrono::TimeDelta::minutes(5);
            self.remaining = RATE_LIMIT;
        }
    }
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn error(status: StatusCode, msg: &str) -> Response {
    json_response(status, json!({ "error": msg }))
}

fn rate_headers(h: &mut HeaderMap, remaining: i64, reset: DateTime<Utc>) {
    h.insert("x-ratelimit-limit", HeaderValue::from(RATE_LIMIT));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining.max(0)));
    if let Ok(v) = HeaderValue::from_str(&reset.to_rfc3339_opts(SecondsFormat::Micros, true)) {
        h.insert("x-ratelimit-reset", v);
    }
}

/// Down, rate limit, token and malformed switches, and the rate-limit headers.
async fn gate(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let is_post_status = req.method() == Method::POST && path == "/api/v1/statuses";
    let public = path == "/api/v2/instance" || path == "/api/v1/streaming/health";
    let is_stream = path.starts_with("/api/v1/streaming/") && !public;
    let token_ok = {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let query_token = req.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("access_token=").map(str::to_string))
        });
        bearer.or(query_token).as_deref() == Some(TOKEN)
    };
    let (remaining, reset) = {
        let mut st = sh.state.lock().unwrap();
        if is_post_status {
            st.post_attempts += 1;
        }
        if st.down {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            )
                .into_response();
        }
        st.roll_window();
        if let Some(until) = st.limited_until.filter(|u| *u > Utc::now()) {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            rate_headers(resp.headers_mut(), 0, until);
            return resp;
        }
        if !public && !token_ok {
            return error(StatusCode::UNAUTHORIZED, "The access token is invalid");
        }
        if !is_stream {
            st.remaining -= 1;
        }
        if st.malformed && !public && !is_stream {
            let mut resp = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "[{\"id\": \"1\", \"type\": \"mention\", \"status\": {\"id\": ",
            )
                .into_response();
            rate_headers(resp.headers_mut(), st.remaining, st.window_reset);
            return resp;
        }
        (st.remaining, st.window_reset)
    };
    let mut resp = next.run(req).await;
    if !is_stream {
        rate_headers(resp.headers_mut(), remaining, reset);
    }
    resp
}

async fn instance(State(sh): State<Arc<Shared>>) -> Response {
    let max = sh.state.lock().unwrap().max_characters;
    let streaming = sh.base_url.replacen("http://", "ws://", 1);
    json_response(
        StatusCode::OK,
        json!({
            "domain": DOMAIN,
            "title": "Mastodon-standin",
            "version": "4.3.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "Stand-in for tests",
            "configuration": {
                "urls": { "streaming": streaming },
                "statuses": {
                    "max_characters": max,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23
                }
            }
        }),
    )
}

async fn verify_credentials(State(sh): State<Arc<Shared>>) -> Response {
    let mut me = sh.state.lock().unwrap().me.clone();
    me["source"] = json!({
        "privacy": "public",
        "sensitive": false,
        "language": "nl",
        "note": "",
        "fields": [],
        "follow_requests_count": 0
    });
    json_response(StatusCode::OK, me)
}

struct Paging {
    max_id: Option<u64>,
    since_id: Option<u64>,
    min_id: Option<u64>,
    limit: usize,
}

impl Paging {
    fn from(q: &[(String, String)], default: usize, max: usize) -> Self {
        let id = |k: &str| {
            q.iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let limit = q
            .iter()
            .find(|(k, _)| k == "limit")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(default)
            .clamp(1, max);
        Paging {
            max_id: id("max_id"),
            since_id: id("since_id"),
            min_id: id("min_id"),
            limit,
        }
    }

    /// Mastodon's paging over ascending keys: with `min_id` the page just above it, else the
    /// newest page below `max_id` and above `since_id`; newest first either way.
    fn page(&self, keys_asc: &[u64]) -> Vec<u64> {
        let below_max = |k: &u64| self.max_id.is_none_or(|m| *k < m);
        if let Some(min) = self.min_id {
            let mut v: Vec<u64> = keys_asc
                .iter()
                .copied()
                .filter(|k| *k > min && below_max(k))
                .take(self.limit)
                .collect();
            v.reverse();
            v
        } else {
            keys_asc
                .iter()
                .rev()
                .copied()
                .filter(|k| below_max(k) && self.since_id.is_none_or(|s| *k > s))
                .take(self.limit)
                .collect()
        }
    }
}

fn link_header(base: &str, path: &str, extra: &str, page: &[u64]) -> Option<HeaderValue> {
    let (first, last) = (page.first()?, page.last()?);
    HeaderValue::from_str(&format!(
        "<{base}{path}?{extra}max_id={last}>; rel=\"next\", <{base}{path}?{extra}min_id={first}>; rel=\"prev\""
    ))
    .ok()
}

fn list_response(items: Vec<Value>, link: Option<HeaderValue>) -> Response {
    let mut resp = json_response(StatusCode::OK, Value::Array(items));
    if let Some(l) = link {
        resp.headers_mut().insert(header::LINK, l);
    }
    resp
}

async fn notifications(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let values = |k: &str| -> Vec<String> {
        q.iter()
            .filter(|(key, _)| key == k || *key == format!("{k}[]"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let types = values("types");
    let exclude = values("exclude_types");
    let paging = Paging::from(&q, 40, 80);
    let st = sh.state.lock().unwrap();
    let keys: Vec<u64> = st
        .notifications
        .iter()
        .filter(|(_, n)| {
            let t = n["type"].as_str().unwrap_or_default().to_string();
            (types.is_empty() || types.contains(&t)) && !exclude.contains(&t)
        })
        .map(|(k, _)| *k)
        .collect();
    let page = paging.page(&keys);
    let extra: String = types
        .iter()
        .map(|t| format!("types%5B%5D={t}&"))
        .chain(std::iter::once(format!("limit={}&", paging.limit)))
        .collect();
    let link = link_header(&sh.base_url, "/api/v1/notifications", &extra, &page);
    let items = page.iter().map(|k| st.notifications[k].clone()).collect();
    list_response(items, link)
}

async fn conversations(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let paging = Paging::from(&q, 20, 40);
    let st = sh.state.lock().unwrap();
    let mut by_last: BTreeMap<u64, u64> = BTreeMap::new();
    for (id, c) in &st.conversations {
        by_last.insert(c.last_status, *id);
    }
    let keys: Vec<u64> = by_last.keys().copied().collect();
    let page = paging.page(&keys);
    let link = link_header(
        &sh.base_url,
        "/api/v1/conversations",
        &format!("limit={}&", paging.limit),
        &page,
    );
    let items = page
        .iter()
        .map(|k| st.conversation_json(by_last[k]))
        .collect();
    list_response(items, link)
}

async fn get_status(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let st = sh.state.lock().unwrap();
    match id.parse::<u64>().ok().and_then(|i| st.statuses.get(&i)) {
        Some(s) => json_response(StatusCode::OK, s.clone()),
        None => error(StatusCode::NOT_FOUND, "Record not found"),
    }
}

async fn context(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let st = sh.state.lock().unwrap();
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|i| st.statuses.contains_key(i))
    else {
        return error(StatusCode::NOT_FOUND, "Record not found");
    };
    let parent_of = |s: &Value| {
        s["in_reply_to_id"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
    };
    let mut ancestors = Vec::new();
    let mut cur = parent_of(&st.statuses[&id]);
    while let Some(p) = cur {
        let Some(s) = st.statuses.get(&p) else { break };
        ancestors.push(s.clone());
        cur = parent_of(s);
    }
    ancestors.reverse();
    let descendants: Vec<Value> = st
        .statuses
        .iter()
        .filter(|(k, s)| {
            **k != id && {
                let mut c = parent_of(s);
                let mut found = false;
                while let Some(p) = c {
                    if p == id {
                        found = true;
                        break;
                    }
                    c = st.statuses.get(&p).and_then(parent_of);
                }
                found
            }
        })
        .map(|(_, s)| s.clone())
        .collect();
    json_response(
        StatusCode::OK,
        json!({ "ancestors": ancestors, "descendants": descendants }),
    )
}

async fn post_status(State(sh): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let params: HashMap<String, String> = if is_json {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect(),
            _ => return error(StatusCode::BAD_REQUEST, "Invalid JSON"),
        }
    } else {
        serde_urlencoded_pairs(&body)
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (resp, items) = {
        let mut st = sh.state.lock().unwrap();
        if let Some(k) = &key
            && let Some(id) = st.idempotency.get(k)
        {
            return json_response(StatusCode::OK, st.statuses[id].clone());
        }
        let text = params.get("status").cloned().unwrap_or_default();
        if text.trim().is_empty() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation failed: Text can't be blank",
            );
        }
        let max = st.max_characters;
        if crate::mastodon::status_length(&text, 23) > max {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Validation failed: Text character limit of {max} exceeded"),
            );
        }
        let parent = match params.get("in_reply_to_id") {
            Some(p) => match p.parse::<u64>().ok().and_then(|i| st.statuses.get(&i)) {
                Some(s) => Some(s.clone()),
                None => return error(StatusCode::NOT_FOUND, "Record not found"),
            },
            None => None,
        };
        let visibility = params
            .get("visibility")
            .cloned()
            .unwrap_or_else(|| "public".to_string());
        if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation failed: Visibility is not included in the list",
            );
        }
        let (status, items) = st.our_status(&text, &visibility, parent.as_ref());
        let id = status["id"].as_str().unwrap_or_default().to_string();
        if let Some(k) = &key
            && let Ok(n) = id.parse::<u64>()
        {
            st.idempotency.insert(k.clone(), n);
        }
        st.posted.push(PostedStatus {
            id,
            status: text,
            in_reply_to_id: params.get("in_reply_to_id").cloned(),
            visibility,
            idempotency_key: key,
        });
        (json_response(StatusCode::OK, status), items)
    };
    for item in items {
        let _ = sh.events.send(item);
    }
    resp
}

/// `a=b&c=d` form bodies (values percent-decoded, '+' as space).
fn serde_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    let s = String::from_utf8_lossy(body);
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn stream_user(State(sh): State<Arc<Shared>>) -> Response {
    sse(sh, StreamKind::User)
}

async fn stream_direct(State(sh): State<Arc<Shared>>) -> Response {
    sse(sh, StreamKind::Direct)
}

/// Counts an open stream while it lives.
struct StreamGuard(Arc<Shared>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::SeqCst);
    }
}

fn sse(sh: Arc<Shared>, kind: StreamKind) -> Response {
    let rx = sh.events.subscribe();
    let gen_rx = sh.drop_gen.subscribe();
    sh.streams.fetch_add(1, Ordering::SeqCst);
    let guard = StreamGuard(sh);
    let stream = futures::stream::unfold(
        (rx, gen_rx, guard),
        move |(mut rx, mut gen_rx, guard)| async move {
            loop {
                tokio::select! {
                    _ = gen_rx.changed() => return None,
                    m = rx.recv() => match m {
                        Ok(item) if item.stream == kind => {
                            let ev = Event::default().event(item.event).data(item.data);
                            return Some((Ok::<Event, Infallible>(ev), (rx, gen_rx, guard)));
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_millis(500))
                .text("thump"),
        )
        .into_response()
}
