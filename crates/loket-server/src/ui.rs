//! The server-rendered agent UI. Every page works without JavaScript; `app.js` adds live
//! updates, keyboard shortcuts and the typing warning. Forms carry the session's CSRF token.

use crate::auth::{self, CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::error::AppError;
use crate::i18n::{Lang, Tr, lang_of};
use crate::service::{self, InboxQuery};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use loket_core::{ConversationState, Role};
use loket_store::conversations::Change;
use serde::Deserialize;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/me/online", post(online))
        .route("/inbox", get(inbox_page))
        .route("/inbox/list", get(inbox_list))
        .route("/conversations/{id}", get(conversation_page))
        .route("/conversations/{id}/thread", get(thread_partial))
        .route("/bijlagen/{id}", get(attachment))
        .route("/conversations/{id}/reply", post(reply))
        .route("/conversations/{id}/action", post(action))
        .route("/search", get(search_page))
        .route("/uitleg", get(explanation))
        .route("/uitleg/cijfers", get(figure_definitions))
        .route(
            "/static/app.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("../assets/app.css")) }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/app.js"),
                )
            }),
        )
        .route(
            "/widget.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/widget.js"),
                )
            }),
        )
        .route("/widget/demo/{tenant}", get(widget_demo))
        .merge(crate::admin::router())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Renders a template into a response with the security headers pages need.
pub fn page<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => AppError::Unexpected(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

/// What the header shows about the logged-in user.
pub struct Nav {
    pub name: String,
    pub online: bool,
    pub csrf: String,
    pub admin_tenant: Option<String>,
    /// Has a management role somewhere: the "Cijfers" link.
    pub dashboard: bool,
    pub active: &'static str,
}

impl Nav {
    pub fn of(user: &CurrentUser, active: &'static str) -> Nav {
        Nav {
            name: user.name.clone(),
            online: user.online,
            csrf: user.csrf.clone(),
            admin_tenant: user.admin_tenants().into_iter().next(),
            dashboard: user.roles.values().any(|r| {
                r.iter().any(|r| {
                    matches!(
                        r,
                        Role::Supervisor | Role::Beheerder | Role::Coordinator | Role::Woordvoerder
                    )
                })
            }),
            active,
        }
    }
}

pub fn tr_for(user: &CurrentUser) -> Tr {
    Tr(Lang::parse(&user.language))
}

/// Language: the cookie wins (the switch), then the user's preference.
pub fn tr(headers: &HeaderMap, user: &CurrentUser) -> Tr {
    match auth::cookie(headers, "lang") {
        Some(l) => Tr(Lang::parse(l)),
        None => tr_for(user),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Tr,
    nav: Option<Nav>,
    title: &'a str,
    message: &'a str,
}

pub fn error_page(status: StatusCode, message: &str, lang: &Lang) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Niet gevonden",
        StatusCode::FORBIDDEN => "Geen toegang",
        _ => "Er ging iets mis",
    };
    let mut r = page(&ErrorPage {
        t: Tr(*lang),
        nav: None,
        title,
        message,
    });
    *r.status_mut() = status;
    r
}

/// Maps an error on a page: not logged in → login page; otherwise a readable Dutch page.
pub fn page_error(e: AppError, lang: Lang) -> Response {
    match e {
        AppError::Unauthorized => Redirect::to("/login").into_response(),
        e => error_page(e.status(), &e.to_string(), &lang),
    }
}

/// Local Dutch time for a timestamp: "15:21" today, "28 nov 15:21" otherwise.
pub fn when(ms: i64) -> String {
    when_in(ms, Tr(Lang::Nl))
}

/// [`when`] with the month in the reader's language: "28 Nov 15:21".
pub fn when_in(ms: i64, tr: Tr) -> String {
    use chrono::TimeZone;
    let tz = chrono_tz::Europe::Amsterdam;
    let Some(t) = tz.timestamp_millis_opt(ms).single() else {
        return String::new();
    };
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    if t.date_naive() == today {
        t.format("%H:%M").to_string()
    } else {
        use chrono::Datelike;
        format!("{} {} {}", t.day(), tr.month(t.month0()), t.format("%H:%M"))
    }
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    nav: Option<Nav>,
    csrf: String,
    error: Option<String>,
    email: String,
}

async fn login_page(headers: HeaderMap) -> Response {
    let csrf = auth::random_token();
    let mut r = page(&LoginPage {
        t: Tr(lang_of(&headers)),
        nav: None,
        csrf: csrf.clone(),
        error: None,
        email: String::new(),
    });
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let t = Tr(lang_of(&headers));
    let cookie_csrf = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_csrf.is_empty() || !auth::tokens_equal(cookie_csrf, &f.csrf) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Het formulier is verlopen of komt niet van deze site. Open de inlogpagina opnieuw.",
            &t.0,
        );
    }
    let email = f.email.trim().to_lowercase();
    let max = state.config.login_max_failures;
    let ip_key = format!("ip:{}", peer.ip());
    let email_key = format!("email:{email}");
    let limited = state
        .login_allowed(&email_key, max)
        .and_then(|_| state.login_allowed(&ip_key, max * 4));
    let retry_page = |error: String, status: StatusCode| {
        let csrf = auth::random_token();
        let mut r = page(&LoginPage {
            t,
            nav: None,
            csrf: csrf.clone(),
            error: Some(error),
            email: email.clone(),
        });
        *r.status_mut() = status;
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict"
        )) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    };
    if let Err(secs) = limited {
        let msg = if t.is_en() {
            format!(
                "Too many attempts. Try again in {} minutes.",
                secs.div_ceil(60)
            )
        } else {
            format!(
                "Te veel pogingen. Probeer het over {} minuten opnieuw.",
                secs.div_ceil(60)
            )
        };
        let mut r = retry_page(msg, StatusCode::TOO_MANY_REQUESTS);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let user = state.store.user_by_email(&email).await.ok();
    // Verify against a dummy hash for unknown addresses too, so timing does not reveal accounts.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| auth::hash_password("dummy-password-xyz").unwrap_or_default())
                .clone()
        });
    let ok = auth::verify_password(&f.password, &hash) && user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        state.login_failed(&email_key);
        state.login_failed(&ip_key);
        tracing::info!(ip = %peer.ip(), "failed login");
        return retry_page(t.s("login_failed").into(), StatusCode::UNAUTHORIZED);
    };
    state.login_succeeded(&email_key);
    let token = auth::random_token();
    let ttl = state.config.session_hours * 3600;
    if let Err(e) = state
        .store
        .create_session(
            &auth::sha256_hex(&token),
            user.id,
            &auth::random_token(),
            ttl * 1000,
        )
        .await
    {
        return page_error(e.into(), t.0);
    }
    let mut r = Redirect::to("/inbox").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(&state, &token, ttl)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("loket_login_csrf=; Path=/login; Max-Age=0"),
    );
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    user: Result<CurrentUser, AppError>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Ok(user) = user {
        if user.check_csrf(&f.csrf).is_err() {
            return error_page(
                StatusCode::FORBIDDEN,
                &AppError::Csrf.to_string(),
                &Lang::Nl,
            );
        }
        let _ = state.store.delete_session(user.token_hash()).await;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// The language switch; works logged in or not (the cookie holds the choice).
async fn set_lang(Form(f): Form<LangForm>) -> Response {
    let lang = Lang::parse(&f.lang);
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") {
        f.back
    } else {
        "/inbox".into()
    };
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.code()
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct OnlineForm {
    csrf: String,
    online: String,
    #[serde(default)]
    back: String,
}

async fn online(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Form(f): Form<OnlineForm>,
) -> Response {
    let lang = lang_of(&headers);
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang),
    };
    if let Err(e) = user.check_csrf(&f.csrf) {
        return page_error(e, lang);
    }
    if let Err(e) = service::set_online(&state, &user, f.online == "1").await {
        return page_error(e, lang);
    }
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") {
        f.back
    } else {
        "/inbox".into()
    };
    Redirect::to(&back).into_response()
}

// ---------------------------------------------------------------- inbox

pub struct InboxItem {
    pub id: i64,
    pub tenant_code: String,
    pub tenant_label: String,
    pub via_pool: bool,
    pub contact: String,
    pub subject: String,
    pub preview: String,
    pub state: String,
    pub state_label: String,
    pub priority: String,
    pub assignee: String,
    pub sla_text: String,
    pub sla_class: &'static str,
    pub last: String,
    pub channel: String,
    pub colour: String,
}

fn sla_cell(c: &loket_store::ConversationRow) -> (String, &'static str) {
    use loket_core::sla::SlaStatus;
    match service::sla_of(c) {
        Some((_, SlaStatus::Breached { by })) => {
            (loket_core::sla::format_left_nl(-by), "sla-breached")
        }
        Some((_, SlaStatus::DueSoon { left })) => {
            (loket_core::sla::format_left_nl(left), "sla-due")
        }
        Some((_, SlaStatus::Ok { left })) => (loket_core::sla::format_left_nl(left), "sla-ok"),
        None => (String::new(), ""),
    }
}

fn items(state: &AppState, user: &CurrentUser, rows: Vec<loket_store::InboxRow>) -> Vec<InboxItem> {
    let tenants = state.tenants();
    rows.into_iter()
        .map(|r| {
            let c = r.conversation;
            let (sla_text, sla_class) = sla_cell(&c);
            let t = tenants.get(&c.tenant_code);
            InboxItem {
                id: c.id,
                via_pool: !user.roles.contains_key(&c.tenant_code),
                tenant_label: t
                    .map(|t| t.display_name.clone())
                    .unwrap_or_else(|| c.tenant_code.clone()),
                colour: t
                    .map(|t| t.settings.primary_color.clone())
                    .unwrap_or_else(|| "#154273".into()),
                tenant_code: c.tenant_code.clone(),
                contact: r.contact_name,
                preview: r.last_message.chars().take(140).collect(),
                subject: c.subject.clone(),
                state_label: ConversationState::parse(&c.state)
                    .map(|s| s.label_nl())
                    .unwrap_or("")
                    .to_string(),
                state: c.state.clone(),
                priority: c.priority.clone(),
                assignee: r.assignee_name.unwrap_or_default(),
                sla_text,
                sla_class,
                last: when(c.last_inbound_at),
                channel: c.channel.clone(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: Tr,
    nav: Option<Nav>,
    q: InboxQuery,
    view: String,
    counts: loket_store::conversations::InboxCounts,
    items: Vec<InboxItem>,
    tenants: Vec<(String, String)>,
    labels: Vec<String>,
    query_string: String,
}

#[derive(Template)]
#[template(path = "inbox_list.html")]
struct InboxList {
    t: Tr,
    items: Vec<InboxItem>,
}

async fn inbox_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    q: Query<InboxQuery>,
    raw: axum::extract::RawQuery,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let t = tr(&headers, &user);
    let rows = match service::inbox(&state, &user, &q).await {
        Ok(r) => r,
        Err(e) => return page_error(e, t.0),
    };
    let counts = state
        .store
        .inbox_counts(&user.visible, user.id, loket_store::now_ms())
        .await
        .unwrap_or_default();
    let labels = state
        .store
        .labels_in_use(&user.visible)
        .await
        .unwrap_or_default();
    let all = state.tenants();
    let tenants = user
        .visible
        .iter()
        .filter_map(|c| all.get(c))
        .map(|t| (t.code.clone(), t.display_name.clone()))
        .collect();
    page(&InboxPage {
        t,
        nav: Some(Nav::of(&user, "inbox")),
        view: q.view.clone().unwrap_or_else(|| "all".into()),
        q: q.0,
        counts,
        items: items(&state, &user, rows),
        tenants,
        labels,
        query_string: raw.0.unwrap_or_default(),
    })
}

async fn inbox_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    q: Query<InboxQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let rows = match service::inbox(&state, &user, &q).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let mut r = page(&InboxList {
        t: tr(&headers, &user),
        items: items(&state, &user, rows),
    });
    // The tab counts travel along so that a live refresh keeps them current.
    if let Ok(c) = state
        .store
        .inbox_counts(&user.visible, user.id, loket_store::now_ms())
        .await
    {
        let counts = serde_json::json!({
            "all": c.nieuw + c.open + c.wachtend,
            "mine": c.mine,
            "unassigned": c.unassigned,
            "breached": c.breached,
        });
        if let Ok(v) = HeaderValue::from_str(&counts.to_string()) {
            r.headers_mut().insert("x-loket-counts", v);
        }
    }
    r
}

// ---------------------------------------------------------------- conversation

pub struct MessageView {
    pub id: i64,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub when: String,
    pub delivery: String,
    pub failed: bool,
    /// (attachment id, file name, size or platform note) of the files that came with it.
    pub attachments: Vec<(i64, String, String)>,
}

pub struct EventView {
    pub when: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    t: Tr,
    csrf: String,
    conversation_id: i64,
    nav: Option<Nav>,
    c: loket_store::ConversationRow,
    tenant_name: String,
    tenant_colour: String,
    via_pool: bool,
    contact: String,
    identities: Vec<String>,
    messages: Vec<MessageView>,
    events: Vec<EventView>,
    labels: Vec<String>,
    earlier: Vec<(i64, String, String, String)>,
    templates: Vec<(i64, String)>,
    agents: Vec<(i64, String)>,
    teams: Vec<(i64, String)>,
    transfer_targets: Vec<(String, String)>,
    can_transfer: bool,
    draft: String,
    error: Option<String>,
    sla_text: String,
    sla_class: &'static str,
    sla_kind: String,
    privacy_warning: bool,
    evidence: Vec<String>,
    /// Sub-topics for the correction picker: (code, label).
    topics: Vec<(String, String)>,
    topic_label: String,
    /// One-click municipality choices in national triage: (code, name, percent).
    candidates: Vec<(String, String, u32)>,
    language: String,
    sentiment: String,
    signalen: SignalenCard,
    /// The platform's customer-service window has closed (WhatsApp, Messenger, Instagram).
    window_notice: Option<String>,
}

/// The Signalen card: hidden unless the topic is a report with a Signalen category.
pub struct SignalenCard {
    pub applies: bool,
    pub configured: bool,
    /// `""` (not forwarded), `wachtrij`, `afgeleverd` or `mislukt`.
    pub state: String,
    pub display_id: String,
    pub message_id: i64,
    pub last_error: String,
}

impl ConversationPage {
    fn is_assignee(&self, id: &i64) -> bool {
        self.c.assignee_id == Some(*id)
    }
    fn is_topic(&self, code: &str) -> bool {
        self.c.topic.as_deref() == Some(code)
    }
    fn is_team(&self, id: &i64) -> bool {
        self.c.team_id == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPartial {
    t: Tr,
    messages: Vec<MessageView>,
    csrf: String,
    conversation_id: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConversationQuery {
    template: Option<i64>,
    fout: Option<String>,
}

fn message_views(
    state: &AppState,
    messages: &[loket_store::MessageRow],
    attachments: &[loket_store::AttachmentRow],
) -> Vec<MessageView> {
    messages
        .iter()
        .map(|m| {
            let w = service::wire(state, m);
            MessageView {
                id: m.id,
                direction: m.direction.clone(),
                author: w.author,
                body: m.body.clone(),
                when: when(m.created_at),
                delivery: m.delivery_state.clone().unwrap_or_default(),
                failed: m.delivery_state.as_deref() == Some("mislukt"),
                attachments: attachments
                    .iter()
                    .filter(|a| a.message_id == m.id)
                    .map(|a| {
                        let size = if a.size > 0 {
                            format!("{} kB", (a.size + 1023) / 1024)
                        } else {
                            "op het platform".into()
                        };
                        (a.id, a.filename.clone(), size)
                    })
                    .collect(),
            }
        })
        .collect()
}

async fn conversation_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<i64>,
    Query(q): Query<ConversationQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let t = tr(&headers, &user);
    match conversation_view(&state, &user, t, id, q).await {
        Ok(p) => page(&p),
        Err(e) => page_error(e, t.0),
    }
}

async fn conversation_view(
    state: &AppState,
    user: &CurrentUser,
    t: Tr,
    id: i64,
    q: ConversationQuery,
) -> Result<ConversationPage, AppError> {
    let v = service::conversation(state, user, id).await?;
    service::opened(state, user, id).await?;
    let c = v.conversation;
    let tenant = state.tenant(&c.tenant_code).ok_or(AppError::NotFound)?;
    let draft = match q.template {
        Some(tid) => service::render_template(state, user, id, tid)
            .await
            .unwrap_or_default(),
        None => String::new(),
    };
    let templates = service::templates_for(state, &c.tenant_code)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    let mut codes = vec![c.tenant_code.clone()];
    if let Some(p) = &tenant.pool_code {
        codes.push(p.clone());
    }
    let agents = state
        .store
        .tenant_users(&codes)
        .await?
        .into_iter()
        .filter(|(_, ms)| ms.iter().any(|m| m.role == "agent"))
        .map(|(u, _)| (u.id, u.name))
        .collect();
    let teams = state
        .store
        .teams(std::slice::from_ref(&c.tenant_code))
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let can_transfer = user.may_transfer_from(&c.tenant_code, state);
    let mut transfer_targets: Vec<(String, String)> = if can_transfer {
        state
            .tenants()
            .values()
            .filter(|t| t.code != c.tenant_code && t.kind == loket_core::TenantKind::Gemeente)
            .map(|t| (t.code.clone(), t.display_name.clone()))
            .collect()
    } else {
        vec![]
    };
    transfer_targets.sort_by(|a, b| a.1.cmp(&b.1));
    let (sla_text, sla_class) = sla_cell(&c);
    let sla_kind = service::sla_of(&c)
        .map(|(k, _)| k.to_string())
        .unwrap_or_default();
    let evidence = v
        .events
        .iter()
        .filter(|e| e.kind == "routering" || e.kind == "triage" || e.kind == "spoed")
        .map(|e| e.detail.clone())
        .collect();
    let privacy_warning = v.events.iter().any(|e| e.kind == "privacy");
    let analysis: serde_json::Value = c
        .analysis
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let candidates = if c.tenant_code == loket_core::TenantCode::NATIONAL && can_transfer {
        analysis["candidates"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|g| {
                        let code = g["code"].as_str()?;
                        let name = state.tenant(code)?.display_name;
                        Some((
                            code.to_string(),
                            name,
                            (g["confidence"].as_f64().unwrap_or(0.0) * 100.0).round() as u32,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        vec![]
    };
    let topic_label = c
        .topic
        .as_deref()
        .and_then(loket_text::topics::get)
        .map(|tp| if t.is_en() { tp.label_en } else { tp.label_nl }.to_string())
        .unwrap_or_default();
    let topics = loket_text::topics::all()
        .iter()
        .filter(|t| t.kind != "group")
        .map(|tp| {
            (
                tp.code.to_string(),
                if t.is_en() { tp.label_en } else { tp.label_nl }.to_string(),
            )
        })
        .collect();
    let forward = state.store.signalen_status(id).await?;
    let signalen = SignalenCard {
        applies: crate::signalen::sub_category(c.topic.as_deref()).is_some() || forward.is_some(),
        configured: tenant.settings.signalen_url.is_some(),
        state: forward
            .as_ref()
            .map(|f| f.state.clone().unwrap_or_else(|| "wachtrij".into()))
            .unwrap_or_default(),
        display_id: forward
            .as_ref()
            .and_then(|f| f.signal_id.as_deref())
            .map(crate::signalen::display_id)
            .unwrap_or_default(),
        message_id: forward.as_ref().map(|f| f.message_id).unwrap_or(0),
        last_error: forward.and_then(|f| f.last_error).unwrap_or_default(),
    };
    Ok(ConversationPage {
        signalen,
        t,
        csrf: user.csrf.clone(),
        conversation_id: id,
        nav: Some(Nav::of(user, "inbox")),
        tenant_name: tenant.display_name.clone(),
        tenant_colour: tenant.settings.primary_color.clone(),
        via_pool: !user.roles.contains_key(&c.tenant_code),
        contact: v.contact_name,
        identities: v
            .identities
            .iter()
            .map(|i| format!("{} ({})", i.display_name, i.channel))
            .collect(),
        messages: message_views(state, &v.messages, &v.attachments),
        events: v
            .events
            .iter()
            .map(|e| EventView {
                when: when(e.created_at),
                actor: e.actor_name.clone(),
                kind: e.kind.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
        labels: v.labels,
        earlier: v
            .earlier
            .iter()
            .map(|e| {
                (
                    e.id,
                    e.subject.clone(),
                    ConversationState::parse(&e.state)
                        .map(|s| s.label_nl())
                        .unwrap_or("")
                        .to_string(),
                    when(e.created_at),
                )
            })
            .collect(),
        templates,
        agents,
        teams,
        transfer_targets,
        can_transfer,
        draft,
        error: q.fout,
        sla_text,
        sla_class,
        sla_kind,
        privacy_warning,
        evidence,
        topics,
        topic_label,
        candidates,
        window_notice: crate::channels::window_notice(state, &c).await,
        language: analysis["language"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        sentiment: analysis["sentiment"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        c,
    })
}

async fn thread_partial(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<i64>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    match service::conversation(&state, &user, id).await {
        Ok(v) => page(&ThreadPartial {
            t: tr(&headers, &user),
            messages: message_views(&state, &v.messages, &v.attachments),
            csrf: user.csrf.clone(),
            conversation_id: id,
        }),
        Err(e) => e.into_response(),
    }
}

/// `GET /bijlagen/{id}`: an attachment's bytes, for an agent who may see its conversation.
/// Always a download (never rendered inline), so a hostile HTML or SVG file cannot run here.
async fn attachment(
    State(state): State<AppState>,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<i64>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let found = match state.store.attachment_data(id, &user.visible).await {
        Ok((a, None, Some(account))) if a.reference.is_some() => {
            crate::channels::fetch_attachment(&state, account, &a)
                .await
                .map(|data| (a, Some(data)))
        }
        Ok((a, data, _)) => Ok((a, data)),
        Err(e) => Err(AppError::from(e)),
    };
    match found {
        Ok((a, Some(data))) => {
            let name: String = a
                .filename
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                data,
            )
                .into_response()
        }
        Ok((_, None)) => AppError::NotFound.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: String,
    body: String,
    #[serde(default)]
    kind: String,
}

fn back_with_error(id: i64, e: &AppError) -> Response {
    let msg: String = url::form_urlencoded::byte_serialize(e.to_string().as_bytes()).collect();
    Redirect::to(&format!("/conversations/{id}?fout={msg}#reply")).into_response()
}

async fn reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    if let Err(e) = user.check_csrf(&f.csrf) {
        return page_error(e, lang_of(&headers));
    }
    match service::reply(&state, &user, id, &f.body, f.kind == "note").await {
        Ok(_) => Redirect::to(&format!("/conversations/{id}")).into_response(),
        Err(AppError::NotFound) => page_error(AppError::NotFound, lang_of(&headers)),
        Err(e) => back_with_error(id, &e),
    }
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    value: String,
    version: Option<i64>,
    /// With "resolve": a note for the back office (becomes an internetaak in Klantinteracties).
    #[serde(default)]
    follow_up: String,
}

async fn action(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    if let Err(e) = user.check_csrf(&f.csrf) {
        return page_error(e, lang_of(&headers));
    }
    // Out of scope is "not found", whatever the action.
    if state.store.conversation(id, &user.visible).await.is_err() {
        return page_error(AppError::NotFound, lang_of(&headers));
    }
    let v = f.value.trim().to_string();
    let change = match f.action.as_str() {
        "state" => match ConversationState::parse(&v) {
            Some(s) => Change::State(s),
            None => {
                return back_with_error(id, &AppError::Invalid(format!("onbekende status '{v}'")));
            }
        },
        "assign" => match v.as_str() {
            "" => Change::Assign(None),
            "me" => Change::Assign(Some((user.id, user.name.clone()))),
            n => match n.parse() {
                Ok(uid) => Change::Assign(Some((uid, String::new()))),
                Err(_) => {
                    return back_with_error(id, &AppError::Invalid("onbekende medewerker".into()));
                }
            },
        },
        "team" => match v.as_str() {
            "" => Change::Team(None),
            n => match n.parse() {
                Ok(tid) => Change::Team(Some((tid, String::new()))),
                Err(_) => return back_with_error(id, &AppError::Invalid("onbekend team".into())),
            },
        },
        "priority" => Change::Priority(v),
        "label_add" => Change::AddLabel(v),
        "label_remove" => Change::RemoveLabel(v),
        "topic" => Change::Topic(v),
        "transfer" => Change::Transfer {
            to: v,
            to_name: String::new(),
        },
        "link" => {
            let other: i64 = v.trim_start_matches('#').parse().unwrap_or(0);
            return match state
                .store
                .link_contacts(id, other, &user.visible, &service::actor(&user))
                .await
            {
                Ok(()) => Redirect::to(&format!("/conversations/{id}")).into_response(),
                Err(e) => back_with_error(id, &e.into()),
            };
        }
        "signalen" => {
            let r = async {
                let c = state.store.conversation(id, &user.visible).await?;
                crate::signalen::forward(&state, &c, &user.visible, &service::actor(&user)).await
            }
            .await;
            return match r {
                Ok(_) => Redirect::to(&format!("/conversations/{id}")).into_response(),
                Err(AppError::NotFound) => page_error(AppError::NotFound, lang_of(&headers)),
                Err(e) => back_with_error(id, &e),
            };
        }
        "retry" => {
            let mid: i64 = v.parse().unwrap_or(0);
            let ok = state
                .store
                .message(mid)
                .await
                .map(|m| m.conversation_id == id)
                .unwrap_or(false);
            if ok {
                let _ = state.store.outbox_retry(mid).await;
                state.outbox_wake.notify_one();
            }
            return Redirect::to(&format!("/conversations/{id}")).into_response();
        }
        other => {
            return back_with_error(id, &AppError::Invalid(format!("onbekende actie '{other}'")));
        }
    };
    let transferred = matches!(change, Change::Transfer { .. });
    let follow_up = Some(f.follow_up.trim()).filter(|s| !s.is_empty());
    match service::change_with(&state, &user, id, f.version, change, follow_up).await {
        Ok(c) if transferred && !user.can_see(&c.tenant_code) => {
            Redirect::to("/inbox").into_response()
        }
        Ok(_) => Redirect::to(&format!("/conversations/{id}")).into_response(),
        Err(AppError::NotFound) => page_error(AppError::NotFound, lang_of(&headers)),
        Err(e) => back_with_error(id, &e),
    }
}

// ---------------------------------------------------------------- search

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: Tr,
    nav: Option<Nav>,
    q: String,
    hits: Vec<(Option<i64>, String, String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQ {
    q: String,
}

async fn search_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Query(q): Query<SearchQ>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let t = tr(&headers, &user);
    let query: String = q.q.chars().take(200).collect();
    let hits = state
        .store
        .search(&user.visible, &query, 50)
        .await
        .unwrap_or_default();
    let kind = |k: &str| match k {
        "message" => "Bericht",
        "note" => "Notitie",
        "contact" => "Inwoner",
        _ => "",
    };
    let hits = hits
        .into_iter()
        .map(|h| {
            (
                h.conversation_id,
                kind(&h.kind).to_string(),
                state.tenant_label(&h.tenant_code),
                h.snippet,
            )
        })
        .collect();
    page(&SearchPage {
        t,
        nav: Some(Nav::of(&user, "search")),
        q: query,
        hits,
    })
}

// ---------------------------------------------------------------- algorithm explanation

#[derive(Template)]
#[template(path = "uitleg.html")]
struct ExplanationPage {
    t: Tr,
    nav: Option<Nav>,
}

/// Public page for residents and the algorithm register: what the text engine does.
async fn explanation(headers: HeaderMap, user: Result<CurrentUser, AppError>) -> Response {
    let nav = user.as_ref().ok().map(|u| Nav::of(u, ""));
    page(&ExplanationPage {
        t: Tr(lang_of(&headers)),
        nav,
    })
}

#[derive(Template)]
#[template(path = "cijfers.html")]
struct FiguresPage {
    t: Tr,
    nav: Option<Nav>,
    figures: &'static [loket_core::metrics::FigureDef],
}

/// Public page with the definition of every figure, straight from the code (the same list
/// `docs/metrics.md` is checked against), so a dashboard number can always be looked up.
async fn figure_definitions(headers: HeaderMap, user: Result<CurrentUser, AppError>) -> Response {
    let nav = user.as_ref().ok().map(|u| Nav::of(u, ""));
    // Logged in: the user's language when no switch was used, as on the dashboards.
    let t = match &user {
        Ok(u) => tr(&headers, u),
        Err(_) => Tr(lang_of(&headers)),
    };
    page(&FiguresPage {
        t,
        nav,
        figures: loket_core::metrics::FIGURES,
    })
}

// ---------------------------------------------------------------- widget demo, API reference

async fn widget_demo(State(state): State<AppState>, Path(tenant): Path<String>) -> Response {
    let Some(t) = loket_core::TenantCode::parse(&tenant)
        .ok()
        .and_then(|c| state.tenant(c.as_str()))
    else {
        return error_page(StatusCode::NOT_FOUND, "Onbekende gemeente.", &Lang::Nl);
    };
    let html = include_str!("../assets/widget-demo.html")
        .replace("GM0344", &t.code)
        .replace("Gemeente Utrecht", &t.display_name);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    t: Tr,
    nav: Option<Nav>,
    ops: Vec<(String, String, String, String)>,
}

/// A reference page rendered from the OpenAPI document (no external scripts).
pub fn api_reference() -> Response {
    use utoipa::OpenApi;
    let doc = crate::api::ApiDoc::openapi();
    let mut ops = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (m, op) in methods {
            if let Some(op) = op {
                let summary = op
                    .summary
                    .clone()
                    .or_else(|| op.description.clone())
                    .unwrap_or_default();
                let codes = op
                    .responses
                    .responses
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                ops.push((m.to_string(), path.clone(), summary, codes));
            }
        }
    }
    page(&ApiDocsPage {
        t: Tr(Lang::Nl),
        nav: None,
        ops,
    })
}

/// Whether the user may administer anything at all (for the nav).
pub fn is_admin(user: &CurrentUser) -> bool {
    user.roles.values().any(|r| r.contains(&Role::Beheerder))
}
