//! Stand-in for Meta's Graph API and Meta's webhook sender, for tests only.
//!
//! [`MetaStandin::start`] serves, on `127.0.0.1` and a free port, the calls the Meta adapter
//! makes, answering with the documented shapes:
//! - `POST /{version}/{id}/messages`: WhatsApp (`messaging_product: whatsapp`) answers
//!   `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}`,
//!   Messenger/Instagram answer `{"recipient_id", "message_id": "m_…"}`;
//! - `GET /{version}/{id}?fields=…`: the phone number (`display_phone_number`,
//!   `verified_name`), Instagram account (`username`, `name`) or page (`name`).
//!
//! Every call needs `Authorization: Bearer <token>`; otherwise 401 with the documented
//! `OAuthException` code 190 body. Switches: [`MetaStandinHandle::set_failing`] (the next `n`
//! sends answer 500 with a transient error; [`MetaStandinHandle::set_failing_after`] lets some
//! through first), [`MetaStandinHandle::set_token`], [`MetaStandinHandle::set_window_closed`] (free text
//! is refused with WhatsApp error 131047, or Messenger/Instagram code 10 subcode 2018278;
//! templates still pass). Accepted messages are recorded: [`MetaStandinHandle::sent`].
//!
//! The second half builds what Meta POSTs to a webhook: documented payloads
//! ([`whatsapp_text`], [`whatsapp_image`], [`whatsapp_location`], [`whatsapp_status`],
//! [`messenger_text`], [`messenger_delivery`], [`messenger_read`], [`instagram_text`]) and their
//! signature ([`sign`]), for Loket's own webhook tests. Ids default to the documented example
//! ids ([`PHONE_NUMBER_ID`], [`PAGE_ID`], [`IG_ACCOUNT_ID`]); [`for_account`] retargets a
//! payload at another number/page/account.

use crate::adapter::WebhookRequest;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The access token the stand-in accepts unless started with another.
pub const TOKEN: &str = "EAAstandin-token";
/// Business phone number id from Meta's webhook examples.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// Business display phone number from Meta's webhook examples.
pub const DISPLAY_PHONE_NUMBER: &str = "15550783881";
/// WhatsApp Business Account id from Meta's webhook examples.
pub const WABA_ID: &str = "102290129340398";
/// Facebook page id used in the Messenger payloads.
pub const PAGE_ID: &str = "682498302938465";
/// Instagram professional account id used in the Instagram payloads.
pub const IG_ACCOUNT_ID: &str = "17841405822304914";
/// What the stand-in answers for `verified_name` / a page's `name`.
pub const VERIFIED_NAME: &str = "Gemeente Voorbeeldstad";
/// What the stand-in answers for an Instagram account's `username`.
pub const IG_USERNAME: &str = "gemeentevoorbeeldstad";

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// The request path, e.g. `/v21.0/106540352242922/messages`.
    pub path: String,
    pub version: String,
    /// The phone number id, page id or Instagram account id in the path.
    pub account_id: String,
    /// The `Authorization` header as received.
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    /// The id the stand-in answered with (`wamid.…` or `m_…`).
    pub id: String,
}

impl SentMessage {
    /// The text sent (WhatsApp `text.body` or Messenger/Instagram `message.text`).
    pub fn text(&self) -> Option<&str> {
        self.body
            .pointer("/text/body")
            .or_else(|| self.body.pointer("/message/text"))
            .and_then(Value::as_str)
    }
}

struct Inner {
    token: String,
    sent: Vec<SentMessage>,
    attempts: usize,
    /// Sends to let through before `failing` starts.
    failing_after: usize,
    failing: usize,
    window_closed: bool,
    next_id: u64,
    /// Media a resident sent (WhatsApp media id → content type, bytes).
    media: HashMap<String, (String, Vec<u8>)>,
    base_url: String,
}

/// Controls and inspects a running stand-in; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct MetaStandinHandle {
    inner: Arc<Mutex<Inner>>,
    _stop: Arc<Stop>,
}

struct Stop(Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.lock().ok().and_then(|mut g| g.take()) {
            let _ = tx.send(());
        }
    }
}

impl MetaStandinHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Messages accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.lock().sent.clone()
    }

    /// Send requests received so far, accepted or not (token failures not counted).
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// The next `n` send requests answer HTTP 500 with a transient Graph error.
    pub fn set_failing(&self, n: usize) {
        self.set_failing_after(0, n);
    }

    /// The next `ok` send requests are handled normally, then `n` answer HTTP 500.
    pub fn set_failing_after(&self, ok: usize, n: usize) {
        let mut inner = self.lock();
        inner.failing_after = ok;
        inner.failing = n;
    }

    /// While closed, free text is refused as outside the 24-hour window; templates pass.
    /// A file a resident sent: downloadable by its media id, as on Meta.
    pub fn add_media(&self, media_id: &str, mime_type: &str, data: &[u8]) {
        self.inner
            .lock()
            .unwrap()
            .media
            .insert(media_id.to_string(), (mime_type.to_string(), data.to_vec()));
    }

    pub fn set_window_closed(&self, closed: bool) {
        self.lock().window_closed = closed;
    }

    /// Changes the token the stand-in accepts (e.g. to simulate a revoked token).
    pub fn set_token(&self, token: &str) {
        self.lock().token = token.to_string();
    }
}

/// Starts stand-ins for Meta's Graph API.
pub struct MetaStandin;

impl MetaStandin {
    /// Starts a stand-in accepting [`TOKEN`]; returns its base URL (`http://127.0.0.1:port`,
    /// to use as `graph_base_url`) and its handle.
    pub async fn start() -> (String, MetaStandinHandle) {
        Self::start_with_token(TOKEN).await
    }

    pub async fn start_with_token(token: &str) -> (String, MetaStandinHandle) {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_string(),
            sent: Vec::new(),
            attempts: 0,
            failing_after: 0,
            failing: 0,
            window_closed: false,
            next_id: 1,
            media: HashMap::new(),
            base_url: String::new(),
        }));
        let app = Router::new()
            .route("/{version}/{id}/messages", post(send_message))
            .route("/{version}/{id}", get(lookup))
            .route("/media-download/{id}", get(download))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        inner.lock().expect("lock").base_url = format!("http://{addr}");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        (
            format!("http://{addr}"),
            MetaStandinHandle {
                inner,
                _stop: Arc::new(Stop(Mutex::new(Some(tx)))),
            },
        )
    }
}

type Shared = Arc<Mutex<Inner>>;

fn trace_id(n: u64) -> String {
    format!("AstandIn{n:04}")
}

fn graph_error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(json!({ "error": body }))).into_response()
}

fn bad_token(n: u64) -> Response {
    graph_error(
        StatusCode::UNAUTHORIZED,
        json!({
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": trace_id(n),
        }),
    )
}

fn invalid_parameter(n: u64, message: &str) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        json!({
            "message": format!("(#100) {message}"),
            "type": "OAuthException",
            "code": 100,
            "fbtrace_id": trace_id(n),
        }),
    )
}

fn authorized(inner: &Inner, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == inner.token)
}

async fn send_message(
    State(state): State<Shared>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut inner = state.lock().unwrap_or_else(|p| p.into_inner());
    let n = inner.next_id;
    inner.next_id += 1;
    if !authorized(&inner, &headers) {
        return bad_token(n);
    }
    inner.attempts += 1;
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid_parameter(n, "The parameter messaging_product is required.");
    };
    if inner.failing_after > 0 {
        inner.failing_after -= 1;
    } else if inner.failing > 0 {
        inner.failing -= 1;
        return graph_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({
                "message": "An unexpected error has occurred. Please retry your request later.",
                "type": "OAuthException",
                "is_transient": true,
                "code": 2,
                "fbtrace_id": trace_id(n),
            }),
        );
    }
    let whatsapp = body.get("messaging_product").and_then(Value::as_str) == Some("whatsapp");
    let (response, message_id) = if whatsapp {
        let Some(to) = body.get("to").and_then(Value::as_str) else {
            return invalid_parameter(n, "The parameter to is required.");
        };
        let kind = body.get("type").and_then(Value::as_str).unwrap_or("text");
        match kind {
            "text" => {
                let Some(text) = body.pointer("/text/body").and_then(Value::as_str) else {
                    return invalid_parameter(n, "The parameter text['body'] is required.");
                };
                if text.encode_utf16().count() > 4096 {
                    return invalid_parameter(
                        n,
                        "Param text['body'] must be at most 4096 characters long.",
                    );
                }
                if inner.window_closed {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        json!({
                            "message": "(#131047) Re-engagement message",
                            "type": "OAuthException",
                            "code": 131047,
                            "error_data": {
                                "messaging_product": "whatsapp",
                                "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
                            },
                            "fbtrace_id": trace_id(n),
                        }),
                    );
                }
            }
            "template" => {
                if body
                    .pointer("/template/name")
                    .and_then(Value::as_str)
                    .is_none()
                    || body
                        .pointer("/template/language/code")
                        .and_then(Value::as_str)
                        .is_none()
                {
                    return invalid_parameter(
                        n,
                        "The parameter template['name'] and template['language']['code'] are required.",
                    );
                }
            }
            other => {
                return invalid_parameter(
                    n,
                    &format!("Unsupported message type {other} in stand-in."),
                );
            }
        }
        let wa_id = to.trim_start_matches('+').to_string();
        let message_id = format!("wamid.STANDIN{n:08}");
        (
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{ "input": to, "wa_id": wa_id }],
                "messages": [{ "id": message_id }],
            }),
            message_id,
        )
    } else {
        let Some(recipient) = body.pointer("/recipient/id").and_then(Value::as_str) else {
            return invalid_parameter(n, "param recipient must be non-empty.");
        };
        let Some(text) = body.pointer("/message/text").and_then(Value::as_str) else {
            return invalid_parameter(n, "param message must be non-empty.");
        };
        if text.encode_utf16().count() >= 2000 {
            return invalid_parameter(
                n,
                "Length of param message[text] must be less than or equal to 2000",
            );
        }
        if inner.window_closed {
            return graph_error(
                StatusCode::BAD_REQUEST,
                json!({
                    "message": "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
                    "type": "OAuthException",
                    "code": 10,
                    "error_subcode": 2018278,
                    "fbtrace_id": trace_id(n),
                }),
            );
        }
        let message_id = format!("m_STANDIN{n:08}");
        (
            json!({ "recipient_id": recipient, "message_id": message_id }),
            message_id,
        )
    };
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    inner.sent.push(SentMessage {
        path: format!("/{version}/{id}/messages"),
        version,
        account_id: id,
        authorization: header("authorization"),
        content_type: header("content-type"),
        body,
        id: message_id,
    });
    (StatusCode::OK, axum::Json(response)).into_response()
}

async fn lookup(
    State(state): State<Shared>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = state.lock().unwrap_or_else(|p| p.into_inner());
    let n = inner.next_id;
    inner.next_id += 1;
    if !authorized(&inner, &headers) {
        return bad_token(n);
    }
    let fields = query.get("fields").cloned().unwrap_or_default();
    // A media id: its documented metadata with a short-lived download URL.
    if let Some((mime, data)) = inner.media.get(&id) {
        let answer = json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/media-download/{id}", inner.base_url),
            "mime_type": mime,
            "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
            "file_size": data.len(),
            "id": id,
        });
        return (StatusCode::OK, axum::Json(answer)).into_response();
    }
    let answer = if fields.contains("display_phone_number") {
        json!({
            "display_phone_number": "+31 6 12345678",
            "verified_name": VERIFIED_NAME,
            "id": id,
        })
    } else if fields.contains("username") {
        json!({ "username": IG_USERNAME, "name": VERIFIED_NAME, "id": id })
    } else {
        json!({ "name": VERIFIED_NAME, "id": id })
    };
    (StatusCode::OK, axum::Json(answer)).into_response()
}

/// The media URL: like Meta's, it needs the access token.
async fn download(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let inner = state.lock().unwrap_or_else(|p| p.into_inner());
    if !authorized(&inner, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match inner.media.get(&id) {
        Some((mime, data)) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, mime.clone())],
            data.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Meta's side of a webhook call.

/// The `X-Hub-Signature-256` value Meta sends: `sha256=<hex HMAC-SHA256(app secret, body)>`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    crate::webhook::sign(app_secret.as_bytes(), body)
}

/// The exact body bytes to POST for a payload, with their signature header value.
pub fn signed_body(app_secret: &str, payload: &Value) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(payload).expect("JSON");
    let sig = sign(app_secret, &body);
    (body, sig)
}

/// A signed POST as Meta makes it, ready for [`crate::Adapter::webhook`].
pub fn webhook_request(app_secret: &str, payload: &Value) -> WebhookRequest {
    let (body, sig) = signed_body(app_secret, payload);
    WebhookRequest {
        method: "POST".into(),
        query: Vec::new(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-hub-signature-256".into(), sig),
        ],
        body,
    }
}

/// The verification GET Meta makes when the webhook URL is saved.
pub fn handshake_request(verify_token: &str, challenge: &str) -> WebhookRequest {
    WebhookRequest {
        method: "GET".into(),
        query: vec![
            ("hub.mode".into(), "subscribe".into()),
            ("hub.challenge".into(), challenge.into()),
            ("hub.verify_token".into(), verify_token.into()),
        ],
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn now_secs() -> i64 {
    crate::meta::now_ms() / 1000
}

/// The `value` of a WhatsApp `messages` change, wrapped in the documented envelope.
fn whatsapp_envelope(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{ "value": value, "field": "messages" }],
        }],
    })
}

fn whatsapp_inbound(from: &str, message: Value) -> Value {
    whatsapp_envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "contacts": [{ "profile": { "name": format!("Inwoner {from}") }, "wa_id": from }],
        "messages": [message],
    }))
}

/// A WhatsApp text message from `from` (a wa_id), sent now. The contact's profile name is
/// `Inwoner <from>`.
pub fn whatsapp_text(from: &str, wamid: &str, text: &str) -> Value {
    whatsapp_inbound(
        from,
        json!({
            "from": from,
            "id": wamid,
            "timestamp": now_secs().to_string(),
            "type": "text",
            "text": { "body": text },
        }),
    )
}

/// A WhatsApp image message: the media id becomes the attachment reference, the caption the
/// text.
pub fn whatsapp_image(from: &str, wamid: &str, media_id: &str, caption: Option<&str>) -> Value {
    let mut image = json!({
        "mime_type": "image/jpeg",
        "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
        "id": media_id,
    });
    if let Some(c) = caption {
        image["caption"] = json!(c);
    }
    whatsapp_inbound(
        from,
        json!({
            "from": from,
            "id": wamid,
            "timestamp": now_secs().to_string(),
            "type": "image",
            "image": image,
        }),
    )
}

/// A WhatsApp location message.
pub fn whatsapp_location(
    from: &str,
    wamid: &str,
    latitude: f64,
    longitude: f64,
    name: Option<&str>,
    address: Option<&str>,
) -> Value {
    let mut location = json!({ "latitude": latitude, "longitude": longitude });
    if let Some(n) = name {
        location["name"] = json!(n);
    }
    if let Some(a) = address {
        location["address"] = json!(a);
    }
    whatsapp_inbound(
        from,
        json!({
            "from": from,
            "id": wamid,
            "timestamp": now_secs().to_string(),
            "type": "location",
            "location": location,
        }),
    )
}

/// A WhatsApp status callback (`sent`, `delivered`, `read` or `failed`) about `wamid`, sent to
/// `recipient`. `failed` carries the documented error 131047.
pub fn whatsapp_status(wamid: &str, status: &str, recipient: &str) -> Value {
    let mut s = json!({
        "id": wamid,
        "status": status,
        "timestamp": now_secs().to_string(),
        "recipient_id": recipient,
    });
    match status {
        "failed" => {
            s["errors"] = json!([{
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
                },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
            }]);
        }
        "sent" | "delivered" => {
            s["pricing"] =
                json!({ "billable": true, "pricing_model": "CBP", "category": "service" });
        }
        _ => {}
    }
    whatsapp_envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "statuses": [s],
    }))
}

fn messaging_envelope(object: &str, account: &str, event: Value) -> Value {
    json!({
        "object": object,
        "entry": [{ "id": account, "time": crate::meta::now_ms(), "messaging": [event] }],
    })
}

/// A Messenger text message from `psid` to [`PAGE_ID`], sent now.
pub fn messenger_text(psid: &str, mid: &str, text: &str) -> Value {
    messaging_envelope(
        "page",
        PAGE_ID,
        json!({
            "sender": { "id": psid },
            "recipient": { "id": PAGE_ID },
            "timestamp": crate::meta::now_ms(),
            "message": { "mid": mid, "text": text },
        }),
    )
}

/// A Messenger `message_deliveries` event for `mids` (empty: watermark only).
pub fn messenger_delivery(psid: &str, mids: &[&str], watermark_ms: i64) -> Value {
    let mut delivery = json!({ "watermark": watermark_ms });
    if !mids.is_empty() {
        delivery["mids"] = json!(mids);
    }
    messaging_envelope(
        "page",
        PAGE_ID,
        json!({
            "sender": { "id": psid },
            "recipient": { "id": PAGE_ID },
            "delivery": delivery,
        }),
    )
}

/// A Messenger `message_reads` event: everything sent to `psid` up to `watermark_ms` was read.
pub fn messenger_read(psid: &str, watermark_ms: i64) -> Value {
    messaging_envelope(
        "page",
        PAGE_ID,
        json!({
            "sender": { "id": psid },
            "recipient": { "id": PAGE_ID },
            "timestamp": crate::meta::now_ms(),
            "read": { "watermark": watermark_ms },
        }),
    )
}

/// An Instagram text message from `igsid` to [`IG_ACCOUNT_ID`], sent now.
pub fn instagram_text(igsid: &str, mid: &str, text: &str) -> Value {
    messaging_envelope(
        "instagram",
        IG_ACCOUNT_ID,
        json!({
            "sender": { "id": igsid },
            "recipient": { "id": IG_ACCOUNT_ID },
            "timestamp": crate::meta::now_ms(),
            "message": { "mid": mid, "text": text },
        }),
    )
}

/// The same payload addressed to another phone number id (WhatsApp) or page / Instagram
/// account (Messenger, Instagram).
pub fn for_account(mut payload: Value, account_id: &str) -> Value {
    if let Some(entries) = payload.get_mut("entry").and_then(Value::as_array_mut) {
        for entry in entries {
            if let Some(changes) = entry.get_mut("changes").and_then(Value::as_array_mut) {
                for c in changes {
                    if let Some(m) = c.pointer_mut("/value/metadata/phone_number_id") {
                        *m = json!(account_id);
                    }
                }
                continue;
            }
            entry["id"] = json!(account_id);
            if let Some(events) = entry.get_mut("messaging").and_then(Value::as_array_mut) {
                for e in events {
                    if let Some(r) = e.pointer_mut("/recipient/id") {
                        *r = json!(account_id);
                    }
                }
            }
        }
    }
    payload
}
