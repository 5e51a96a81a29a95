//! The JSON API under `/api/v1`: everything the UI does, for integrations. Errors are RFC 9457
//! problems; mutating calls with a session cookie need the `X-CSRF-Token` header.

use crate::auth::{CurrentUser, sha256_hex};
use crate::error::{ApiJson, AppError, AppResult, Problem};
use crate::intake::{self, InboundRequest};
use crate::service::{self, InboxQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router, routing::get, routing::post};
use loket_core::ConversationState;
use loket_store::conversations::Change;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbound", post(inbound))
        .route("/me", get(me))
        .route("/me/online", post(online))
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(detail))
        .route("/conversations/{id}/messages", post(send))
        .route("/conversations/{id}/state", post(set_state))
        .route("/conversations/{id}/assign", post(assign))
        .route("/conversations/{id}/priority", post(priority))
        .route("/conversations/{id}/team", post(team))
        .route("/conversations/{id}/labels", post(add_label))
        .route(
            "/conversations/{id}/labels/{label}",
            axum::routing::delete(remove_label),
        )
        .route("/conversations/{id}/transfer", post(transfer))
        .route("/conversations/{id}/link", post(link))
        .route("/conversations/{id}/topic", post(topic))
        .route("/conversations/{id}/typing", post(typing))
        .route(
            "/conversations/{id}/templates/{template}",
            get(render_template),
        )
        .route("/conversations/{id}/messages/{message}/retry", post(retry))
        .route(
            "/conversations/{id}/signalen",
            get(signalen_status).post(signalen_forward),
        )
        .route("/templates", get(templates))
        .route("/search", get(search))
        .route("/tenants", get(tenants))
        .merge(crate::admin::api_router())
        .merge(crate::klantinteracties::api_router())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Loket API",
        description = "Webcare voor alle Nederlandse gemeenten. Fouten zijn RFC 9457 problem+json.",
        license(name = "EUPL-1.2")
    ),
    paths(
        inbound,
        topic,
        me,
        online,
        list,
        detail,
        send,
        set_state,
        assign,
        priority,
        add_label,
        transfer,
        typing,
        signalen_forward,
        signalen_status,
        search,
        tenants,
        crate::widget::config,
        crate::csat::widget_survey,
        crate::csat::widget_answer,
        crate::csat::results,
        crate::widget::post_message,
        crate::widget::conversation,
        crate::open311::doc::services,
        crate::open311::doc::service_definition,
        crate::open311::doc::post_request,
        crate::open311::doc::get_requests,
        crate::open311::doc::get_request,
        crate::open311::doc::token,
        crate::admin::api_settings,
        crate::admin::api_put_settings,
        crate::admin::api_teams,
        crate::admin::api_create_team,
        crate::admin::api_delete_team,
        crate::admin::api_add_member,
        crate::admin::api_users,
        crate::admin::api_add_user,
        crate::admin::api_update_user,
        crate::admin::api_revoke,
        crate::admin::api_templates,
        crate::admin::api_create_template,
        crate::admin::api_update_template,
        crate::admin::api_keys,
        crate::admin::api_create_key,
        crate::admin::api_delete_key,
        crate::klantinteracties::api_get,
        crate::klantinteracties::api_put,
        crate::klantinteracties::api_test,
        crate::klantinteracties::api_records
    ),
    components(schemas(
        Problem,
        SignalenView,
        TopicBody,
        InboundBody,
        Author,
        Accepted,
        SendBody,
        StateBody,
        AssignBody,
        PriorityBody,
        LabelBody,
        TransferBody,
        TypingBody,
        OnlineBody,
        Me,
        crate::widget::WidgetConfig,
        crate::widget::WidgetPost,
        crate::widget::WidgetPosted,
        crate::widget::WidgetConversation,
        crate::hub::WireMessage,
        crate::open311::doc::Open311ErrorItem,
        crate::open311::doc::Open311Service,
        crate::open311::doc::Open311ServiceDefinition,
        crate::open311::doc::Open311Created,
        crate::open311::doc::Open311Request,
        crate::open311::doc::Open311Token,
        crate::klantinteracties::KiSettingsView,
        crate::klantinteracties::KiSettingsBody,
        crate::klantinteracties::TestResult
    ))
)]
pub struct ApiDoc;

/// A message from an external system (`Authorization: Bearer <channel API key>`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    /// The channel's own message id: the same id twice is stored once.
    pub external_id: String,
    /// Channel name, e.g. `api`, `x`, `facebook`.
    pub channel: String,
    pub author: Author,
    pub text: String,
    /// RFC 3339 time the resident sent it.
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// CBS code of the municipality, when the sender already knows it (national keys only).
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Author {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub conversation_id: i64,
    pub message_id: i64,
    /// False when this external id was already stored.
    pub created: bool,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
}

/// Accepts a message; answers 202 only after it is durably stored.
#[utoipa::path(post, path = "/api/v1/inbound", request_body = InboundBody,
    responses((status = 202, body = Accepted), (status = 401, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all, fields(channel))]
async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<InboundBody>, AppError>,
) -> AppResult<impl IntoResponse> {
    let key = bearer(&headers).ok_or(AppError::Unauthorized)?;
    let key = state
        .store
        .api_key(&sha256_hex(key))
        .await
        .map_err(|_| AppError::Unauthorized)?;
    let ApiJson(b) = body?;
    tracing::Span::current().record("channel", b.channel.as_str());
    let tenant = match b.tenant.as_deref() {
        None => key.tenant_code.clone(),
        Some(t) => {
            let code = loket_core::TenantCode::parse(t)
                .map_err(|e| AppError::UnknownTenant(e.to_string()))?
                .to_string();
            if state.tenant(&code).is_none() {
                return Err(AppError::UnknownTenant(format!(
                    "onbekende gemeente '{code}'"
                )));
            }
            if code != key.tenant_code && key.tenant_code != loket_core::TenantCode::NATIONAL {
                return Err(AppError::Forbidden(
                    "deze API-sleutel mag alleen berichten voor de eigen gemeente aanleveren"
                        .into(),
                ));
            }
            code
        }
    };
    let ingested = intake::accept(
        &state,
        InboundRequest {
            tenant,
            channel: b.channel,
            external_id: b.external_id,
            author_id: b.author.id,
            author_name: b.author.name,
            text: b.text,
            sent_at: b.sent_at.timestamp_millis(),
            lat: b.lat,
            lon: b.lon,
            api_key_id: Some(key.id),
            widget_token: None,
            open311: None,
            channel_info: None,
        },
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            conversation_id: ingested.conversation_id,
            message_id: ingested.message_id,
            created: ingested.created,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub language: String,
    pub online: bool,
    /// Roles per tenant code.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
    /// Tenants whose conversations the user sees now.
    pub visible: Vec<String>,
    /// Token to send as `X-CSRF-Token` on mutating calls.
    pub csrf: String,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        language: user.language.clone(),
        online: user.online,
        roles: user
            .roles
            .iter()
            .map(|(t, r)| {
                (
                    t.clone(),
                    r.iter().map(|r| r.as_str().to_string()).collect(),
                )
            })
            .collect(),
        visible: user.visible.clone(),
        csrf: user.csrf.clone(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OnlineBody {
    pub online: bool,
}

/// Sets availability; coming online hands over the waiting backlog.
#[utoipa::path(post, path = "/api/v1/me/online", request_body = OnlineBody, responses((status = 200)))]
async fn online(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<OnlineBody>,
) -> AppResult<Json<serde_json::Value>> {
    let assigned = service::set_online(&state, &user, b.online).await?;
    Ok(Json(
        serde_json::json!({ "online": b.online, "assigned": assigned }),
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations", params(InboxQuery), responses((status = 200), (status = 422, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<serde_json::Value>> {
    let Query(q) = q.map_err(|e| AppError::Invalid(e.body_text()))?;
    let rows = service::inbox(&state, &user, &q).await?;
    let counts = state
        .store
        .inbox_counts(&user.visible, user.id, loket_store::now_ms())
        .await?;
    Ok(Json(
        serde_json::json!({ "counts": counts, "conversations": rows }),
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", responses((status = 200), (status = 404, body = Problem)))]
async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<service::ConversationView>> {
    let v = service::conversation(&state, &user, id).await?;
    service::opened(&state, &user, id).await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    pub body: String,
    /// An internal note instead of a reply.
    #[serde(default)]
    pub note: bool,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", request_body = SendBody, responses((status = 201), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SendBody>,
) -> AppResult<impl IntoResponse> {
    let m = service::reply(&state, &user, id, &b.body, b.note).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// `open`, `wachtend`, `opgelost`, `gesloten`.
    pub state: String,
    /// The version the client saw; a newer version answers 409.
    pub expected_version: Option<i64>,
    /// With `opgelost`: hand a follow-up to the back office ("doorzetten naar backoffice"); it
    /// becomes an internetaak in Klantinteracties.
    pub follow_up: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/state", request_body = StateBody, responses((status = 200), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_state(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StateBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    let to = ConversationState::parse(&b.state)
        .ok_or_else(|| AppError::Invalid(format!("onbekende status '{}'", b.state)))?;
    Ok(Json(
        service::change_with(
            &state,
            &user,
            id,
            b.expected_version,
            Change::State(to),
            b.follow_up.as_deref(),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// `null` unassigns.
    pub user_id: Option<i64>,
    pub expected_version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", request_body = AssignBody, responses((status = 200), (status = 422, body = Problem)))]
async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(
            &state,
            &user,
            id,
            b.expected_version,
            Change::Assign(b.user_id.map(|u| (u, String::new()))),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityBody {
    pub priority: String,
    pub expected_version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/priority", request_body = PriorityBody, responses((status = 200), (status = 422, body = Problem)))]
async fn priority(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PriorityBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(
            &state,
            &user,
            id,
            b.expected_version,
            Change::Priority(b.priority),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    team_id: Option<i64>,
    expected_version: Option<i64>,
}

async fn team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TeamBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(
            &state,
            &user,
            id,
            b.expected_version,
            Change::Team(b.team_id.map(|t| (t, String::new()))),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    pub label: String,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/labels", request_body = LabelBody, responses((status = 200), (status = 422, body = Problem)))]
async fn add_label(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<LabelBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(&state, &user, id, None, Change::AddLabel(b.label)).await?,
    ))
}

async fn remove_label(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, label)): Path<(i64, String)>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(&state, &user, id, None, Change::RemoveLabel(label)).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicBody {
    /// A sub-topic code of the taxonomy, e.g. `openbare-ruimte.bestrating`.
    pub topic: String,
}

/// Corrects the topic; the correction is kept as training data.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/topic", request_body = TopicBody, responses((status = 200), (status = 422, body = Problem)))]
async fn topic(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TopicBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    Ok(Json(
        service::change(&state, &user, id, None, Change::Topic(b.topic)).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Code of the receiving tenant, e.g. `GM0344`.
    pub tenant: String,
}

/// Moves a conversation to another tenant, keeping its whole history.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", request_body = TransferBody, responses((status = 200), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TransferBody>,
) -> AppResult<Json<loket_store::ConversationRow>> {
    let code = loket_core::TenantCode::parse(&b.tenant)
        .map_err(|e| AppError::UnknownTenant(e.to_string()))?;
    Ok(Json(
        service::change(
            &state,
            &user,
            id,
            None,
            Change::Transfer {
                to: code.to_string(),
                to_name: String::new(),
            },
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    other_conversation_id: i64,
}

async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<LinkBody>,
) -> AppResult<StatusCode> {
    state
        .store
        .link_contacts(
            id,
            b.other_conversation_id,
            &user.visible,
            &service::actor(&user),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TypingBody {
    pub active: bool,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", request_body = TypingBody, responses((status = 204)))]
async fn typing(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TypingBody>,
) -> AppResult<StatusCode> {
    service::typing(&state, &user, id, b.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn render_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, template)): Path<(i64, i64)>,
) -> AppResult<Json<serde_json::Value>> {
    let text = service::render_template(&state, &user, id, template).await?;
    Ok(Json(serde_json::json!({ "text": text })))
}

async fn retry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, message)): Path<(i64, i64)>,
) -> AppResult<StatusCode> {
    state.store.conversation(id, &user.visible).await?;
    let m = state.store.message(message).await?;
    if m.conversation_id != id {
        return Err(AppError::NotFound);
    }
    state.store.outbox_retry(message).await?;
    state.outbox_wake.notify_one();
    Ok(StatusCode::ACCEPTED)
}

/// Where a conversation's forward to Signalen stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalenView {
    /// The note in the conversation that records the forward.
    pub message_id: i64,
    /// `wachtrij` (queued or being retried), `afgeleverd` or `mislukt`.
    pub state: String,
    /// The id Signalen returned, once delivered.
    pub signal_id: Option<String>,
    /// `SIG-…`, as the conversation page shows it.
    pub display_id: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl From<loket_store::conversations::SignalenStatus> for SignalenView {
    fn from(s: loket_store::conversations::SignalenStatus) -> Self {
        SignalenView {
            message_id: s.message_id,
            state: s.state.unwrap_or_else(|| "wachtrij".into()),
            display_id: s.signal_id.as_deref().map(crate::signalen::display_id),
            signal_id: s.signal_id,
            attempts: s.attempts.unwrap_or(0),
            last_error: s.last_error,
        }
    }
}

/// Forwards a report to the municipality's Signalen installation (through the outbox).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/signalen", params(("id" = i64, Path)),
    responses((status = 202, body = SignalenView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not a report, or already forwarded"),
        (status = 422, body = Problem, description = "the municipality has no Signalen address")))]
#[tracing::instrument(skip(state, user), fields(user = user.id))]
async fn signalen_forward(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<SignalenView>)> {
    let c = state.store.conversation(id, &user.visible).await?;
    crate::signalen::forward(&state, &c, &user.visible, &service::actor(&user)).await?;
    let s = state
        .store
        .signalen_status(id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(s.into())))
}

/// The state of a conversation's forward to Signalen; 404 when it was not forwarded.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/signalen", params(("id" = i64, Path)),
    responses((status = 200, body = SignalenView), (status = 404, body = Problem)))]
async fn signalen_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<SignalenView>> {
    state.store.conversation(id, &user.visible).await?;
    let s = state
        .store
        .signalen_status(id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(s.into()))
}

#[derive(Debug, Deserialize)]
struct TemplatesQuery {
    tenant: String,
}

async fn templates(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TemplatesQuery>,
) -> AppResult<Json<Vec<loket_store::TemplateRow>>> {
    if !user.can_see(&q.tenant) {
        return Err(AppError::NotFound);
    }
    Ok(Json(service::templates_for(&state, &q.tenant).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    pub q: String,
}

/// Dutch-aware search over messages, notes and residents the user may see.
#[utoipa::path(get, path = "/api/v1/search", params(SearchQuery), responses((status = 200)))]
async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Json<Vec<loket_store::SearchHit>>> {
    if q.q.len() > 200 {
        return Err(AppError::Invalid("de zoekvraag is te lang".into()));
    }
    Ok(Json(state.store.search(&user.visible, &q.q, 20).await?))
}

/// Tenants the user works for or sees through a pool.
#[utoipa::path(get, path = "/api/v1/tenants", responses((status = 200)))]
async fn tenants(State(state): State<AppState>, user: CurrentUser) -> Json<Vec<serde_json::Value>> {
    let all = state.tenants();
    Json(
        user.visible
            .iter()
            .filter_map(|c| all.get(c))
            .map(|t| serde_json::json!({"code": t.code, "kind": t.kind, "name": t.name, "display_name": t.display_name, "pool": t.pool_code}))
            .collect(),
    )
}
