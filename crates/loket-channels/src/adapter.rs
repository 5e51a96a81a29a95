//! The one adapter trait every resident channel implements (e-mail, Mastodon, WhatsApp,
//! Messenger, Instagram), and the types that cross it.
//!
//! The server never speaks a platform's protocol itself. For each configured channel account it
//! builds an adapter with [`build`] and then:
//! - pull channels (e-mail, Mastodon): calls [`Adapter::backfill`] on start and after every gap,
//!   and [`Adapter::listen`] in between; a batch's `cursor` is stored only after its events are
//!   durably ingested, so a restart re-reads from the last stored cursor (no loss) and the
//!   platform's message id de-duplicates what is read twice (no duplicates);
//! - push channels (Meta webhooks): hands each HTTP request to [`Adapter::webhook`];
//! - replies: [`Adapter::send`] from the outbox worker, which retries on a retryable error.

use crate::DeliveryError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// The resident channels Loket connects to. The string form is the `channel` of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Mastodon,
    Whatsapp,
    Messenger,
    Instagram,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Email,
        ChannelKind::Mastodon,
        ChannelKind::Whatsapp,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Mastodon => "mastodon",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Name shown to agents and admins (the same in Dutch and English).
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Email => "E-mail",
            ChannelKind::Mastodon => "Mastodon",
            ChannelKind::Whatsapp => "WhatsApp",
            ChannelKind::Messenger => "Messenger",
            ChannelKind::Instagram => "Instagram",
        }
    }

    /// Meta channels are pushed to us by webhook; the others are pulled.
    pub fn is_push(self) -> bool {
        matches!(
            self,
            ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram
        )
    }

    /// The platform's customer-service window: outside it after the resident's last message,
    /// only an approved template may be sent (WhatsApp) or nothing at all (Messenger, Instagram).
    pub fn reply_window(self) -> Option<Duration> {
        match self {
            ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram => {
                Some(Duration::from_secs(24 * 3600))
            }
            _ => None,
        }
    }
}

/// One field of a channel account's configuration, as the admin form shows it.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    /// Short Dutch help text under the field.
    pub help: &'static str,
    /// Secrets are sealed at rest, write-only in the UI and never logged.
    pub secret: bool,
    pub required: bool,
}

/// A channel account's configuration: plain settings plus opened secrets, both by field key.
#[derive(Clone, Default)]
pub struct AccountConfig {
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AccountConfig {
    /// A setting or secret by key; empty strings count as missing.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .or_else(|| self.secrets.get(key))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// Like [`get`](Self::get), with a Dutch error naming the missing field.
    pub fn require(&self, key: &str) -> Result<&str, ChannelError> {
        self.get(key)
            .ok_or_else(|| ChannelError::config(format!("‘{key}’ is niet ingevuld")))
    }
}

/// Why a channel operation failed. Messages are Dutch (they reach the admin's health view) and
/// never contain secrets or URLs with tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    pub kind: ChannelErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelErrorKind {
    /// The account's configuration is incomplete or invalid.
    Config,
    /// The platform refused our credentials.
    Auth,
    /// The platform could not be reached or answered with a server error: try again later.
    Unreachable,
    /// A webhook call's signature did not match (answer 401, count it, log it).
    BadSignature,
    /// A webhook call's payload could not be read (answer 400).
    Malformed,
    /// This adapter does not do that (e.g. webhooks on a pull channel).
    Unsupported,
}

impl ChannelError {
    pub fn new(kind: ChannelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn config(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::Config, m)
    }
    pub fn auth(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::Auth, m)
    }
    pub fn unreachable(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::Unreachable, m)
    }
    pub fn bad_signature(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::BadSignature, m)
    }
    pub fn malformed(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::Malformed, m)
    }
    pub fn unsupported(m: impl Into<String>) -> Self {
        Self::new(ChannelErrorKind::Unsupported, m)
    }
}

/// A file that came with a message (e-mail attachment, WhatsApp image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// The bytes when the adapter has them (e-mail); `None` when only a reference is known.
    #[serde(skip)]
    pub data: Option<Vec<u8>>,
    /// The platform's reference (Meta media id, Mastodon media URL), when there are no bytes.
    pub reference: Option<String>,
}

/// What kind of message arrived: only `Normal` is shown to agents as the resident's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Normal,
    /// An automatic answer (out-of-office, `Auto-Submitted`, list mail): never answered, never
    /// opens a conversation, to avoid reply loops.
    Automatic,
    /// A delivery failure report about messages we sent (their platform ids).
    Bounce { about: Vec<String> },
}

/// A message from a resident, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The platform's id of this message: the de-duplication key.
    pub external_id: String,
    /// The resident's identity on the platform (address, account id, phone number id).
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub sent_at_ms: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub attachments: Vec<Attachment>,
    pub kind: MessageKind,
    /// Platform ids of earlier messages this one answers (e-mail In-Reply-To/References,
    /// Mastodon `in_reply_to_id`): used to find the conversation it belongs to.
    pub thread_refs: Vec<String>,
    /// A conversation id the adapter recognised (e-mail subject token `[Loket #123]`).
    pub conversation_hint: Option<i64>,
    /// False for what belongs in monitoring, not the inbox (a public Mastodon mention that is
    /// not addressed to the municipality).
    pub for_inbox: bool,
    /// Adapter-defined data the reply to this message needs (subject and Message-ID, status id
    /// and visibility, phone number id); handed back in [`Reply::context`].
    pub reply_context: serde_json::Value,
}

/// Loket's delivery states, as platform status callbacks map onto them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    /// The Dutch delivery state stored on the message and shown next to it.
    pub fn as_state(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "verzonden",
            DeliveryStatus::Delivered => "afgeleverd",
            DeliveryStatus::Read => "gelezen",
            DeliveryStatus::Failed => "mislukt",
        }
    }
}

/// Something that happened on a channel.
// Messages are by far the common case; boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Message(InboundMessage),
    /// A status update about a message we sent, by the platform id [`Sent::external_id`].
    Status {
        external_id: String,
        status: DeliveryStatus,
        at_ms: i64,
        error: Option<String>,
    },
}

/// Events read from a pull channel plus the cursor to store once they are safely ingested.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub events: Vec<Event>,
    /// Adapter-defined position (IMAP UID, Mastodon since_ids); `None` leaves it unchanged.
    pub cursor: Option<String>,
}

/// A reply leaving Loket on a resident channel, always in the municipality's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub conversation_id: i64,
    pub message_id: i64,
    /// The resident's identity on the channel (the `author_id` of their messages).
    pub recipient: String,
    pub text: String,
    /// The conversation's subject (e-mail subject line).
    pub subject: String,
    /// The municipality's display name ("Gemeente Utrecht").
    pub from_name: String,
    /// [`InboundMessage::reply_context`] of the resident's latest message.
    pub context: serde_json::Value,
    /// Platform ids of earlier messages in the conversation, oldest first (e-mail References).
    pub thread_refs: Vec<String>,
    /// Sent as a platform idempotency key where the platform has one (Mastodon).
    pub idempotency_key: String,
    /// Outside the customer-service window: the approved template to send instead of free text.
    pub template: Option<TemplateRef>,
}

/// An approved WhatsApp message template.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
}

/// What the platform said about a reply it accepted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sent {
    /// The platform's id for the sent message, matched by later status callbacks.
    pub external_id: Option<String>,
    /// True when the platform confirmed delivery to the resident (not just acceptance).
    pub delivered: bool,
}

/// An HTTP call to a channel's webhook URL, as the server received it.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    pub method: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WebhookRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How to answer a webhook call.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    /// The verification handshake: answer 200 with this body (`hub.challenge`).
    Challenge(String),
    /// Events to ingest; answer 200 once they are durable.
    Events(Vec<Event>),
}

/// One configured channel account of one tenant.
#[async_trait]
pub trait Adapter: Send + Sync {
    fn kind(&self) -> ChannelKind;

    /// Checks the credentials and that the platform answers; on success a short Dutch
    /// description of what we are connected as ("verbonden als @utrecht@social.overheid.nl").
    async fn test_connection(&self) -> Result<String, ChannelError>;

    /// Delivers a reply. A retryable error is retried by the outbox with backoff.
    async fn send(&self, reply: &Reply) -> Result<Sent, DeliveryError>;

    /// Pull channels: everything after `cursor` (`None`: start from now, without history).
    async fn backfill(&self, _cursor: Option<&str>) -> Result<Batch, ChannelError> {
        Ok(Batch::default())
    }

    /// Pull channels: waits for new activity (IMAP IDLE, Mastodon streaming) and sends each
    /// batch on `tx`, until the connection drops (an error) or `tx` is closed (Ok). The caller
    /// backfills from its stored cursor after every return, so nothing missed in a gap is lost.
    async fn listen(
        &self,
        _cursor: Option<String>,
        tx: mpsc::Sender<Batch>,
    ) -> Result<(), ChannelError> {
        tx.closed().await;
        Ok(())
    }

    /// Downloads a file the platform only gave a reference for ([`Attachment::reference`], e.g.
    /// a WhatsApp media id): (content type, bytes).
    async fn fetch_attachment(&self, _reference: &str) -> Result<(String, Vec<u8>), ChannelError> {
        Err(ChannelError::unsupported(
            "dit kanaal kan geen bijlagen ophalen",
        ))
    }

    /// Push channels: a call to this account's webhook URL (verification or events).
    fn webhook(&self, _req: &WebhookRequest) -> Result<WebhookOutcome, ChannelError> {
        Err(ChannelError::unsupported(
            "dit kanaal ontvangt geen webhooks",
        ))
    }
}

/// The configuration fields of a channel, in form order.
pub fn fields(kind: ChannelKind) -> &'static [Field] {
    match kind {
        ChannelKind::Email => crate::email::FIELDS,
        ChannelKind::Mastodon => crate::mastodon::FIELDS,
        ChannelKind::Whatsapp => crate::meta::WHATSAPP_FIELDS,
        ChannelKind::Messenger | ChannelKind::Instagram => crate::meta::PAGE_FIELDS,
    }
}

/// Builds the adapter for a configured account; fails with a Dutch message on bad settings.
pub fn build(kind: ChannelKind, config: &AccountConfig) -> Result<Box<dyn Adapter>, ChannelError> {
    match kind {
        ChannelKind::Email => Ok(Box::new(crate::email::EmailAdapter::new(config)?)),
        ChannelKind::Mastodon => Ok(Box::new(crate::mastodon::MastodonAdapter::new(config)?)),
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram => {
            Ok(Box::new(crate::meta::MetaAdapter::new(kind, config)?))
        }
    }
}
