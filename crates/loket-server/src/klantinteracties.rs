//! Klantinteracties (Open Klant, VNG): a resolved conversation is recorded at the tenant's
//! Klantinteracties API as a klantcontact with its betrokkene, an onderwerpobject pointing at
//! the Loket conversation and, when the agent handed a follow-up to the back office, an
//! internetaak.
//!
//! Delivery goes through the outbox: one item per resolution, attached to a note in the
//! conversation whose delivery state the agent sees (and can retry). Each call's uuid is stored
//! as soon as it succeeded, so a retry after a partial failure continues with the next call and
//! never creates a second klantcontact.
//!
//! The token is sealed with [`crate::secrets::SecretBox`]; it is only opened to set the
//! `Authorization: Token …` header and never shown, returned or logged.

use crate::auth::CurrentUser;
use crate::error::{ApiJson, AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use loket_channels::DeliveryError;
use loket_store::klantinteracties::{KiQueue, KiSettingsRow, KiSettingsUpdate, KiStep};
use loket_store::{ConversationRow, OutboxRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// The outbox channel of registrations.
pub const CHANNEL: &str = "klantinteracties";

/// `sealed` is bound to the tenant, so a token copied to another tenant's row does not open.
fn aad(tenant: &str) -> String {
    format!("klantinteracties:{tenant}")
}

// ---------------------------------------------------------------- settings

/// The settings as pages and the API show them: the token only as set or not set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KiSettingsView {
    pub enabled: bool,
    pub base_url: String,
    /// Whether a token is stored; the token itself is never returned.
    pub token_set: bool,
    /// `ingesteld` or `niet ingesteld`.
    pub token: &'static str,
    pub redact_pii: bool,
    pub actor_uuid: Option<String>,
}

impl KiSettingsView {
    fn of(row: Option<KiSettingsRow>) -> Self {
        let row = row.unwrap_or(KiSettingsRow {
            tenant_code: String::new(),
            enabled: false,
            base_url: String::new(),
            token_enc: None,
            redact_pii: true,
            actor_uuid: None,
        });
        let token_set = row.token_enc.is_some();
        Self {
            enabled: row.enabled,
            base_url: row.base_url,
            token_set,
            token: if token_set {
                "ingesteld"
            } else {
                "niet ingesteld"
            },
            redact_pii: row.redact_pii,
            actor_uuid: row.actor_uuid,
        }
    }
}

/// A settings change. `token` is write-only: leave it out (or empty) to keep the stored one.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct KiSettingsBody {
    pub enabled: bool,
    pub base_url: String,
    pub token: Option<String>,
    pub clear_token: bool,
    pub redact_pii: bool,
    pub actor_uuid: Option<String>,
}

// A hand-written Debug: the token must not end up in a log line through `{:?}`.
impl std::fmt::Debug for KiSettingsBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KiSettingsBody")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("redact_pii", &self.redact_pii)
            .finish()
    }
}

pub async fn settings_view(state: &AppState, tenant: &str) -> AppResult<KiSettingsView> {
    Ok(KiSettingsView::of(state.store.ki_settings(tenant).await?))
}

/// Validates and stores a settings change (pages and API alike).
pub async fn save_settings(state: &AppState, tenant: &str, b: KiSettingsBody) -> AppResult<()> {
    let base_url = b.base_url.trim().trim_end_matches('/').to_string();
    if !base_url.is_empty() {
        let u = url::Url::parse(&base_url)
            .map_err(|_| AppError::Invalid("de basis-URL is geen geldige URL".into()))?;
        if !matches!(u.scheme(), "http" | "https") || base_url.len() > 500 {
            return Err(AppError::Invalid(
                "de basis-URL moet met http:// of https:// beginnen".into(),
            ));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(AppError::Invalid(
                "zet geen inloggegevens in de basis-URL; gebruik het tokenveld".into(),
            ));
        }
    }
    if b.enabled && base_url.is_empty() {
        return Err(AppError::Invalid(
            "vul een basis-URL in om Klantinteracties aan te zetten".into(),
        ));
    }
    let actor_uuid = match b.actor_uuid.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(
            uuid::Uuid::parse_str(a)
                .map_err(|_| AppError::Invalid("de actor-UUID is geen geldige UUID".into()))?
                .to_string(),
        ),
    };
    let token = b.token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = token
        && (t.len() > 500 || t.chars().any(|c| c.is_control() || c == ' '))
    {
        return Err(AppError::Invalid(
            "het token mag geen spaties of stuurtekens bevatten".into(),
        ));
    }
    let token_enc = token.map(|t| state.sealer.seal(t, &aad(tenant)));
    state
        .store
        .save_ki_settings(
            tenant,
            &KiSettingsUpdate {
                enabled: b.enabled,
                base_url,
                token_enc,
                clear_token: b.clear_token,
                redact_pii: b.redact_pii,
                actor_uuid,
            },
        )
        .await?;
    Ok(())
}

/// The endpoint and opened token of an enabled tenant.
struct Conn {
    base_url: String,
    token: String,
    redact_pii: bool,
    actor_uuid: Option<String>,
}

async fn connection(state: &AppState, tenant: &str) -> Result<Conn, DeliveryError> {
    let s = state
        .store
        .ki_settings(tenant)
        .await
        .map_err(|e| DeliveryError::retry(format!("database: {e}")))?
        .ok_or_else(|| DeliveryError::fatal("Klantinteracties is niet ingesteld"))?;
    if s.base_url.is_empty() {
        return Err(DeliveryError::fatal("geen basis-URL ingesteld"));
    }
    let token = s
        .token_enc
        .as_deref()
        .and_then(|t| state.sealer.open(t, &aad(tenant)))
        .ok_or_else(|| {
            DeliveryError::fatal("geen (leesbaar) token ingesteld: vul het token opnieuw in")
        })?;
    Ok(Conn {
        base_url: s.base_url,
        token,
        redact_pii: s.redact_pii,
        actor_uuid: s.actor_uuid,
    })
}

/// The outcome of "test verbinding", in Dutch.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
}

/// GETs `/klantcontacten?pageSize=1` with the token.
pub async fn test_connection(state: &AppState, tenant: &str) -> TestResult {
    let conn = match connection(state, tenant).await {
        Ok(c) => c,
        Err(e) => {
            return TestResult {
                ok: false,
                message: format!("Niet getest: {}.", e.message),
            };
        }
    };
    let r = state
        .http
        .get(format!("{}/klantcontacten?pageSize=1", conn.base_url))
        .header("Authorization", format!("Token {}", conn.token))
        .header("Accept", "application/json")
        .send()
        .await;
    let (ok, message) = match r {
        Ok(resp) => {
            let s = resp.status();
            match s.as_u16() {
                200..=299 => (true, format!("Verbinding gelukt (HTTP {}).", s.as_u16())),
                401 | 403 => (
                    false,
                    format!(
                        "De API weigert het token (HTTP {}). Controleer het token.",
                        s.as_u16()
                    ),
                ),
                404 => (
                    false,
                    "De API is bereikbaar, maar /klantcontacten bestaat niet (HTTP 404). Controleer de basis-URL.".into(),
                ),
                c => (false, format!("Onverwacht antwoord van de API: HTTP {c}.")),
            }
        }
        Err(e) if e.is_timeout() => (false, "Geen antwoord binnen de tijd.".into()),
        Err(_) => (
            false,
            "De API is niet bereikbaar. Controleer de basis-URL.".into(),
        ),
    };
    TestResult { ok, message }
}

// ---------------------------------------------------------------- queueing

/// The registration to queue when a conversation of `tenant` gets resolved, or `None` when the
/// tenant has Klantinteracties switched off. The store queues it in the transaction that
/// resolves the conversation.
pub async fn queue_for(
    state: &AppState,
    tenant: &str,
    follow_up: Option<&str>,
) -> AppResult<Option<KiQueue>> {
    let enabled = matches!(state.store.ki_settings(tenant).await?, Some(s) if s.enabled);
    if !enabled {
        return Ok(None);
    }
    let follow_up = follow_up
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| f.chars().take(1000).collect::<String>());
    let note = match &follow_up {
        Some(f) => format!("Vastleggen in Klantinteracties, doorgezet naar backoffice: {f}"),
        None => "Vastleggen in Klantinteracties".to_string(),
    };
    Ok(Some(KiQueue {
        tenant: tenant.to_string(),
        note,
        follow_up,
        payload: json!({"target": {"kind": CHANNEL}}).to_string(),
    }))
}

// ---------------------------------------------------------------- delivery

/// Runs (or continues) one registration. `Ok` when every call is done.
pub async fn deliver(state: &AppState, item: &OutboxRow) -> Result<(), DeliveryError> {
    let rec = state
        .store
        .ki_record(item.message_id)
        .await
        .map_err(|e| DeliveryError::fatal(format!("registratie ontbreekt: {e}")))?;
    let conn = connection(state, &rec.tenant_code).await?;
    let c = state
        .store
        .conversation_system(rec.conversation_id)
        .await
        .map_err(|e| DeliveryError::retry(format!("database: {e}")))?;
    let messages = state
        .store
        .messages(c.id)
        .await
        .map_err(|e| DeliveryError::retry(format!("database: {e}")))?;
    let store_err = |e: loket_store::StoreError| DeliveryError::retry(format!("database: {e}"));

    let kc = match rec.klantcontact_uuid.clone() {
        Some(u) => u,
        None => {
            let body = klantcontact_body(&c, &messages, conn.redact_pii);
            let u = post_resource(state, &conn, "klantcontacten", &body).await?;
            state
                .store
                .ki_step_done(rec.id, KiStep::Klantcontact, &u, "betrokkene")
                .await
                .map_err(store_err)?;
            u
        }
    };
    if rec.betrokkene_uuid.is_none() {
        let u = post_resource(state, &conn, "betrokkenen", &betrokkene_body(&kc)).await?;
        state
            .store
            .ki_step_done(rec.id, KiStep::Betrokkene, &u, "onderwerpobject")
            .await
            .map_err(store_err)?;
    }
    if rec.onderwerpobject_uuid.is_none() {
        let body = onderwerpobject_body(&kc, &c, &state.config.base_url);
        let u = post_resource(state, &conn, "onderwerpobjecten", &body).await?;
        let next = if rec.follow_up.is_some() {
            "internetaak"
        } else {
            "klaar"
        };
        state
            .store
            .ki_step_done(rec.id, KiStep::Onderwerpobject, &u, next)
            .await
            .map_err(store_err)?;
    }
    if let Some(f) = &rec.follow_up
        && rec.internetaak_uuid.is_none()
    {
        let body = internetaak_body(&kc, f, conn.redact_pii, conn.actor_uuid.as_deref());
        let u = post_resource(state, &conn, "internetaken", &body).await?;
        state
            .store
            .ki_step_done(rec.id, KiStep::Internetaak, &u, "klaar")
            .await
            .map_err(store_err)?;
    }
    Ok(())
}

/// POSTs one resource; the uuid of the created resource.
async fn post_resource(
    state: &AppState,
    conn: &Conn,
    resource: &str,
    body: &Value,
) -> Result<String, DeliveryError> {
    let resp = state
        .http
        .post(format!("{}/{resource}", conn.base_url))
        .header("Authorization", format!("Token {}", conn.token))
        .header("Accept", "application/json")
        .json(body)
        .send()
        .await
        // Only the kind of failure: reqwest's message may carry the URL, never the token, but
        // keep it short and predictable.
        .map_err(|e| {
            DeliveryError::retry(if e.is_timeout() {
                format!("{resource}: geen antwoord binnen de tijd")
            } else {
                format!("{resource}: Klantinteracties niet bereikbaar")
            })
        })?;
    let status = resp.status();
    if !status.is_success() {
        let msg = format!(
            "{resource}: Klantinteracties antwoordde HTTP {}",
            status.as_u16()
        );
        let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
        return Err(if retryable {
            DeliveryError::retry(msg)
        } else {
            DeliveryError::fatal(msg)
        });
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|_| DeliveryError::retry(format!("{resource}: antwoord zonder leesbare JSON")))?;
    v.get("uuid")
        .and_then(Value::as_str)
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .map(|u| u.to_string())
        .ok_or_else(|| DeliveryError::retry(format!("{resource}: antwoord zonder uuid")))
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn redact(text: &str, on: bool) -> String {
    if on {
        loket_text::pii::redact_spans(text, &loket_text::pii::find(text))
    } else {
        text.to_string()
    }
}

/// ISO 639-2/B for the conversation's language (Dutch unless detected otherwise).
fn taal(lang: Option<&str>) -> &'static str {
    match lang {
        Some("en") => "eng",
        Some("de") => "ger",
        Some("fr") => "fre",
        Some("tr") => "tur",
        Some("ar") => "ara",
        Some("pl") => "pol",
        _ => "nld",
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The klantcontact: the resident's messages as inhoud (personal data redacted when the tenant
/// says so), the replies as reactie.
pub fn klantcontact_body(
    c: &ConversationRow,
    messages: &[loket_store::MessageRow],
    redact_pii: bool,
) -> Value {
    let join = |dir: &str| {
        messages
            .iter()
            .filter(|m| m.direction == dir)
            .map(|m| m.body.trim())
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let inhoud = truncate(&redact(&join("in"), redact_pii), 1000);
    let reactie = truncate(&redact(&join("out"), redact_pii), 4000);
    let subject = redact(c.subject.trim(), redact_pii);
    let onderwerp = if subject.is_empty() {
        "Gesprek via Loket".to_string()
    } else {
        truncate(&subject, 200)
    };
    let mut body = json!({
        "kanaal": truncate(&c.channel, 50),
        "onderwerp": onderwerp,
        "inhoud": inhoud,
        "indicatieContactGelukt": true,
        "taal": taal(c.language.as_deref()),
        "vertrouwelijk": false,
        "plaatsgevondenOp": rfc3339(c.created_at),
    });
    if !reactie.is_empty() {
        body["reactie"] = Value::String(reactie);
    }
    body
}

pub fn betrokkene_body(klantcontact: &str) -> Value {
    json!({
        "hadKlantcontact": {"uuid": klantcontact},
        "rol": "klant",
        "initiator": true,
    })
}

pub fn onderwerpobject_body(klantcontact: &str, c: &ConversationRow, base_url: &str) -> Value {
    json!({
        "klantcontact": {"uuid": klantcontact},
        "wasKlantcontact": null,
        "onderwerpobjectidentificator": {
            "objectId": truncate(&format!("{}/conversations/{}", base_url.trim_end_matches('/'), c.id), 200),
            "codeObjecttype": "gesprek",
            "codeRegister": "loket",
            "codeSoortObjectId": "url",
        },
    })
}

pub fn internetaak_body(
    klantcontact: &str,
    follow_up: &str,
    redact_pii: bool,
    actor: Option<&str>,
) -> Value {
    let mut body = json!({
        "aanleidinggevendKlantcontact": {"uuid": klantcontact},
        "gevraagdeHandeling": "Opvolgen door de backoffice",
        "toelichting": truncate(&redact(follow_up, redact_pii), 1000),
        "status": "te_verwerken",
    });
    if let Some(a) = actor {
        body["toegewezenAanActoren"] = json!([{"uuid": a}]);
    }
    body
}

/// Records the outcome of a delivery attempt with the outbox's shared bookkeeping.
pub async fn finish(state: &AppState, item: &OutboxRow, result: Result<(), DeliveryError>) {
    let tenant = state
        .store
        .conversation_system(item.conversation_id)
        .await
        .map(|c| c.tenant_code)
        .unwrap_or_default();
    match &result {
        Ok(()) => metrics::counter!("loket_klantinteracties_registered_total").increment(1),
        Err(e) => {
            tracing::info!(outbox = item.id, error = %e.message, "Klantinteracties registration failed");
            metrics::counter!("loket_klantinteracties_failures_total").increment(1);
        }
    }
    crate::outbox::record(state, item, tenant, result.map(|()| true)).await;
}

// ---------------------------------------------------------------- JSON API

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/tenants/{code}/klantinteracties",
            get(api_get).put(api_put),
        )
        .route("/tenants/{code}/klantinteracties/test", post(api_test))
        .route("/conversations/{id}/klantinteracties", get(api_records))
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/klantinteracties", params(("code" = String, Path)), responses((status = 200, body = KiSettingsView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn api_get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<KiSettingsView>> {
    let t = crate::admin::admin_tenant(&state, &user, &code)?;
    Ok(Json(settings_view(&state, &t.code).await?))
}

#[utoipa::path(put, path = "/api/v1/tenants/{code}/klantinteracties", params(("code" = String, Path)), request_body = KiSettingsBody, responses((status = 200, body = KiSettingsView), (status = 422, body = crate::error::Problem)))]
#[tracing::instrument(skip(state, user, b), fields(user = user.id))]
pub async fn api_put(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<KiSettingsBody>,
) -> AppResult<Json<KiSettingsView>> {
    let t = crate::admin::admin_tenant(&state, &user, &code)?;
    save_settings(&state, &t.code, b).await?;
    Ok(Json(settings_view(&state, &t.code).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/klantinteracties/test", params(("code" = String, Path)), responses((status = 200, body = TestResult)))]
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn api_test(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<TestResult>> {
    let t = crate::admin::admin_tenant(&state, &user, &code)?;
    Ok(Json(test_connection(&state, &t.code).await))
}

/// The registrations of a conversation with the uuids they got.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/klantinteracties", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = crate::error::Problem)))]
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn api_records(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<loket_store::klantinteracties::KiRecordRow>>> {
    state.store.conversation(id, &user.visible).await?;
    Ok(Json(state.store.ki_records(id).await?))
}
