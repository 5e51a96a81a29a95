//! Meta channel adapter: WhatsApp Cloud API, Messenger and Instagram messaging, one type
//! ([`MetaAdapter`]) for all three.
//!
//! # Inbound (webhooks)
//! Meta pushes events to the account's webhook URL. [`Adapter::webhook`]:
//! - `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: the verification handshake;
//!   the token is compared in constant time, a wrong one is an `Auth` error (answer 403);
//! - `POST`: first `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` is
//!   checked in constant time (missing or wrong: `BadSignature`, answer 401), only then is the
//!   body parsed. Entries for another phone number id / page / Instagram account than the
//!   configured one are skipped. A body that is not the documented shape is `Malformed`
//!   (answer 400) with a Dutch message naming the field.
//!
//! Every inbound message has `external_id` = wamid / mid, `author_id` = wa_id / PSID / IGSID and
//! `reply_context` = `{"phone_number_id": …, "to": …}` (WhatsApp), `{"page_id": …, "to": …}`
//! (Messenger) or `{"ig_account_id": …, "to": …}` (Instagram).
//!
//! # Read and delivery watermarks
//! Messenger's `message_reads` (and `message_deliveries` without `mids`) name no message, only
//! a watermark: "everything sent to this person up to this time". Such an event is an
//! [`Event::Status`](crate::adapter::Event::Status) whose `external_id` is `watermark:<recipient>:<ms>` (see [`Watermark`],
//! which parses it). The server applies it by giving every outbound message of this channel
//! account to `<recipient>` (the resident's PSID, i.e. the conversation's `author_id`) that was
//! sent at or before `<ms>` the status (read / delivered), unless it already has a later one.
//! Instagram's `messaging_seen` names the mid and becomes an ordinary status.
//!
//! # Outbound
//! [`Adapter::send`] posts to `{base}/{version}/{id}/messages` with `Authorization: Bearer`.
//! Texts longer than the platform allows (WhatsApp 4096, Messenger < 2000 characters,
//! Instagram 1000 bytes) are split into parts at paragraph, line, sentence or word breaks and
//! sent in order; `Sent::external_id` is the id of the last part. When a later part fails after
//! earlier ones went out, the error is not retryable (a retry would send the first parts twice);
//! its message says how many parts were delivered.
//! Outside the 24-hour window WhatsApp only accepts a template: the server passes
//! [`Reply::template`] (see [`MetaAdapter::template`] for the configured one). Messenger and
//! Instagram have no templates, so a reply with a template is refused there.

mod graph;
mod json;
mod page;
mod split;
mod whatsapp;

pub use split::{Limit, split_text};

use crate::DeliveryError;
use crate::adapter::{
    AccountConfig, Adapter, ChannelError, ChannelKind, Field, Reply, Sent, TemplateRef,
    WebhookOutcome, WebhookRequest,
};
use async_trait::async_trait;
use graph::GraphError;
use serde_json::{Value, json};
use std::time::Duration;

/// Meta's Graph API host.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version used when none is configured.
pub const DEFAULT_API_VERSION: &str = "v21.0";
/// Language of the out-of-window template when none is configured.
pub const DEFAULT_TEMPLATE_LANGUAGE: &str = "nl";

/// WhatsApp text bodies: at most 4096 characters.
pub const WHATSAPP_TEXT_LIMIT: Limit = Limit::Chars(4096);
/// Messenger texts: "less than 2000 characters".
pub const MESSENGER_TEXT_LIMIT: Limit = Limit::Chars(1999);
/// Instagram texts: "UTF-8 and 1000 bytes or less".
pub const INSTAGRAM_TEXT_LIMIT: Limit = Limit::Bytes(1000);

const GRAPH_BASE_URL: Field = Field {
    key: "graph_base_url",
    label: "Graph API-adres",
    help: "Laat leeg voor https://graph.facebook.com. Alleen aanpassen voor een testomgeving.",
    secret: false,
    required: false,
};

const API_VERSION: Field = Field {
    key: "api_version",
    label: "Graph API-versie",
    help: "Bijvoorbeeld v21.0 (leeg: v21.0). De versie staat in Meta for Developers bij uw app \
           onder App-instellingen → Geavanceerd → Upgrade API-versie.",
    secret: false,
    required: false,
};

const APP_SECRET: Field = Field {
    key: "app_secret",
    label: "App-geheim",
    help: "Meta for Developers → uw app → App-instellingen → Basis → App-geheim (‘Weergeven’). \
           Hiermee controleert Loket dat webhookberichten echt van Meta komen.",
    secret: true,
    required: true,
};

const VERIFY_TOKEN: Field = Field {
    key: "verify_token",
    label: "Verificatietoken webhook",
    help: "Zelfgekozen geheime tekst. Vul dezelfde waarde in bij Meta for Developers → uw app → \
           Webhooks (WhatsApp: WhatsApp → Configuratie) naast de webhook-URL van dit kanaal.",
    secret: true,
    required: true,
};

/// Configuration of a WhatsApp Cloud API account, in form order.
pub const WHATSAPP_FIELDS: &[Field] = &[
    Field {
        key: "phone_number_id",
        label: "Telefoonnummer-ID",
        help: "Meta for Developers → uw app → WhatsApp → API-instellingen, of Meta Business \
               Manager → WhatsApp-beheer → Telefoonnummers: het lange getal bij \
               ‘Telefoonnummer-ID’ (niet het telefoonnummer zelf).",
        secret: false,
        required: true,
    },
    Field {
        key: "waba_id",
        label: "WhatsApp Business-account-ID",
        help: "Optioneel. Meta Business Manager → Bedrijfsinstellingen → Accounts → \
               WhatsApp-accounts: de ID van het account.",
        secret: false,
        required: false,
    },
    Field {
        key: "access_token",
        label: "Toegangstoken",
        help: "Permanent token van een systeemgebruiker: Meta Business Manager → \
               Bedrijfsinstellingen → Gebruikers → Systeemgebruikers → Nieuw token genereren, met \
               de rechten whatsapp_business_messaging en whatsapp_business_management.",
        secret: true,
        required: true,
    },
    APP_SECRET,
    VERIFY_TOKEN,
    Field {
        key: "template_name",
        label: "Sjabloon buiten 24-uursvenster",
        help: "Naam van een goedgekeurd berichtsjabloon zonder variabelen, verstuurd als de \
               inwoner langer dan 24 uur niets stuurde. Meta Business Manager → WhatsApp-beheer \
               → Berichtsjablonen.",
        secret: false,
        required: false,
    },
    Field {
        key: "template_language",
        label: "Taal van het sjabloon",
        help: "Taalcode zoals bij het sjabloon in WhatsApp-beheer, bijvoorbeeld nl of en_US \
               (leeg: nl).",
        secret: false,
        required: false,
    },
    GRAPH_BASE_URL,
    API_VERSION,
];

/// Configuration of a Messenger (Facebook page) or Instagram account, in form order.
pub const PAGE_FIELDS: &[Field] = &[
    Field {
        key: "page_id",
        label: "Pagina-ID",
        help: "Verplicht voor Messenger. Facebook-pagina → Over → Paginatransparantie, of Meta \
               Business Manager → Bedrijfsinstellingen → Accounts → Pagina's: de ID van de pagina.",
        secret: false,
        required: false,
    },
    Field {
        key: "ig_account_id",
        label: "Instagram-account-ID",
        help: "Verplicht voor Instagram. Meta Business Manager → Bedrijfsinstellingen → Accounts \
               → Instagram-accounts: de ID van het zakelijke account dat aan de pagina is \
               gekoppeld.",
        secret: false,
        required: false,
    },
    Field {
        key: "access_token",
        label: "Paginatoegangstoken",
        help: "Meta for Developers → uw app → Messenger (of Instagram) → Instellingen → \
               Toegangstokens: genereer een token voor de pagina. Liever een permanent token van \
               een systeemgebruiker (Bedrijfsinstellingen → Systeemgebruikers) met \
               pages_messaging of instagram_manage_messages.",
        secret: true,
        required: true,
    },
    APP_SECRET,
    VERIFY_TOKEN,
    GRAPH_BASE_URL,
    API_VERSION,
];

/// Whether the platform's customer-service window is still open: `now_ms` is less than the
/// window (24 hours) after the resident's last message. Channels without a window are always
/// open; a last message "in the future" (clock skew) counts as just received.
pub fn window_open(kind: ChannelKind, last_inbound_ms: i64, now_ms: i64) -> bool {
    match kind.reply_window() {
        None => true,
        Some(w) => {
            let window_ms = i64::try_from(w.as_millis()).unwrap_or(i64::MAX);
            now_ms.saturating_sub(last_inbound_ms) < window_ms
        }
    }
}

/// A read or delivery watermark from Messenger: every message sent to `recipient` up to and
/// including `up_to_ms` has the status. Carried in [`Event::Status`]'s `external_id` as
/// `watermark:<recipient>:<ms>`.
///
/// [`Event::Status`]: crate::adapter::Event::Status
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// The resident (PSID) who received the messages.
    pub recipient: String,
    pub up_to_ms: i64,
}

impl Watermark {
    pub const PREFIX: &'static str = "watermark:";

    pub fn to_external_id(&self) -> String {
        format!("{}{}:{}", Self::PREFIX, self.recipient, self.up_to_ms)
    }

    /// The watermark in a status's `external_id`, or `None` for an ordinary message id.
    pub fn parse(external_id: &str) -> Option<Self> {
        let rest = external_id.strip_prefix(Self::PREFIX)?;
        let (recipient, ms) = rest.rsplit_once(':')?;
        if recipient.is_empty() {
            return None;
        }
        Some(Self {
            recipient: recipient.to_string(),
            up_to_ms: ms.parse().ok()?,
        })
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// One WhatsApp number, Facebook page or Instagram account.
pub struct MetaAdapter {
    kind: ChannelKind,
    base: String,
    version: String,
    /// phone_number_id, page_id or ig_account_id.
    account_id: String,
    access_token: String,
    app_secret: String,
    verify_token: String,
    template: Option<TemplateRef>,
    http: reqwest::Client,
}

impl std::fmt::Debug for MetaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaAdapter")
            .field("kind", &self.kind)
            .field("base", &self.base)
            .field("version", &self.version)
            .field("account_id", &self.account_id)
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

fn valid_id(key: &str, v: &str) -> Result<String, ChannelError> {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        Ok(v.to_string())
    } else {
        Err(ChannelError::config(format!(
            "‘{key}’ mag alleen letters, cijfers, punten, streepjes en liggende streepjes bevatten"
        )))
    }
}

fn valid_base(v: &str) -> Result<String, ChannelError> {
    let url = reqwest::Url::parse(v).map_err(|_| {
        ChannelError::config(
            "‘graph_base_url’ is geen geldig adres (bijv. https://graph.facebook.com)",
        )
    })?;
    let loopback = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(ChannelError::config(
                "‘graph_base_url’ moet met https:// beginnen",
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ChannelError::config(
            "‘graph_base_url’ mag geen ? of # bevatten",
        ));
    }
    Ok(v.trim_end_matches('/').to_string())
}

fn valid_version(v: &str) -> Result<String, ChannelError> {
    let ok = v.strip_prefix('v').is_some_and(|rest| {
        let mut it = rest.split('.');
        let major = it.next().unwrap_or("");
        let minor = it.next().unwrap_or("");
        it.next().is_none()
            && !major.is_empty()
            && !minor.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.chars().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(v.to_string())
    } else {
        Err(ChannelError::config(
            "‘api_version’ moet de vorm v21.0 hebben",
        ))
    }
}

/// Constant-time comparison of two secrets (the length may leak, the content not).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl MetaAdapter {
    pub fn new(kind: ChannelKind, config: &AccountConfig) -> Result<Self, ChannelError> {
        let account_key = match kind {
            ChannelKind::Whatsapp => "phone_number_id",
            ChannelKind::Messenger => "page_id",
            ChannelKind::Instagram => "ig_account_id",
            other => {
                return Err(ChannelError::config(format!(
                    "{} is geen Meta-kanaal",
                    other.label()
                )));
            }
        };
        let account_id = valid_id(account_key, config.require(account_key)?)?;
        let base = valid_base(
            config
                .get("graph_base_url")
                .unwrap_or(DEFAULT_GRAPH_BASE_URL),
        )?;
        let version = valid_version(config.get("api_version").unwrap_or(DEFAULT_API_VERSION))?;
        let template = match (kind, config.get("template_name")) {
            (ChannelKind::Whatsapp, Some(name)) => Some(TemplateRef {
                name: name.to_string(),
                language: config
                    .get("template_language")
                    .unwrap_or(DEFAULT_TEMPLATE_LANGUAGE)
                    .to_string(),
            }),
            _ => None,
        };
        let http = crate::http::client_builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|_| ChannelError::config("HTTP-client kon niet worden gemaakt"))?;
        Ok(Self {
            kind,
            base,
            version,
            account_id,
            access_token: config.require("access_token")?.to_string(),
            app_secret: config.require("app_secret")?.to_string(),
            verify_token: config.require("verify_token")?.to_string(),
            template,
            http,
        })
    }

    /// The configured phone number id, page id or Instagram account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The approved template to send outside the 24-hour window (WhatsApp only, when
    /// configured); the server puts it in [`Reply::template`].
    pub fn template(&self) -> Option<TemplateRef> {
        self.template.clone()
    }

    fn text_limit(&self) -> Limit {
        match self.kind {
            ChannelKind::Whatsapp => WHATSAPP_TEXT_LIMIT,
            ChannelKind::Instagram => INSTAGRAM_TEXT_LIMIT,
            _ => MESSENGER_TEXT_LIMIT,
        }
    }

    fn expected_object(&self) -> &'static str {
        match self.kind {
            ChannelKind::Whatsapp => "whatsapp_business_account",
            ChannelKind::Instagram => "instagram",
            _ => "page",
        }
    }

    fn handshake(&self, req: &WebhookRequest) -> Result<WebhookOutcome, ChannelError> {
        if req.query_param("hub.mode") != Some("subscribe") {
            return Err(ChannelError::malformed(
                "verificatieverzoek zonder hub.mode=subscribe",
            ));
        }
        match req.query_param("hub.verify_token") {
            Some(t) if same_secret(t, &self.verify_token) => {}
            _ => {
                return Err(ChannelError::auth(
                    "het verificatietoken van de webhook klopt niet",
                ));
            }
        }
        let challenge = req
            .query_param("hub.challenge")
            .ok_or_else(|| ChannelError::malformed("verificatieverzoek zonder hub.challenge"))?;
        Ok(WebhookOutcome::Challenge(challenge.to_string()))
    }

    fn check_signature(&self, req: &WebhookRequest) -> Result<(), ChannelError> {
        let header = req.header("x-hub-signature-256").ok_or_else(|| {
            ChannelError::bad_signature("handtekening (X-Hub-Signature-256) ontbreekt")
        })?;
        if crate::webhook::verify(self.app_secret.as_bytes(), &req.body, header.trim()) {
            Ok(())
        } else {
            Err(ChannelError::bad_signature(
                "handtekening (X-Hub-Signature-256) klopt niet: ander app-geheim of gewijzigde body",
            ))
        }
    }

    /// Parses a signed webhook body into events.
    fn parse_events(&self, body: &[u8]) -> Result<Vec<crate::adapter::Event>, ChannelError> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            ChannelError::malformed(format!(
                "webhookbericht van Meta is geen geldige JSON (regel {}, kolom {})",
                e.line(),
                e.column()
            ))
        })?;
        let root = json::Node::root(&v);
        let object = root.req_str("object")?;
        if object != self.expected_object() {
            return Err(ChannelError::malformed(format!(
                "webhookbericht met object ‘{object}’ hoort niet bij dit {}-kanaal (verwacht \
                 ‘{}’): controleer de webhook-URL bij Meta",
                self.kind.label(),
                self.expected_object()
            )));
        }
        match self.kind {
            ChannelKind::Whatsapp => whatsapp::parse(&root, &self.account_id),
            kind => page::parse(&root, kind, &self.account_id),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}{path}", self.base, self.version, self.account_id)
    }

    /// The JSON bodies to POST for a reply, in order.
    fn bodies(&self, reply: &Reply) -> Result<Vec<Value>, DeliveryError> {
        let to = if reply.recipient.trim().is_empty() {
            reply
                .context
                .get("to")
                .and_then(Value::as_str)
                .unwrap_or("")
        } else {
            reply.recipient.trim()
        };
        if to.is_empty() {
            return Err(DeliveryError::fatal(
                "het antwoord heeft geen ontvanger (telefoonnummer of account van de inwoner)",
            ));
        }
        if let Some(t) = &reply.template {
            if self.kind != ChannelKind::Whatsapp {
                return Err(DeliveryError::fatal(graph::WINDOW_PAGE));
            }
            return Ok(vec![json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "template",
                "template": { "name": t.name, "language": { "code": t.language } },
            })]);
        }
        let parts = split_text(&reply.text, self.text_limit());
        if parts.is_empty() {
            return Err(DeliveryError::fatal("het antwoord is leeg"));
        }
        Ok(parts
            .into_iter()
            .map(|text| match self.kind {
                ChannelKind::Whatsapp => json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "text",
                    "text": { "body": text, "preview_url": false },
                }),
                _ => json!({
                    "recipient": { "id": to },
                    "messaging_type": "RESPONSE",
                    "message": { "text": text },
                }),
            })
            .collect())
    }

    async fn post_message(&self, body: &Value) -> Result<Option<String>, DeliveryError> {
        let request = self
            .http
            .post(self.url("/messages"))
            .bearer_auth(&self.access_token)
            .json(body);
        let (status, bytes) = graph::exchange(request)
            .await
            .map_err(DeliveryError::retry)?;
        if (200..300).contains(&status) {
            let id = graph::sent_id(self.kind, &bytes);
            if id.is_none() {
                tracing::warn!(
                    channel = self.kind.as_str(),
                    "Meta accepteerde het bericht maar gaf geen bericht-ID terug"
                );
            }
            Ok(id)
        } else {
            let err = GraphError::parse(status, &bytes);
            tracing::info!(
                channel = self.kind.as_str(),
                status,
                code = err.code,
                subcode = err.subcode,
                "Meta weigerde een bericht"
            );
            Err(graph::delivery_error(self.kind, &err))
        }
    }
}

#[async_trait]
impl Adapter for MetaAdapter {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn test_connection(&self) -> Result<String, ChannelError> {
        let fields = match self.kind {
            ChannelKind::Whatsapp => "display_phone_number,verified_name",
            ChannelKind::Instagram => "name,username",
            _ => "name",
        };
        let request = self
            .http
            .get(self.url(""))
            .query(&[("fields", fields)])
            .bearer_auth(&self.access_token);
        let (status, bytes) = graph::exchange(request)
            .await
            .map_err(ChannelError::unreachable)?;
        if !(200..300).contains(&status) {
            return Err(graph::channel_error(
                &GraphError::parse(status, &bytes),
                &self.account_id,
            ));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
            ChannelError::unreachable("Meta gaf een onleesbaar antwoord op de verbindingstest")
        })?;
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        Ok(match self.kind {
            ChannelKind::Whatsapp => {
                let number = s("display_phone_number").unwrap_or(&self.account_id);
                match s("verified_name") {
                    Some(name) => format!("verbonden met WhatsApp-nummer {number} ({name})"),
                    None => format!("verbonden met WhatsApp-nummer {number}"),
                }
            }
            ChannelKind::Instagram => match (s("username"), s("name")) {
                (Some(u), _) => format!("verbonden met Instagram-account @{u}"),
                (None, Some(n)) => format!("verbonden met Instagram-account {n}"),
                (None, None) => format!("verbonden met Instagram-account {}", self.account_id),
            },
            _ => format!(
                "verbonden met Facebook-pagina {}",
                s("name").unwrap_or(&self.account_id)
            ),
        })
    }

    async fn send(&self, reply: &Reply) -> Result<Sent, DeliveryError> {
        let bodies = self.bodies(reply)?;
        let total = bodies.len();
        let mut last = None;
        for (i, body) in bodies.iter().enumerate() {
            match self.post_message(body).await {
                Ok(id) => last = id,
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    return Err(DeliveryError::fatal(format!(
                        "Het antwoord is in {total} delen verstuurd; deel 1 t/m {i} is \
                         afgeleverd, deel {} mislukte: {} Verstuur de rest met de hand om \
                         dubbele berichten te voorkomen.",
                        i + 1,
                        e.message
                    )));
                }
            }
        }
        Ok(Sent {
            external_id: last,
            delivered: false,
        })
    }

    /// WhatsApp: the media id's metadata names a short-lived URL that needs the token.
    /// Messenger and Instagram: the reference is already the file's (public CDN) URL, fetched
    /// without the token.
    async fn fetch_attachment(&self, reference: &str) -> Result<(String, Vec<u8>), ChannelError> {
        let (url, with_token) = if self.kind == ChannelKind::Whatsapp {
            let id = valid_id("media-id", reference)
                .ok()
                .filter(|id| !id.is_empty())
                .ok_or_else(|| ChannelError::malformed("ongeldig media-id van WhatsApp"))?;
            let meta = self
                .http
                .get(format!("{}/{}/{id}", self.base, self.version))
                .bearer_auth(&self.access_token)
                .send()
                .await
                .map_err(|e| ChannelError::unreachable(graph::transport_error(&e)))?;
            let status = meta.status().as_u16();
            let bytes = meta
                .bytes()
                .await
                .map_err(|e| ChannelError::unreachable(graph::transport_error(&e)))?;
            if !(200..300).contains(&status) {
                return Err(graph::channel_error(
                    &GraphError::parse(status, &bytes),
                    &self.account_id,
                ));
            }
            let v: Value = serde_json::from_slice(&bytes)
                .map_err(|_| ChannelError::malformed("Meta gaf onleesbare media-gegevens"))?;
            let url = v
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ChannelError::malformed("Meta gaf geen download-URL"))?;
            (url.to_string(), true)
        } else {
            (reference.to_string(), false)
        };
        if !(url.starts_with("https://") || valid_base(&url).is_ok()) {
            return Err(ChannelError::malformed("de bijlage heeft geen veilige URL"));
        }
        let mut req = self.http.get(&url);
        if with_token {
            req = req.bearer_auth(&self.access_token);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ChannelError::unreachable(graph::transport_error(&e)))?;
        if !resp.status().is_success() {
            return Err(ChannelError::unreachable(format!(
                "de bijlage is niet meer beschikbaar bij Meta (HTTP {})",
                resp.status().as_u16()
            )));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let data = resp
            .bytes()
            .await
            .map_err(|e| ChannelError::unreachable(graph::transport_error(&e)))?;
        Ok((content_type, data.to_vec()))
    }

    fn webhook(&self, req: &WebhookRequest) -> Result<WebhookOutcome, ChannelError> {
        match req.method.to_ascii_uppercase().as_str() {
            "GET" => self.handshake(req),
            "POST" => {
                // Authenticate the exact bytes before reading anything from them.
                self.check_signature(req)?;
                Ok(WebhookOutcome::Events(self.parse_events(&req.body)?))
            }
            other => Err(ChannelError::unsupported(format!(
                "Meta-webhooks gebruiken GET of POST, niet {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    #[test]
    fn window_edges() {
        let last = 1_700_000_000_000;
        for kind in [
            ChannelKind::Whatsapp,
            ChannelKind::Messenger,
            ChannelKind::Instagram,
        ] {
            assert!(window_open(kind, last, last));
            assert!(window_open(kind, last, last + 24 * H - 1));
            assert!(!window_open(kind, last, last + 24 * H));
            assert!(!window_open(kind, last, last + 24 * H + 1));
            assert!(window_open(kind, last, last - 5_000), "clock skew");
        }
        assert!(window_open(ChannelKind::Email, last, last + 1000 * H));
        assert!(window_open(ChannelKind::Mastodon, 0, i64::MAX));
        assert!(!window_open(ChannelKind::Whatsapp, i64::MIN, i64::MAX));
    }

    #[test]
    fn watermark_roundtrip() {
        let w = Watermark {
            recipient: "1254459154682919".into(),
            up_to_ms: 1_458_668_856_253,
        };
        let id = w.to_external_id();
        assert_eq!(id, "watermark:1254459154682919:1458668856253");
        assert_eq!(Watermark::parse(&id), Some(w));
        assert_eq!(Watermark::parse("wamid.HBgL"), None);
        assert_eq!(Watermark::parse("watermark::12"), None);
        assert_eq!(Watermark::parse("watermark:x:y"), None);
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn config_validation() {
        assert!(valid_base("https://graph.facebook.com/").is_ok());
        assert_eq!(
            valid_base("https://graph.facebook.com/").unwrap(),
            "https://graph.facebook.com"
        );
        assert!(valid_base("http://127.0.0.1:8080").is_ok());
        assert!(valid_base("http://graph.facebook.com").is_err());
        assert!(valid_base("https://x?y=1").is_err());
        assert!(valid_version("v21.0").is_ok());
        assert!(valid_version("21.0").is_err());
        assert!(valid_version("v21").is_err());
        assert!(valid_id("page_id", "1234").is_ok());
        assert!(valid_id("page_id", "12/../34").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = AccountConfig::default();
        c.settings
            .insert("phone_number_id".into(), "106540352242922".into());
        c.secrets
            .insert("access_token".into(), "EAAJB-geheim".into());
        c.secrets.insert("app_secret".into(), "app-geheim".into());
        c.secrets
            .insert("verify_token".into(), "verify-geheim".into());
        let a = MetaAdapter::new(ChannelKind::Whatsapp, &c).unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("geheim"), "{shown}");
    }
}
