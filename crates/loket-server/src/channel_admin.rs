//! Admin pages for resident channel accounts: the health overview on the "Kanalen" page, one
//! form per account built from the adapter's [`Field`] list (secrets write-only), "test
//! verbinding", and switching an account on or off.

use crate::admin::{AdminCtx, CsrfForm, Ctx, Flash, done, enter, enter_post, error_response};
use crate::auth::CurrentUser;
use crate::channels;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::ui::{self, Nav, page};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use loket_channels::adapter::{self, ChannelKind, Field};
use loket_store::{ChannelAccountRow, ChannelAccountUpdate};
use std::collections::{BTreeMap, HashMap};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/{code}/kanalen/koppeling", post(create))
        .route(
            "/admin/{code}/kanalen/koppeling/{id}",
            get(edit_page).post(save),
        )
        .route("/admin/{code}/kanalen/koppeling/{id}/test", post(test))
}

/// One account on the overview: what it is and how it is doing.
pub struct AccountLine {
    pub id: i64,
    pub kind: &'static str,
    pub name: String,
    pub status: &'static str,
    /// The badge tone (`ok`, `breached`, `info` or none).
    pub status_class: &'static str,
    pub last_in: String,
    pub last_out: String,
    pub last_error: Option<String>,
    pub queued: i64,
    pub failed: i64,
    pub bad_signatures: i64,
    pub ignored: i64,
}

fn status(row: &ChannelAccountRow) -> (&'static str, &'static str) {
    if !row.enabled {
        ("Uitgeschakeld", "")
    } else if row.connected {
        ("Verbonden", "ok")
    } else if row.last_error.is_some() {
        ("Fout", "breached")
    } else {
        ("Nog niet verbonden", "info")
    }
}

fn when_or_dash(ms: Option<i64>) -> String {
    ms.map(ui::when).unwrap_or_else(|| "—".into())
}

/// The overview lines of a tenant's accounts.
pub async fn lines(state: &AppState, tenant: &str) -> AppResult<Vec<AccountLine>> {
    let backlog: HashMap<i64, (i64, i64)> = state
        .store
        .channel_backlog(tenant)
        .await?
        .into_iter()
        .map(|b| (b.account_id, (b.queued, b.failed)))
        .collect();
    Ok(state
        .store
        .channel_accounts(Some(tenant))
        .await?
        .into_iter()
        .map(|row| {
            let (status, status_class) = status(&row);
            let (queued, failed) = backlog.get(&row.id).copied().unwrap_or_default();
            AccountLine {
                id: row.id,
                kind: ChannelKind::parse(&row.kind).map_or("?", |k| k.label()),
                status,
                status_class,
                last_in: when_or_dash(row.last_in_at),
                last_out: when_or_dash(row.last_out_at),
                last_error: row
                    .last_error
                    .as_ref()
                    .map(|e| format!("{} ({})", e, when_or_dash(row.last_error_at))),
                queued,
                failed,
                bad_signatures: row.bad_signatures,
                ignored: row.ignored,
                name: row.name,
            }
        })
        .collect())
}

/// An account of this tenant, or 404 (never another tenant's).
async fn account(state: &AppState, tenant: &str, id: &str) -> AppResult<ChannelAccountRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = state.store.channel_account(id).await?;
    if row.tenant_code != tenant {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CreateForm {
    csrf: String,
    kind: String,
    name: String,
}

/// Creates a switched-off account and opens its form.
async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<CreateForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r: AppResult<i64> = async {
        let kind = ChannelKind::parse(&f.kind)
            .ok_or_else(|| AppError::Invalid("kies een kanaal uit de lijst".into()))?;
        let name = check_name(&f.name, kind)?;
        let key = crate::auth::random_token();
        Ok(state
            .store
            .create_channel_account(
                &ctx.tenant.code,
                kind.as_str(),
                &key,
                &ChannelAccountUpdate {
                    name,
                    settings: "{}".into(),
                    secrets: "{}".into(),
                    enabled: false,
                },
            )
            .await?)
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!(
            "/admin/{}/kanalen/koppeling/{id}?ok=kanaal",
            ctx.tenant.code
        ))
        .into_response(),
        Err(e) => done(&ctx, "kanalen", Err(e)),
    }
}

fn check_name(name: &str, kind: ChannelKind) -> AppResult<String> {
    let name = name.trim();
    let name = if name.is_empty() { kind.label() } else { name };
    if name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "de naam mag hoogstens 80 tekens lang zijn".into(),
        ));
    }
    Ok(name.to_string())
}

/// One form field as the page shows it: a secret's value is never sent back.
struct FieldView {
    key: &'static str,
    label: &'static str,
    help: &'static str,
    secret: bool,
    required: bool,
    value: String,
    is_set: bool,
}

#[derive(Template)]
#[template(path = "admin_channel.html")]
struct EditPage {
    t: crate::i18n::Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    id: i64,
    kind: &'static str,
    name: String,
    enabled: bool,
    fields: Vec<FieldView>,
    webhook_url: Option<String>,
    line: Option<AccountLine>,
    test: Option<(bool, String)>,
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    row: ChannelAccountRow,
    flash: Flash,
    test: Option<(bool, String)>,
) -> Response {
    let Some(kind) = ChannelKind::parse(&row.kind) else {
        return error_response(AppError::NotFound, ctx.t.0);
    };
    let settings: BTreeMap<String, String> =
        serde_json::from_str(&row.settings).unwrap_or_default();
    let secrets: BTreeMap<String, String> = serde_json::from_str(&row.secrets).unwrap_or_default();
    let fields = adapter::fields(kind)
        .iter()
        .map(|f: &Field| FieldView {
            key: f.key,
            label: f.label,
            help: f.help,
            secret: f.secret,
            required: f.required,
            value: if f.secret {
                String::new()
            } else {
                settings.get(f.key).cloned().unwrap_or_default()
            },
            is_set: secrets.contains_key(f.key),
        })
        .collect();
    let line = lines(state, &row.tenant_code)
        .await
        .ok()
        .and_then(|ls| ls.into_iter().find(|l| l.id == row.id));
    let webhook_url = kind.is_push().then(|| {
        format!(
            "{}/kanalen/{}/webhook",
            state.config.base_url.trim_end_matches('/'),
            row.webhook_key
        )
    });
    page(&EditPage {
        nav: ctx.nav(),
        a: ctx.admin(state, "kanalen", flash),
        t: ctx.t,
        id: row.id,
        kind: kind.label(),
        name: row.name,
        enabled: row.enabled,
        fields,
        webhook_url,
        line,
        test,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match account(&state, &ctx.tenant.code, &id).await {
        Ok(row) => render(&state, ctx, row, flash, None).await,
        Err(e) => error_response(e, ctx.t.0),
    }
}

/// Validates a form against the channel's fields and merges it into the stored configuration:
/// a secret left empty keeps its stored value; `wis_{key}` clears it.
fn merge(
    state: &AppState,
    row: &ChannelAccountRow,
    kind: ChannelKind,
    form: &HashMap<String, String>,
) -> AppResult<ChannelAccountUpdate> {
    let mut settings: BTreeMap<String, String> = BTreeMap::new();
    let mut secrets: BTreeMap<String, String> =
        serde_json::from_str(&row.secrets).unwrap_or_default();
    for f in adapter::fields(kind) {
        let v = form.get(f.key).map(|s| s.trim()).unwrap_or("");
        if v.len() > 2000 || v.chars().any(char::is_control) {
            return Err(AppError::Invalid(format!(
                "‘{}’ is te lang of bevat stuurtekens",
                f.label
            )));
        }
        if f.secret {
            if form.contains_key(&format!("wis_{}", f.key)) {
                secrets.remove(f.key);
            } else if !v.is_empty() {
                let sealed = state
                    .sealer
                    .seal(v, &channels::aad(&row.tenant_code, &row.webhook_key, f.key));
                secrets.insert(f.key.to_string(), sealed);
            }
        } else if !v.is_empty() {
            settings.insert(f.key.to_string(), v.to_string());
        }
    }
    let enabled = form.contains_key("enabled");
    if enabled {
        for f in adapter::fields(kind).iter().filter(|f| f.required) {
            let present = if f.secret {
                secrets.contains_key(f.key)
            } else {
                settings.contains_key(f.key)
            };
            if !present {
                return Err(AppError::Invalid(format!(
                    "vul ‘{}’ in voordat u het kanaal aanzet",
                    f.label
                )));
            }
        }
    }
    let name = check_name(form.get("name").map_or("", |s| s.as_str()), kind)?;
    Ok(ChannelAccountUpdate {
        name,
        settings: serde_json::to_string(&settings).map_err(anyhow::Error::from)?,
        secrets: serde_json::to_string(&secrets).map_err(anyhow::Error::from)?,
        enabled,
    })
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    let ctx = match enter_post(&state, &headers, user, &code, &csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r: AppResult<ChannelAccountRow> = async {
        let row = account(&state, &ctx.tenant.code, &id).await?;
        let kind = channels::kind_of(&row).map_err(|e| AppError::Invalid(e.message))?;
        let update = merge(&state, &row, kind, &form)?;
        if update.enabled {
            // The adapter checks the combination of settings (URLs, ports) before it runs.
            let mut probe = row.clone();
            probe.settings = update.settings.clone();
            probe.secrets = update.secrets.clone();
            adapter::build(kind, &channels::config_of(&state, &probe))
                .map_err(|e| AppError::Invalid(e.message))?;
        }
        state
            .store
            .update_channel_account(&ctx.tenant.code, row.id, &update)
            .await?;
        Ok(state.store.channel_account(row.id).await?)
    }
    .await;
    match r {
        Ok(row) => {
            channels::restart(&state, &row);
            Redirect::to(&format!(
                "/admin/{}/kanalen/koppeling/{}?ok=kanaal",
                ctx.tenant.code, row.id
            ))
            .into_response()
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let msg: String =
                url::form_urlencoded::byte_serialize(e.to_string().as_bytes()).collect();
            Redirect::to(&format!(
                "/admin/{}/kanalen/koppeling/{id}?fout={msg}",
                ctx.tenant.code
            ))
            .into_response()
        }
        Err(e) => error_response(e, ctx.t.0),
    }
}

async fn test(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match account(&state, &ctx.tenant.code, &id).await {
        Ok(row) => {
            let result = channels::test_connection(&state, &row).await;
            let row = state.store.channel_account(row.id).await.unwrap_or(row);
            render(&state, ctx, row, Flash::default(), Some(result)).await
        }
        Err(e) => error_response(e, ctx.t.0),
    }
}
