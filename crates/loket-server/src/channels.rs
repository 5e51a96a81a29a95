//! Resident channel accounts (e-mail, Mastodon, WhatsApp, Messenger, Instagram): configuration
//! with sealed secrets, the runners that pull e-mail and Mastodon, the webhook endpoint Meta
//! pushes to, replies through the adapter, and the health the admin sees.
//!
//! Every platform speaks through one [`Adapter`] from `loket-channels`; nothing here knows a
//! protocol. A platform's message id is stored as `{account id}:{platform id}`, so the same
//! e-mail sent to two municipalities is two messages while a re-read one is a duplicate.

use crate::error::{AppError, AppResult};
use crate::hub::HubEvent;
use crate::intake::{self, InboundRequest, MAX_TEXT_CHARS};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use loket_channels::DeliveryError;
use loket_channels::adapter::{
    self, AccountConfig, Adapter, Batch, ChannelError, ChannelErrorKind, ChannelKind, Event,
    InboundMessage, MessageKind, Reply, TemplateRef, WebhookOutcome, WebhookRequest,
};
use loket_store::{ChannelAccountRow, NewAttachment, NewChannelInfo};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Running pull tasks and built adapters, per account.
#[derive(Default)]
pub struct Runtime {
    tasks: Mutex<HashMap<i64, tokio::task::AbortHandle>>,
    /// Built adapters by account.
    adapters: Mutex<HashMap<i64, Built>>,
}

/// An adapter with the `updated_at` of the configuration it was built from.
type Built = (i64, Arc<dyn Adapter>);

impl Runtime {
    /// Stops every pull task (server shutdown).
    pub fn stop_all(&self) {
        for (_, t) in self.tasks.lock().expect("lock").drain() {
            t.abort();
        }
    }
}

/// The platform id of a message as stored: scoped to the account it came in on.
pub fn scoped(account_id: i64, platform_id: &str) -> String {
    format!("{account_id}:{platform_id}")
}

fn unscoped(account_id: i64, stored: &str) -> Option<String> {
    stored
        .strip_prefix(&format!("{account_id}:"))
        .map(str::to_string)
}

/// Associated data binding a sealed secret to its tenant, account and field.
pub fn aad(tenant: &str, webhook_key: &str, field: &str) -> String {
    format!("kanaal/{tenant}/{webhook_key}/{field}")
}

pub fn kind_of(row: &ChannelAccountRow) -> Result<ChannelKind, ChannelError> {
    ChannelKind::parse(&row.kind)
        .ok_or_else(|| ChannelError::config(format!("onbekend kanaal ‘{}’", row.kind)))
}

/// The account's settings and opened secrets. A secret sealed under another key (the server's
/// key changed) is left out, and the adapter then reports it as missing.
pub fn config_of(state: &AppState, row: &ChannelAccountRow) -> AccountConfig {
    let settings: BTreeMap<String, String> =
        serde_json::from_str(&row.settings).unwrap_or_default();
    let sealed: BTreeMap<String, String> = serde_json::from_str(&row.secrets).unwrap_or_default();
    let secrets = sealed
        .into_iter()
        .filter_map(|(k, v)| {
            state
                .sealer
                .open(&v, &aad(&row.tenant_code, &row.webhook_key, &k))
                .map(|plain| (k, plain))
        })
        .collect();
    AccountConfig { settings, secrets }
}

/// The adapter for an account, built once per configuration version.
pub fn adapter_for(
    state: &AppState,
    row: &ChannelAccountRow,
) -> Result<Arc<dyn Adapter>, ChannelError> {
    if let Some((v, a)) = state.channels.adapters.lock().expect("lock").get(&row.id)
        && *v == row.updated_at
    {
        return Ok(a.clone());
    }
    let kind = kind_of(row)?;
    let built: Arc<dyn Adapter> = Arc::from(adapter::build(kind, &config_of(state, row))?);
    state
        .channels
        .adapters
        .lock()
        .expect("lock")
        .insert(row.id, (row.updated_at, built.clone()));
    Ok(built)
}

// ---------------------------------------------------------------- pull runners

/// Starts a runner for every enabled pull account (at server start).
pub async fn start_all(state: &AppState) {
    match state.store.channel_accounts(None).await {
        Ok(rows) => {
            for row in rows {
                restart(state, &row);
            }
        }
        Err(e) => tracing::warn!(error = %e, "loading channel accounts failed"),
    }
}

/// (Re)starts an account's runner after a configuration change; stops it when disabled.
pub fn restart(state: &AppState, row: &ChannelAccountRow) {
    let mut tasks = state.channels.tasks.lock().expect("lock");
    if let Some(t) = tasks.remove(&row.id) {
        t.abort();
    }
    let pull = kind_of(row).map(|k| !k.is_push()).unwrap_or(false);
    if row.enabled && pull {
        let h = tokio::spawn(run_account(state.clone(), row.id));
        tasks.insert(row.id, h.abort_handle());
    }
}

/// Backfill from the stored cursor, then listen; after any gap, backfill again.
async fn run_account(state: AppState, id: i64) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let Ok(row) = state.store.channel_account(id).await else {
            return;
        };
        if !row.enabled {
            return;
        }
        let result = match adapter_for(&state, &row) {
            Ok(a) => pull(&state, &row, a.as_ref(), &mut backoff).await,
            Err(e) => Err(e.message),
        };
        if let Err(msg) = result {
            tracing::info!(account = id, error = %msg, "channel connection lost; reconnecting");
            let _ = state.store.channel_error(id, &msg, true).await;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

async fn pull(
    state: &AppState,
    row: &ChannelAccountRow,
    a: &dyn Adapter,
    backoff: &mut Duration,
) -> Result<(), String> {
    let batch = a
        .backfill(row.cursor.as_deref())
        .await
        .map_err(|e| e.message)?;
    let mut cursor = row.cursor.clone();
    apply(state, row, batch, &mut cursor).await?;
    *backoff = Duration::from_millis(500);
    let _ = state.store.channel_ok(row.id).await;
    let (tx, mut rx) = mpsc::channel::<Batch>(16);
    let listen = a.listen(cursor.clone(), tx);
    tokio::pin!(listen);
    loop {
        tokio::select! {
            r = &mut listen => {
                while let Ok(b) = rx.try_recv() {
                    apply(state, row, b, &mut cursor).await?;
                }
                return r.map_err(|e| e.message);
            }
            Some(b) = rx.recv() => apply(state, row, b, &mut cursor).await?,
        }
    }
}

/// Ingests a batch, then stores its cursor: a crash in between re-reads (and de-duplicates)
/// rather than loses.
async fn apply(
    state: &AppState,
    row: &ChannelAccountRow,
    batch: Batch,
    cursor: &mut Option<String>,
) -> Result<(), String> {
    for ev in batch.events {
        ingest_event(state, row, ev)
            .await
            .map_err(|e| format!("opslaan mislukt: {e}"))?;
    }
    if let Some(c) = batch.cursor {
        state
            .store
            .set_channel_cursor(row.id, &c)
            .await
            .map_err(|e| format!("opslaan mislukt: {e}"))?;
        *cursor = Some(c);
    }
    Ok(())
}

// ---------------------------------------------------------------- inbound

/// Takes one event of an account into Loket. Errors only when storing failed (the caller
/// retries); a message Loket refuses is recorded on the account's health and skipped.
pub async fn ingest_event(state: &AppState, row: &ChannelAccountRow, ev: Event) -> AppResult<()> {
    let kind = kind_of(row).map_err(|e| AppError::Invalid(e.message))?;
    match ev {
        Event::Status {
            external_id,
            status,
            ..
        } => {
            // Messenger reports reads as a watermark: everything sent to the resident up to then.
            let moved = match loket_channels::meta::Watermark::parse(&external_id) {
                Some(w) => {
                    state
                        .store
                        .apply_watermark(
                            row.id,
                            kind.as_str(),
                            &w.recipient,
                            w.up_to_ms,
                            status.as_state(),
                        )
                        .await?
                }
                None => state
                    .store
                    .apply_delivery_status(
                        kind.as_str(),
                        &scoped(row.id, &external_id),
                        status.as_state(),
                    )
                    .await?
                    .into_iter()
                    .collect(),
            };
            for (cid, mid, tenant) in moved {
                state.hub.publish(HubEvent::Delivery {
                    tenant,
                    conversation_id: cid,
                    message_id: mid,
                    state: status.as_state().into(),
                });
            }
        }
        Event::Message(m) => match &m.kind {
            MessageKind::Automatic => state.store.channel_seen(row.id, "ignored").await?,
            MessageKind::Bounce { about } => {
                let ids: Vec<String> = about.iter().map(|a| scoped(row.id, a)).collect();
                for (cid, mid, tenant) in state.store.mark_bounced(kind.as_str(), &ids).await? {
                    state.hub.publish(HubEvent::Delivery {
                        tenant,
                        conversation_id: cid,
                        message_id: mid,
                        state: "mislukt".into(),
                    });
                }
                state.store.channel_seen(row.id, "ignored").await?;
            }
            MessageKind::Normal if !m.for_inbox => {
                state
                    .store
                    .add_mention(
                        &row.tenant_code,
                        kind.as_str(),
                        &scoped(row.id, &m.external_id),
                        &m.author_id,
                        &m.author_name,
                        &m.text,
                    )
                    .await?;
                state.store.channel_seen(row.id, "ignored").await?;
            }
            MessageKind::Normal => {
                let req = inbound_request(state, row, kind, m).await?;
                match intake::accept(state, req).await {
                    Ok(_) => state.store.channel_seen(row.id, "in").await?,
                    Err(e @ (AppError::Invalid(_) | AppError::UnknownTenant(_))) => {
                        tracing::info!(account = row.id, error = %e, "channel message refused");
                        state
                            .store
                            .channel_error(row.id, &format!("bericht geweigerd: {e}"), false)
                            .await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        },
    }
    Ok(())
}

/// Maps an adapter's message onto the intake request, keeping everything: a text longer than
/// the intake allows is cut in the inbox and kept whole as an attachment.
async fn inbound_request(
    state: &AppState,
    row: &ChannelAccountRow,
    kind: ChannelKind,
    m: InboundMessage,
) -> AppResult<InboundRequest> {
    let mut attachments: Vec<NewAttachment> = m
        .attachments
        .iter()
        .map(|a| NewAttachment {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            data: a.data.clone(),
            reference: a.reference.clone(),
        })
        .collect();
    let mut text = m.text.trim().to_string();
    if text.chars().count() > MAX_TEXT_CHARS {
        attachments.push(NewAttachment {
            filename: "volledig-bericht.txt".into(),
            content_type: "text/plain; charset=utf-8".into(),
            data: Some(text.clone().into_bytes()),
            reference: None,
        });
        text = text.chars().take(MAX_TEXT_CHARS - 60).collect::<String>()
            + "…\n\n[Ingekort: de volledige tekst staat in de bijlage.]";
    }
    if text.is_empty() {
        text = match attachments.first() {
            Some(a) => format!("[bijlage: {}]", a.filename),
            None => "[bericht zonder tekst]".into(),
        };
    }
    let mut thread = m.conversation_hint;
    if thread.is_none() && !m.thread_refs.is_empty() {
        let refs: Vec<String> = m.thread_refs.iter().map(|r| scoped(row.id, r)).collect();
        thread = state
            .store
            .conversation_by_external(kind.as_str(), &row.tenant_code, &refs)
            .await?;
    }
    Ok(InboundRequest {
        tenant: row.tenant_code.clone(),
        channel: kind.as_str().into(),
        external_id: scoped(row.id, &m.external_id).chars().take(200).collect(),
        // A mail without a From address is still a resident's message: keep it, unanswerable.
        author_id: if m.author_id.trim().is_empty() {
            "onbekende-afzender".into()
        } else {
            m.author_id.chars().take(200).collect()
        },
        author_name: m.author_name.chars().take(200).collect(),
        text,
        sent_at: m.sent_at_ms,
        lat: m.lat,
        lon: m.lon,
        api_key_id: None,
        widget_token: None,
        open311: None,
        channel_info: Some(NewChannelInfo {
            account_id: row.id,
            thread_conversation: thread,
            reply_context: Some(m.reply_context.to_string()),
            attachments,
        }),
    })
}

/// `GET|POST /kanalen/{key}/webhook`: Meta's verification handshake and event deliveries.
/// Answers 200 only after the events are stored, so Meta retries what we could not keep.
pub async fn webhook(
    State(state): State<AppState>,
    Path(key): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle_webhook(&state, &key, method, query, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_webhook(
    state: &AppState,
    key: &str,
    method: Method,
    query: Option<String>,
    headers: &HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let row = state.store.channel_account_by_webhook(key).await?;
    if !row.enabled {
        return Err(AppError::NotFound);
    }
    let a = adapter_for(state, &row).map_err(|e| AppError::Invalid(e.message))?;
    let req = WebhookRequest {
        method: method.as_str().into(),
        query: url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    match a.webhook(&req) {
        Ok(WebhookOutcome::Challenge(c)) => {
            let _ = state.store.channel_ok(row.id).await;
            Ok(([(header::CONTENT_TYPE, "text/plain")], c).into_response())
        }
        Ok(WebhookOutcome::Events(events)) => {
            for ev in events {
                ingest_event(state, &row, ev).await?;
            }
            Ok((StatusCode::OK, "EVENT_RECEIVED").into_response())
        }
        Err(e) => {
            match e.kind {
                ChannelErrorKind::BadSignature => {
                    tracing::warn!(account = row.id, tenant = %row.tenant_code, "webhook call with a bad signature refused");
                    metrics::counter!("loket_channel_bad_signatures_total", "channel" => row.kind.clone()).increment(1);
                    state.store.channel_seen(row.id, "bad_signature").await?;
                    return Err(AppError::BadSignature(e.message));
                }
                ChannelErrorKind::Auth => return Err(AppError::Forbidden(e.message)),
                ChannelErrorKind::Malformed => {
                    let _ = state
                        .store
                        .channel_error(row.id, &format!("onleesbare webhook: {}", e.message), false)
                        .await;
                }
                _ => {}
            }
            Err(AppError::BadRequest(e.message))
        }
    }
}

// ---------------------------------------------------------------- outbound

/// The reply for a conversation that came in on a channel account, or why none may be sent
/// now (a closed customer-service window without a template).
pub async fn reply_for(
    state: &AppState,
    conversation: &loket_store::ConversationRow,
    account_id: i64,
    text: &str,
    from_name: &str,
) -> AppResult<Reply> {
    let row = state.store.channel_account(account_id).await?;
    let kind = kind_of(&row).map_err(|e| AppError::Invalid(e.message))?;
    let last_in = last_inbound(state, conversation).await?;
    let template = match window(state, &row, kind, last_in) {
        Window::Open => None,
        Window::Template(t) => Some(t),
        Window::Closed(msg) => return Err(AppError::Invalid(msg)),
    };
    let context = state
        .store
        .latest_reply_context(conversation.id)
        .await?
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(serde_json::Value::Null);
    let thread_refs = state
        .store
        .thread_external_ids(conversation.id, kind.as_str())
        .await?
        .iter()
        .filter_map(|e| unscoped(account_id, e))
        .collect();
    Ok(Reply {
        conversation_id: conversation.id,
        message_id: 0,
        recipient: String::new(),
        text: text.to_string(),
        subject: conversation.subject.clone(),
        from_name: from_name.to_string(),
        context,
        thread_refs,
        idempotency_key: String::new(),
        template,
    })
}

async fn last_inbound(
    state: &AppState,
    conversation: &loket_store::ConversationRow,
) -> AppResult<i64> {
    Ok(state
        .store
        .last_inbound_message_at(conversation.id)
        .await?
        .unwrap_or(conversation.last_inbound_at))
}

enum Window {
    Open,
    Template(TemplateRef),
    Closed(String),
}

fn window(state: &AppState, row: &ChannelAccountRow, kind: ChannelKind, last_in: i64) -> Window {
    if loket_channels::meta::window_open(kind, last_in, loket_store::now_ms()) {
        return Window::Open;
    }
    let cfg = config_of(state, row);
    match (kind, cfg.get("template_name"), cfg.get("template_language")) {
        (ChannelKind::Whatsapp, Some(name), lang) => Window::Template(TemplateRef {
            name: name.to_string(),
            language: lang.unwrap_or("nl").to_string(),
        }),
        (ChannelKind::Whatsapp, None, _) => Window::Closed(
            "het 24-uursvenster van WhatsApp is verlopen en er is geen goedgekeurd sjabloon ingesteld: de inwoner moet eerst zelf weer een bericht sturen".into(),
        ),
        (k, _, _) => Window::Closed(format!(
            "het 24-uursvenster van {} is verlopen: Loket kan pas antwoorden als de inwoner weer een bericht stuurt",
            k.label()
        )),
    }
}

/// What the conversation page says about the platform's window, if anything.
pub async fn window_notice(
    state: &AppState,
    conversation: &loket_store::ConversationRow,
) -> Option<String> {
    let row = state
        .store
        .channel_account(conversation.channel_account_id?)
        .await
        .ok()?;
    let kind = kind_of(&row).ok()?;
    let last_in = last_inbound(state, conversation).await.ok()?;
    match window(state, &row, kind, last_in) {
        Window::Open => None,
        Window::Template(t) => Some(format!(
            "Het 24-uursvenster van WhatsApp is verlopen: uw tekst wordt niet verstuurd, de inwoner krijgt het goedgekeurde sjabloon ‘{}’.",
            t.name
        )),
        Window::Closed(m) => Some(format!("Let op: {m}.")),
    }
}

/// Delivers one reply through the account's adapter; records the platform id for status
/// callbacks. `Ok(true)` when the platform confirmed delivery to the resident.
pub async fn deliver(
    state: &AppState,
    account_id: i64,
    mut reply: Reply,
    recipient: &str,
    message_id: i64,
) -> Result<bool, DeliveryError> {
    let row = state
        .store
        .channel_account(account_id)
        .await
        .map_err(|_| DeliveryError::fatal("het kanaalaccount bestaat niet meer"))?;
    if !row.enabled {
        return Err(DeliveryError::retry(
            "het kanaalaccount staat uit; het antwoord wacht tot het weer aan staat",
        ));
    }
    let a = adapter_for(state, &row).map_err(|e| DeliveryError::fatal(e.message))?;
    reply.message_id = message_id;
    reply.recipient = recipient.to_string();
    reply.idempotency_key = format!("loket-{account_id}-{message_id}");
    match a.send(&reply).await {
        Ok(sent) => {
            if let Some(ext) = sent.external_id
                && let Err(e) = state
                    .store
                    .set_message_external_id(message_id, &scoped(account_id, &ext))
                    .await
            {
                tracing::warn!(error = %e, "recording the platform id failed");
            }
            let _ = state.store.channel_seen(account_id, "out").await;
            Ok(sent.delivered)
        }
        Err(e) => {
            let _ = state
                .store
                .channel_error(
                    account_id,
                    &format!("verzenden mislukt: {}", e.message),
                    false,
                )
                .await;
            Err(e)
        }
    }
}

/// Longest file fetched from a platform on an agent's request.
const MAX_FETCHED_BYTES: usize = 25 * 1024 * 1024;

/// Fetches an attachment the platform holds (a WhatsApp image) and keeps it, so the next
/// download is local.
pub async fn fetch_attachment(
    state: &AppState,
    account_id: i64,
    a: &loket_store::AttachmentRow,
) -> AppResult<Vec<u8>> {
    let reference = a.reference.as_deref().ok_or(AppError::NotFound)?;
    let row = state.store.channel_account(account_id).await?;
    let adapter = adapter_for(state, &row).map_err(|e| AppError::Invalid(e.message))?;
    let (content_type, data) = adapter.fetch_attachment(reference).await.map_err(|e| {
        AppError::Invalid(format!(
            "de bijlage kon niet worden opgehaald: {}",
            e.message
        ))
    })?;
    if data.len() > MAX_FETCHED_BYTES {
        return Err(AppError::TooLarge);
    }
    state
        .store
        .set_attachment_data(a.id, &content_type, &data)
        .await?;
    Ok(data)
}

/// "Test verbinding" for an account, in Dutch.
pub async fn test_connection(state: &AppState, row: &ChannelAccountRow) -> (bool, String) {
    let a = match adapter_for(state, row) {
        Ok(a) => a,
        Err(e) => return (false, format!("Niet getest: {}.", e.message)),
    };
    match a.test_connection().await {
        Ok(m) => {
            let _ = state.store.channel_ok(row.id).await;
            (true, m)
        }
        Err(e) => {
            let _ = state.store.channel_error(row.id, &e.message, true).await;
            (false, e.message)
        }
    }
}
