//! Loket's HTTP server: the JSON API, the server-rendered agent UI, the resident's chat widget,
//! live updates over WebSocket, and the background workers (outbox, tenant refresh).
//!
//! [`build`] makes the state and router; [`serve`] runs them on a given listener until a shutdown
//! signal, so tests can bind port 0.

pub mod admin;
pub mod api;
pub mod assign;
pub mod auth;
pub mod channel_admin;
pub mod channels;
pub mod charts;
pub mod config;
pub mod csat;
pub mod dashboard;
pub mod error;
pub mod hub;
pub mod i18n;
pub mod insight;
pub mod intake;
pub mod klantinteracties;
pub mod live;
pub mod open311;
pub mod outbox;
pub mod secrets;
pub mod seed;
pub mod service;
pub mod signalen;
pub mod state;
pub mod summary;
pub mod timing;
pub mod ui;
pub mod widget;

use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;

pub use config::Config;

/// Connects the store, runs migrations and loads the tenants.
pub async fn build(
    config: Config,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> anyhow::Result<AppState> {
    let store = loket_store::Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let state = AppState::new(config, store, metrics).await?;
    if !state.config.nats_url.is_empty() {
        state.hub.connect_nats(&state.config.nats_url).await?;
        tracing::info!("live events shared with other nodes over NATS");
    }
    Ok(state)
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let widget_cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = api::router()
        .nest(
            "/widget",
            widget::router()
                .merge(csat::widget_router())
                .layer(widget_cors),
        )
        .merge(csat::api_router())
        .route("/live", get(live::socket));
    // Open311 apps run anywhere (also in a browser): the endpoints are open to every origin.
    let open311_cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .nest("/api/v1", api)
        .nest("/open311/v2", open311::router().layer(open311_cors))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(api_docs))
        .route(
            "/kanalen/{key}/webhook",
            get(channels::webhook).post(channels::webhook),
        )
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .merge(ui::router())
        .merge(dashboard::router())
        .merge(csat::page_router())
        .merge(insight::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn(track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/open311/") {
        open311::not_found(req.uri().path())
    } else if req.uri().path().starts_with("/api/") {
        error::AppError::NotFound.into_response()
    } else {
        ui::error_page(
            StatusCode::NOT_FOUND,
            "Deze pagina bestaat niet.",
            &i18n::lang_of(req.headers()),
        )
    }
}

/// Request metrics labelled by route template (never the raw path), and a span per request.
async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("loket_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("loket_http_request_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    resp
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics disabled").into_response(),
    }
}

async fn openapi_json() -> Response {
    let mut doc = api::ApiDoc::openapi();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_json().unwrap_or_default(),
    )
        .into_response()
}

async fn api_docs() -> Response {
    ui::api_reference()
}

/// Starts the background workers and serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let outbox = tokio::spawn(outbox::run(state.clone()));
    let summaries = tokio::spawn(summary::run(state.clone()));
    channels::start_all(&state).await;
    let refresher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(Duration::from_secs(30));
            t.tick().await;
            loop {
                t.tick().await;
                if let Err(e) = state.reload_tenants().await {
                    tracing::warn!(error = %e, "reloading tenants failed");
                }
            }
        })
    };
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    outbox.abort();
    summaries.abort();
    refresher.abort();
    state.channels.stop_all();
    Ok(result?)
}

/// Installs the Prometheus recorder (once per process) without its own HTTP listener.
pub fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}
