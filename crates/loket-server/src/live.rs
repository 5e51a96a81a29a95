//! The agents' live socket: events of the tenants a user may see, and typing signals from the
//! screen. Only same-origin pages may open it (the cookie alone is not proof against
//! cross-site WebSocket hijacking).

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::hub::HubEvent;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use loket_core::Role;
use std::time::Duration;

pub async fn socket(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let origin = headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let same = origin.is_empty()
        || origin.split("://").nth(1).is_some_and(|o| o == host)
        || origin == state.config.base_url.trim_end_matches('/');
    if !same {
        return Err(AppError::Forbidden(
            "verbinding van een andere site geweigerd".into(),
        ));
    }
    Ok(ws.on_upgrade(move |socket| run(state, user, socket)))
}

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Typing { conversation_id: i64, active: bool },
    Ping,
}

async fn run(state: AppState, mut user: CurrentUser, mut socket: WebSocket) {
    let mut rx = state.hub.subscribe();
    let mut refresh = tokio::time::interval(Duration::from_secs(30));
    refresh.tick().await;
    metrics::gauge!("loket_agent_sockets").increment(1.0);
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        // Tell the page to reload its lists rather than silently missing events.
                        let _ = socket.send(Message::Text(serde_json::json!({"type": "resync", "missed": n}).to_string().into())).await;
                        continue;
                    }
                    Err(_) => break,
                };
                let visible = user.can_see(ev.tenant()) || matches!(&*ev, HubEvent::Conversation { previous_tenant: Some(p), .. } if user.can_see(p));
                if !visible {
                    continue;
                }
                // Alerts (urgent messages) are for those who steer: supervisors and coordinators.
                if let HubEvent::Alert { tenant, .. } = &*ev
                    && !(user.has_role(tenant, Role::Supervisor) || user.has_role(tenant, Role::Coordinator))
                {
                    continue;
                }
                if let HubEvent::Typing { user_id, .. } = &*ev
                    && *user_id == user.id {
                        continue;
                    }
                let Ok(text) = serde_json::to_string(&*ev) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if let Ok(ClientFrame::Typing { conversation_id, active }) = serde_json::from_str::<ClientFrame>(&t) {
                        let _ = crate::service::typing(&state, &user, conversation_id, active).await;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            },
            _ = refresh.tick() => {
                // Pool handover changes with the clock and the backlog: re-evaluate the scope.
                user.visible = crate::auth::visible_tenants(&state, &user.roles).await;
            }
        }
    }
    metrics::gauge!("loket_agent_sockets").decrement(1.0);
}
