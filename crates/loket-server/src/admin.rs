//! Tenant administration screens (branding, hours, SLA, teams, users, templates).

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
