//! The resident's web chat: configuration, posting, history and a live socket. No cookies: the
//! resident holds a random conversation token (in localStorage), so the widget works embedded on
//! any municipal site (CORS open for these endpoints only).

use crate::error::{ApiJson, AppError, AppResult};
use crate::hub::{HubEvent, WireMessage};
use crate::intake::{self, InboundRequest};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws", get(socket))
        .route("/{tenant}/config", get(config))
        .route("/{tenant}/messages", post(post_message))
        .route("/{tenant}/conversation", get(conversation))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConfig {
    pub tenant: String,
    pub name: String,
    pub display_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub logo_url: Option<String>,
    pub greeting: BTreeMap<String, String>,
    pub open_now: bool,
    pub hours_text: BTreeMap<String, String>,
}

fn tenant_or_404(state: &AppState, code: &str) -> AppResult<crate::state::Tenant> {
    let code = loket_core::TenantCode::parse(code).map_err(|_| AppError::NotFound)?;
    state.tenant(code.as_str()).ok_or(AppError::NotFound)
}

/// Opening hours as one short line, e.g. "ma–vr 08:30–17:00".
pub fn hours_text(s: &loket_core::calendar::WeekSchedule, en: bool) -> String {
    if s.is_always() {
        return if en {
            "24/7".into()
        } else {
            "dag en nacht".into()
        };
    }
    let names: [&str; 7] = if en {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    } else {
        ["ma", "di", "wo", "do", "vr", "za", "zo"]
    };
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < 7 {
        let Some(h) = s.days[i] else {
            i += 1;
            continue;
        };
        let mut j = i;
        while j + 1 < 7 && s.days[j + 1] == Some(h) {
            j += 1;
        }
        let days = if i == j {
            names[i].to_string()
        } else {
            format!("{}–{}", names[i], names[j])
        };
        parts.push(format!("{days} {}", h.to_string().replace('-', "–")));
        i = j + 1;
    }
    parts.join(", ")
}

#[utoipa::path(get, path = "/api/v1/widget/{tenant}/config", responses((status = 200, body = WidgetConfig), (status = 404, body = crate::error::Problem)))]
pub async fn config(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> AppResult<Json<WidgetConfig>> {
    let t = tenant_or_404(&state, &tenant)?;
    let s = &t.settings;
    Ok(Json(WidgetConfig {
        open_now: t.is_open_now(),
        tenant: t.code,
        name: t.name,
        display_name: t.display_name,
        primary_color: s.primary_color.clone(),
        accent_color: s.accent_color.clone(),
        logo_url: s.logo_url.clone(),
        greeting: BTreeMap::from([
            ("nl".into(), s.greeting_nl.clone()),
            ("en".into(), s.greeting_en.clone()),
        ]),
        hours_text: BTreeMap::from([
            ("nl".into(), hours_text(&s.hours, false)),
            ("en".into(), hours_text(&s.hours, true)),
        ]),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetPost {
    pub token: Option<String>,
    pub name: Option<String>,
    pub text: String,
    /// Random id per message: a retry with the same id is stored once.
    pub client_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetPosted {
    pub token: String,
    pub conversation_id: i64,
    pub message: WireMessage,
}

fn valid_client_id(s: &str) -> bool {
    (8..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Stores the resident's message; 202 once it is durable.
#[utoipa::path(post, path = "/api/v1/widget/{tenant}/messages", request_body = WidgetPost,
    responses((status = 202, body = WidgetPosted), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn post_message(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    ApiJson(b): ApiJson<WidgetPost>,
) -> AppResult<Response> {
    let t = tenant_or_404(&state, &tenant)?;
    if !valid_client_id(&b.client_id) {
        return Err(AppError::Invalid(
            "client_id moet 8–64 letters, cijfers of - zijn".into(),
        ));
    }
    let token = match b.token.as_deref().filter(|s| !s.is_empty()) {
        Some(tok) => {
            // A token belongs to one conversation started on this tenant's widget.
            let c = state
                .store
                .conversation_by_widget_token(tok)
                .await
                .map_err(|_| AppError::NotFound)?;
            if c.origin_tenant_code != t.code {
                return Err(AppError::NotFound);
            }
            tok.to_string()
        }
        None => crate::auth::random_token(),
    };
    let name = b
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("Bezoeker webchat")
        .chars()
        .take(100)
        .collect::<String>();
    let ingested = intake::accept(
        &state,
        InboundRequest {
            tenant: t.code.clone(),
            channel: "webchat".into(),
            external_id: format!("widget:{}", b.client_id),
            author_id: format!("widget:{}", &crate::auth::sha256_hex(&token)[..24]),
            author_name: name,
            text: b.text,
            sent_at: loket_store::now_ms(),
            lat: None,
            lon: None,
            api_key_id: None,
            widget_token: Some(token.clone()),
            open311: None,
            channel_info: None,
        },
    )
    .await?;
    // A retried first message returns the token the first attempt created.
    let c = state
        .store
        .conversation_system(ingested.conversation_id)
        .await?;
    let token = c.widget_token.unwrap_or(token);
    let m = state.store.message(ingested.message_id).await?;
    let body = WidgetPosted {
        token,
        conversation_id: c.id,
        message: crate::service::wire(&state, &m),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConversation {
    pub conversation_id: i64,
    pub state: String,
    pub messages: Vec<WireMessage>,
}

/// The resident's history: their messages and the replies, never internal notes.
#[utoipa::path(get, path = "/api/v1/widget/{tenant}/conversation", responses((status = 200, body = WidgetConversation), (status = 404, body = crate::error::Problem)))]
pub async fn conversation(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<TokenQuery>,
) -> AppResult<Json<WidgetConversation>> {
    let t = tenant_or_404(&state, &tenant)?;
    let c = state
        .store
        .conversation_by_widget_token(&q.token)
        .await
        .map_err(|_| AppError::NotFound)?;
    if c.origin_tenant_code != t.code {
        return Err(AppError::NotFound);
    }
    let messages = state
        .store
        .messages(c.id)
        .await?
        .iter()
        .filter(|m| m.direction != "note")
        .map(|m| crate::service::wire(&state, m))
        .collect();
    Ok(Json(WidgetConversation {
        conversation_id: c.id,
        state: c.state,
        messages,
    }))
}

async fn socket(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let c = state
        .store
        .conversation_by_widget_token(&q.token)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(ws.on_upgrade(move |socket| widget_socket(state, c.id, socket)))
}

async fn widget_socket(state: AppState, conversation_id: i64, mut socket: WebSocket) {
    let mut rx = state.hub.subscribe();
    metrics::gauge!("loket_widget_sockets").increment(1.0);
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let ev = match ev {
                    Ok(ev) => ev,
                    // Fell behind: the widget re-fetches the conversation on reconnect.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(_) => break,
                };
                if ev.conversation_id() != conversation_id {
                    continue;
                }
                let frame = match &*ev {
                    HubEvent::Message { message, .. } if message.direction != "note" => serde_json::json!({"type": "message", "message": message}),
                    HubEvent::Typing { active, .. } => serde_json::json!({"type": "typing", "active": active}),
                    HubEvent::Conversation { change, .. } if change.starts_with("state:") => serde_json::json!({"type": "state", "state": &change[6..]}),
                    _ => continue,
                };
                if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            }
        }
    }
    metrics::gauge!("loket_widget_sockets").decrement(1.0);
}

#[cfg(test)]
mod tests {
    #[test]
    fn hours_line() {
        let s = loket_core::calendar::WeekSchedule::default_office();
        assert_eq!(super::hours_text(&s, false), "ma–vr 08:30–17:00");
        assert_eq!(super::hours_text(&s, true), "Mon–Fri 08:30–17:00");
    }
}
