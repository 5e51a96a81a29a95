//! Tenant administration: branding, business hours, service levels, pool handover, teams,
//! users and roles, answer templates and API keys — as server-rendered pages under
//! `/admin/{code}/…` and as JSON under `/api/v1/tenants/{code}/…`.
//!
//! Only a beheerder of the tenant itself may change it. A tenant the user cannot see answers 404;
//! one they see but do not administer answers 403. Both the pages and the API go through the same
//! validating functions, so a value the form refuses is refused by the API too.

use crate::auth::{self, CurrentUser};
use crate::error::{ApiJson, AppError, AppResult, Problem};
use crate::i18n::{Lang, Tr, lang_of};
use crate::service;
use crate::state::{AppState, Tenant};
use crate::ui::{self, Nav, page};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use loket_core::calendar::{self, WeekSchedule};
use loket_core::sla::SlaTargets;
use loket_core::tenant::{
    PoolHandover, TenantSettings, contrast_ratio, text_color_on, valid_color,
};
use loket_core::{Priority, Role, TenantCode, TenantKind};
use loket_store::admin::ApiKeyInfo;
use loket_store::{TemplateRow, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// ---------------------------------------------------------------- routers

/// The pages, merged into the UI router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_home))
        .route("/admin/{code}", get(tenant_home))
        .route("/admin/{code}/admin.css", get(admin_css))
        .route("/admin/{code}/huisstijl", get(brand_page).post(brand_save))
        .route(
            "/admin/{code}/openingstijden",
            get(hours_page).post(hours_save),
        )
        .route("/admin/{code}/servicenormen", get(sla_page).post(sla_save))
        .route("/admin/{code}/regiopool", get(pool_page).post(pool_save))
        .route("/admin/{code}/teams", get(teams_page).post(team_create))
        .route("/admin/{code}/teams/toewijzing", post(auto_assign_save))
        .route("/admin/{code}/teams/{id}/verwijderen", post(team_delete))
        .route("/admin/{code}/teams/{id}/leden", post(team_member))
        .route("/admin/{code}/medewerkers", get(users_page).post(user_add))
        .route("/admin/{code}/medewerkers/{id}/rollen", post(user_role))
        .route(
            "/admin/{code}/medewerkers/{id}/capaciteit",
            post(user_capacity),
        )
        .route(
            "/admin/{code}/standaardantwoorden",
            get(templates_page).post(template_create),
        )
        .route(
            "/admin/{code}/standaardantwoorden/{id}",
            post(template_update),
        )
        .route(
            "/admin/{code}/standaardantwoorden/{id}/verwijderen",
            post(template_delete),
        )
        .route(
            "/admin/{code}/standaardantwoorden/{id}/overnemen",
            post(template_override),
        )
        .route("/admin/{code}/kanalen", get(keys_page).post(key_create))
        .merge(crate::channel_admin::router())
        .route("/admin/{code}/klantinteracties", get(ki_page).post(ki_save))
        .route("/admin/{code}/klantinteracties/test", post(ki_test))
        .route("/admin/{code}/kanalen/{id}/verwijderen", post(key_delete))
        .route(
            "/admin/{code}/signalen",
            get(signalen_page).post(signalen_save),
        )
}

/// The JSON API, merged into the `/api/v1` router.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/tenants/{code}/settings",
            get(api_settings).put(api_put_settings),
        )
        .route(
            "/tenants/{code}/teams",
            get(api_teams).post(api_create_team),
        )
        .route("/tenants/{code}/teams/{id}", delete(api_delete_team))
        .route(
            "/tenants/{code}/teams/{id}/members/{user}",
            put(api_add_member).delete(api_remove_member),
        )
        .route("/tenants/{code}/users", get(api_users).post(api_add_user))
        .route("/tenants/{code}/users/{id}", put(api_update_user))
        .route(
            "/tenants/{code}/users/{id}/roles/{role}",
            put(api_grant).delete(api_revoke),
        )
        .route(
            "/tenants/{code}/templates",
            get(api_templates).post(api_create_template),
        )
        .route(
            "/tenants/{code}/templates/{id}",
            put(api_update_template).delete(api_delete_template),
        )
        .route(
            "/tenants/{code}/api-keys",
            get(api_keys).post(api_create_key),
        )
        .route("/tenants/{code}/api-keys/{id}", delete(api_delete_key))
}

// ---------------------------------------------------------------- access

/// The tenant `code` if `user` administers it: 404 when they cannot see it at all, 403 when they
/// see it but are not its beheerder.
pub fn admin_tenant(state: &AppState, user: &CurrentUser, code: &str) -> AppResult<Tenant> {
    let code = TenantCode::parse(code).map_err(|_| AppError::NotFound)?;
    let tenant = state.tenant(code.as_str()).ok_or(AppError::NotFound)?;
    if !user.roles.contains_key(&tenant.code) && !user.can_see(&tenant.code) {
        return Err(AppError::NotFound);
    }
    service::require_admin(user, &tenant.code)?;
    Ok(tenant)
}

fn parse_id(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------- validation (shared by form and API)

const MAX_NAME: usize = 100;
const MAX_SIGNATURE: usize = 1000;
const MAX_GREETING: usize = 500;
/// A year of minutes: the largest service-level target accepted.
const MAX_TARGET_MINUTES: u32 = 525_600;
const MAX_BACKLOG: u32 = 100_000;
const MAX_TEMPLATE_BODY: usize = 4000;

fn too_long(s: &str, max: usize) -> bool {
    s.chars().count() > max
}

/// Trims text fields and lower-cases colours; an empty logo URL means none.
pub fn normalize(display_name: &str, mut s: TenantSettings) -> (String, TenantSettings) {
    s.primary_color = s.primary_color.trim().to_lowercase();
    s.accent_color = s.accent_color.trim().to_lowercase();
    s.logo_url = s
        .logo_url
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    s.signature = s.signature.trim().replace("\r\n", "\n");
    s.greeting_nl = s.greeting_nl.trim().to_string();
    s.greeting_en = s.greeting_en.trim().to_string();
    s.signalen_url = s
        .signalen_url
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    (display_name.trim().to_string(), s)
}

/// Everything a tenant admin may set, checked once for the form and the API alike.
pub fn validate(display_name: &str, s: &TenantSettings) -> AppResult<()> {
    let invalid = |m: &str| Err(AppError::Invalid(m.to_string()));
    if let Some(u) = &s.signalen_url
        && !crate::signalen::valid_base_url(u)
    {
        return invalid(
            "ongeldig Signalen-adres: gebruik https://… (http alleen voor localhost), zonder pad na de domeinnaam",
        );
    }
    if let Some(c) = s.signalen_auto_min_confidence
        && !(0.0..=1.0).contains(&c)
    {
        return invalid("de drempel voor automatisch doorsturen moet tussen 0 en 100% liggen");
    }
    if display_name.is_empty() || too_long(display_name, MAX_NAME) {
        return invalid("de weergavenaam moet 1 tot 100 tekens hebben");
    }
    if !valid_color(&s.primary_color) {
        return Err(AppError::Invalid(format!(
            "ongeldige hoofdkleur '{}': gebruik een hexadecimale kleur zoals #154273",
            s.primary_color
        )));
    }
    if !valid_color(&s.accent_color) {
        return Err(AppError::Invalid(format!(
            "ongeldige accentkleur '{}': gebruik een hexadecimale kleur zoals #ffffff",
            s.accent_color
        )));
    }
    if let Some(u) = &s.logo_url {
        let ok = u.len() <= 500
            && url::Url::parse(u)
                .map(|p| p.scheme() == "https" && p.host_str().is_some_and(|h| !h.is_empty()))
                .unwrap_or(false);
        if !ok {
            return invalid("het logo-adres moet een volledige https://-URL zijn");
        }
    }
    if too_long(&s.signature, MAX_SIGNATURE) {
        return invalid("de ondertekening mag hoogstens 1000 tekens hebben");
    }
    if s.greeting_nl.is_empty() || too_long(&s.greeting_nl, MAX_GREETING) {
        return invalid("de Nederlandse welkomsttekst moet 1 tot 500 tekens hebben");
    }
    if s.greeting_en.is_empty() || too_long(&s.greeting_en, MAX_GREETING) {
        return invalid("de Engelse welkomsttekst moet 1 tot 500 tekens hebben");
    }
    WeekSchedule::new(s.hours.days).map_err(|e| AppError::Invalid(e.to_string()))?;
    for p in Priority::ALL {
        let i = p as usize;
        let (first, res) = (s.sla.first_response_minutes[i], s.sla.resolution_minutes[i]);
        if first == 0 || res == 0 || first > MAX_TARGET_MINUTES || res > MAX_TARGET_MINUTES {
            return Err(AppError::Invalid(format!(
                "servicenorm {}: gebruik 1 tot {MAX_TARGET_MINUTES} minuten",
                p.as_str()
            )));
        }
        if first > res {
            return Err(AppError::Invalid(format!(
                "servicenorm {}: de eerste reactie ({first} min) mag niet later zijn dan de oplossing ({res} min)",
                p.as_str()
            )));
        }
    }
    if let PoolHandover::Backlog { n } = s.handover
        && n > MAX_BACKLOG
    {
        return invalid("het aantal wachtende gesprekken is te groot");
    }
    Ok(())
}

/// Readability warnings (not errors) for the brand colours, in the page's language.
pub fn warnings(s: &TenantSettings, en: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !valid_color(&s.primary_color) {
        return out;
    }
    let white = contrast_ratio(&s.primary_color, "#ffffff");
    if white < 4.5 {
        out.push(if en {
            format!(
                "White text on the primary colour has a contrast of {white:.1}:1, below the 4.5:1 WCAG AA needs; dark text is used instead."
            )
        } else {
            format!(
                "Witte tekst op de hoofdkleur heeft een contrast van {white:.1}:1, minder dan de 4,5:1 die WCAG AA vraagt; er wordt donkere tekst gebruikt."
            )
        });
    }
    if valid_color(&s.accent_color) {
        let accent = contrast_ratio(&s.primary_color, &s.accent_color);
        if accent < 4.5 {
            out.push(if en {
                format!(
                    "The accent colour on the primary colour has a contrast of {accent:.1}:1 (below 4.5:1); the widget uses white or dark text instead."
                )
            } else {
                format!(
                    "De accentkleur op de hoofdkleur heeft een contrast van {accent:.1}:1 (minder dan 4,5:1); de widget gebruikt dan witte of donkere tekst."
                )
            });
        }
    }
    out
}

/// The text colour the widget uses on the primary colour (same rule as `widget.js`).
fn foreground(s: &TenantSettings) -> String {
    if valid_color(&s.accent_color)
        && valid_color(&s.primary_color)
        && contrast_ratio(&s.primary_color, &s.accent_color) >= 4.5
    {
        s.accent_color.clone()
    } else {
        text_color_on(&s.primary_color).to_string()
    }
}

/// Validates and stores a tenant's settings, then refreshes the tenant cache.
pub async fn save_settings(
    state: &AppState,
    tenant: &Tenant,
    display_name: &str,
    settings: TenantSettings,
) -> AppResult<(String, TenantSettings)> {
    let (display_name, settings) = normalize(display_name, settings);
    validate(&display_name, &settings)?;
    state
        .store
        .update_tenant_settings(&tenant.code, &display_name, &settings.to_json())
        .await?;
    state.reload_tenants().await?;
    tracing::info!(tenant = %tenant.code, "tenant settings changed");
    Ok((display_name, settings))
}

fn variable_docs() -> Vec<(&'static str, &'static str)> {
    loket_core::template::KNOWN_VARIABLES.to_vec()
}

/// A template key: lower-case letters, digits and dashes, like the national ones (`melding-ontvangen`).
fn check_template(key: &str, title: &str, body: &str) -> AppResult<()> {
    use loket_core::template;
    let key_ok = !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !key_ok {
        return Err(AppError::Invalid(
            "de sleutel mag alleen kleine letters, cijfers en streepjes bevatten (hoogstens 40), zoals melding-ontvangen".into(),
        ));
    }
    if title.is_empty() || too_long(title, MAX_NAME) {
        return Err(AppError::Invalid(
            "de titel moet 1 tot 100 tekens hebben".into(),
        ));
    }
    if body.is_empty() || too_long(body, MAX_TEMPLATE_BODY) {
        return Err(AppError::Invalid(format!(
            "de tekst moet 1 tot {MAX_TEMPLATE_BODY} tekens hebben"
        )));
    }
    template::check(body).map_err(|e| AppError::Invalid(e.to_string()))
}

fn check_team_name(name: &str) -> AppResult<()> {
    if name.is_empty() || too_long(name, 60) {
        return Err(AppError::Invalid(
            "een teamnaam heeft 1 tot 60 tekens".into(),
        ));
    }
    Ok(())
}

fn conflict_as(e: loket_store::StoreError, msg: &str) -> AppError {
    match e {
        loket_store::StoreError::Conflict(_) => AppError::Conflict(msg.into()),
        e => e.into(),
    }
}

// ---------------------------------------------------------------- operations (shared)

async fn create_team(state: &AppState, tenant: &str, name: &str) -> AppResult<i64> {
    let name = name.trim();
    check_team_name(name)?;
    state
        .store
        .create_team(tenant, name)
        .await
        .map_err(|e| conflict_as(e, "er bestaat al een team met deze naam"))
}

/// Adds or removes a team member; only users with a role in this tenant can join its teams.
async fn set_member(
    state: &AppState,
    tenant: &str,
    team: i64,
    user_id: i64,
    member: bool,
) -> AppResult<()> {
    if member && !works_for(state, tenant, user_id).await? {
        return Err(AppError::Invalid(
            "deze medewerker heeft geen rol in deze gemeente".into(),
        ));
    }
    Ok(state
        .store
        .set_team_member(tenant, team, user_id, member)
        .await?)
}

async fn works_for(state: &AppState, tenant: &str, user_id: i64) -> AppResult<bool> {
    Ok(state
        .store
        .tenant_users(&[tenant.to_string()])
        .await?
        .iter()
        .any(|(u, _)| u.id == user_id))
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role.trim())
        .ok_or_else(|| AppError::Invalid(format!("onbekende rol '{}'", role.trim())))
}

/// The result of adding a user: a new account comes with a password that is shown only once.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserAdded {
    pub user_id: i64,
    /// False when the e-mail address already had an account and only the role was granted.
    pub created: bool,
    /// The generated password of a new account; shown this once and never stored in clear.
    pub password: Option<String>,
}

async fn add_user(
    state: &AppState,
    tenant: &str,
    email: &str,
    name: &str,
    role: &str,
) -> AppResult<UserAdded> {
    let email = loket_core::Email::parse(email)
        .map_err(|_| AppError::Invalid("ongeldig e-mailadres".into()))?;
    let role = parse_role(role)?;
    if let Ok(u) = state.store.user_by_email(email.as_str()).await {
        state.store.grant(u.id, tenant, role.as_str()).await?;
        return Ok(UserAdded {
            user_id: u.id,
            created: false,
            password: None,
        });
    }
    let name = name.trim();
    if name.is_empty() || too_long(name, MAX_NAME) {
        return Err(AppError::Invalid(
            "geef de naam van de nieuwe medewerker (1 tot 100 tekens)".into(),
        ));
    }
    let password = auth::random_token();
    let hash = {
        let p = password.clone();
        tokio::task::spawn_blocking(move || auth::hash_password(&p))
            .await
            .map_err(anyhow::Error::from)??
    };
    let id = match state.store.create_user(email.as_str(), name, &hash).await {
        Ok(id) => id,
        // Created by someone else a moment ago: grant the role to that account.
        Err(loket_store::StoreError::Conflict(_)) => {
            let u = state.store.user_by_email(email.as_str()).await?;
            state.store.grant(u.id, tenant, role.as_str()).await?;
            return Ok(UserAdded {
                user_id: u.id,
                created: false,
                password: None,
            });
        }
        Err(e) => return Err(e.into()),
    };
    state.store.grant(id, tenant, role.as_str()).await?;
    tracing::info!(tenant, user_id = id, "user created by tenant admin");
    Ok(UserAdded {
        user_id: id,
        created: true,
        password: Some(password),
    })
}

async fn grant(state: &AppState, tenant: &str, user_id: i64, role: &str) -> AppResult<()> {
    let role = parse_role(role)?;
    // Only users who already work here, or exist at all: granting by id needs the account.
    state.store.user(user_id).await?;
    state.store.grant(user_id, tenant, role.as_str()).await?;
    Ok(())
}

async fn revoke(
    state: &AppState,
    me: &CurrentUser,
    tenant: &str,
    user_id: i64,
    role: &str,
) -> AppResult<()> {
    let role = parse_role(role)?;
    if role == Role::Beheerder && user_id == me.id {
        return Err(AppError::Conflict(
            "u kunt uw eigen beheerdersrol niet intrekken; laat een andere beheerder dat doen"
                .into(),
        ));
    }
    Ok(state
        .store
        .revoke_role(tenant, user_id, role.as_str())
        .await?)
}

async fn set_capacity(state: &AppState, tenant: &str, user_id: i64, max: i64) -> AppResult<()> {
    if !(0..=100).contains(&max) {
        return Err(AppError::Invalid(
            "het maximum aantal open gesprekken ligt tussen 0 en 100".into(),
        ));
    }
    if !works_for(state, tenant, user_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(state.store.set_max_open(user_id, max).await?)
}

async fn create_template(
    state: &AppState,
    tenant: &str,
    key: &str,
    title: &str,
    body: &str,
) -> AppResult<i64> {
    let (key, title, body) = (key.trim(), title.trim(), body.trim());
    check_template(key, title, body)?;
    state
        .store
        .create_template(tenant, key, title, body)
        .await
        .map_err(|e| {
            conflict_as(
                e,
                "deze gemeente heeft al een standaardantwoord met die sleutel",
            )
        })
}

async fn update_template(
    state: &AppState,
    tenant: &str,
    id: i64,
    key: &str,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let (key, title, body) = (key.trim(), title.trim(), body.trim());
    check_template(key, title, body)?;
    state
        .store
        .update_template(tenant, id, key, title, body)
        .await
        .map_err(|e| {
            conflict_as(
                e,
                "deze gemeente heeft al een standaardantwoord met die sleutel",
            )
        })
}

/// Copies a national template into a tenant one with the same key (or returns the existing one).
async fn override_template(state: &AppState, tenant: &str, national_id: i64) -> AppResult<i64> {
    let all = state.store.templates(Some(tenant)).await?;
    let n = all
        .iter()
        .find(|t| t.id == national_id && t.tenant_code.is_none())
        .ok_or(AppError::NotFound)?;
    if let Some(own) = all
        .iter()
        .find(|t| t.tenant_code.as_deref() == Some(tenant) && t.key == n.key)
    {
        return Ok(own.id);
    }
    Ok(state
        .store
        .upsert_template(Some(tenant), &n.key, &n.title, &n.body)
        .await?)
}

/// A new API key: the key and the webhook secret are returned this once; only the key's
/// SHA-256 is stored.
#[derive(Serialize, ToSchema)]
pub struct KeyCreated {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub webhook_url: Option<String>,
    /// Send as `Authorization: Bearer <key>` to `POST /api/v1/inbound`.
    pub key: String,
    /// Replies are signed with HMAC-SHA256 under this secret.
    pub webhook_secret: String,
}

impl std::fmt::Debug for KeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCreated")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

async fn create_key(
    state: &AppState,
    tenant: &str,
    name: &str,
    channel: &str,
    webhook_url: Option<&str>,
) -> AppResult<KeyCreated> {
    let name = name.trim();
    let channel = match channel.trim() {
        "" => "api",
        c => c,
    };
    if name.is_empty() || too_long(name, 80) {
        return Err(AppError::Invalid(
            "geef de sleutel een naam (1 tot 80 tekens)".into(),
        ));
    }
    let channel_ok = channel.len() <= 30
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !channel_ok {
        return Err(AppError::Invalid(
            "de kanaalnaam mag alleen kleine letters, cijfers, '-' en '_' bevatten (hoogstens 30)"
                .into(),
        ));
    }
    let webhook_url = webhook_url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = webhook_url {
        let ok = u.len() <= 500
            && url::Url::parse(u)
                .map(|p| {
                    matches!(p.scheme(), "https" | "http")
                        && p.host_str().is_some_and(|h| !h.is_empty())
                })
                .unwrap_or(false);
        if !ok {
            return Err(AppError::Invalid(
                "de webhook-URL moet een volledige https:// (of http://) URL zijn".into(),
            ));
        }
    }
    let key = format!("lk_{}", auth::random_token());
    let secret = auth::random_token();
    let id = state
        .store
        .create_api_key(
            &auth::sha256_hex(&key),
            tenant,
            channel,
            name,
            webhook_url,
            Some(&secret),
        )
        .await?;
    tracing::info!(tenant, key_id = id, channel, "API key created");
    Ok(KeyCreated {
        id,
        name: name.to_string(),
        channel: channel.to_string(),
        webhook_url: webhook_url.map(str::to_string),
        key,
        webhook_secret: secret,
    })
}

// ---------------------------------------------------------------- local strings

/// The admin screens' own words, Dutch and English.
#[derive(Debug, Clone, Copy)]
pub struct L(pub Lang);

impl L {
    pub fn en(&self) -> bool {
        self.0 == Lang::En
    }

    pub fn s(&self, key: &str) -> &'static str {
        let (nl, en) = match key {
            "admin" => ("Beheer", "Administration"),
            "huisstijl" => ("Huisstijl", "Branding"),
            "openingstijden" => ("Openingstijden", "Business hours"),
            "servicenormen" => ("Servicenormen", "Service levels"),
            "regiopool" => ("Regiopool", "Regional pool"),
            "teams" => ("Teams", "Teams"),
            "medewerkers" => ("Medewerkers", "Staff"),
            "standaardantwoorden" => ("Standaardantwoorden", "Answer templates"),
            "kanalen" => ("Kanalen en API-sleutels", "Channels and API keys"),
            "klantinteracties" => ("Klantinteracties", "Klantinteracties"),
            "ki_intro" => (
                "Opgeloste gesprekken worden vastgelegd in de Klantinteracties-API (Open Klant) van de gemeente: een klantcontact met betrokkene, een onderwerpobject dat naar het gesprek wijst en, bij doorzetten naar de backoffice, een interne taak.",
                "Resolved conversations are recorded in the municipality's Klantinteracties API (Open Klant): a klantcontact with its betrokkene, an onderwerpobject pointing at the conversation and, when handed to the back office, an internetaak.",
            ),
            "ki_enabled" => (
                "Vastleggen in Klantinteracties",
                "Record in Klantinteracties",
            ),
            "ki_base_url" => ("Basis-URL van de API", "API base URL"),
            "ki_token" => ("Token", "Token"),
            "ki_token_set" => ("ingesteld", "set"),
            "ki_token_unset" => ("niet ingesteld", "not set"),
            "ki_token_help" => (
                "Wordt versleuteld opgeslagen en nooit getoond. Laat leeg om het huidige token te houden.",
                "Stored encrypted and never shown. Leave empty to keep the current token.",
            ),
            "ki_clear_token" => ("Token verwijderen", "Remove token"),
            "ki_redact" => ("PII redigeren in inhoud", "Redact personal data in content"),
            "ki_actor" => (
                "Actor-UUID voor backoffice-taken (optioneel)",
                "Actor UUID for back-office tasks (optional)",
            ),
            "ki_test" => ("Test verbinding", "Test connection"),
            "sections" => ("Onderdelen", "Sections"),
            "save" => ("Opslaan", "Save"),
            "delete" => ("Verwijderen", "Delete"),
            "add" => ("Toevoegen", "Add"),
            "remove" => ("Verwijderen", "Remove"),
            "other_tenant" => ("Andere gemeente", "Other municipality"),
            "open" => ("Openen", "Open"),
            "display_name" => ("Weergavenaam", "Display name"),
            "primary" => ("Hoofdkleur", "Primary colour"),
            "accent" => (
                "Accentkleur (tekst op de hoofdkleur)",
                "Accent colour (text on the primary colour)",
            ),
            "logo" => ("Logo-adres (https)", "Logo URL (https)"),
            "signature" => ("Ondertekening onder antwoorden", "Signature under replies"),
            "greeting_nl" => (
                "Welkomsttekst widget (Nederlands)",
                "Widget greeting (Dutch)",
            ),
            "greeting_en" => ("Welkomsttekst widget (Engels)", "Widget greeting (English)"),
            "preview" => ("Voorbeeld van een antwoord", "Preview of a reply"),
            "preview_body" => (
                "Beste inwoner,\n\nDank voor uw bericht. We hebben de losse stoeptegel doorgegeven aan de buitendienst.",
                "Dear resident,\n\nThank you for your message. We have passed the loose paving stone on to the field service.",
            ),
            "colour_hint" => ("bijvoorbeeld #154273", "for example #154273"),
            "hours_intro" => (
                "Per weekdag de openingstijden als 08:30-17:00; laat leeg voor gesloten. De servicenormen tellen alleen binnen deze tijden.",
                "Opening hours per weekday as 08:30-17:00; leave empty for closed. Service levels only count within these hours.",
            ),
            "closed" => ("gesloten", "closed"),
            "holidays" => ("Feestdagen", "Public holidays"),
            "holidays_intro" => (
                "Op deze dagen is de gemeente gesloten; de klok van de servicenormen staat dan stil (behalve bij spoed).",
                "The municipality is closed on these days; the service-level clock stops (except for urgent conversations).",
            ),
            "always_open" => (
                "Dit rooster is dag en nacht open, ook op feestdagen.",
                "This schedule is open around the clock, holidays included.",
            ),
            "sla_intro" => (
                "Binnen hoeveel minuten een gesprek een eerste reactie en een oplossing moet hebben, per prioriteit. Minuten tellen binnen de openingstijden.",
                "Within how many minutes a conversation needs a first response and a resolution, per priority. Minutes count within business hours.",
            ),
            "sla_spoed" => (
                "Spoed telt kloktijd: een spoedbericht op vrijdagavond wacht niet tot maandag.",
                "Urgent counts clock time: an urgent message on Friday evening does not wait until Monday.",
            ),
            "priority" => ("Prioriteit", "Priority"),
            "first_response" => ("Eerste reactie (min)", "First response (min)"),
            "resolution" => ("Oplossing (min)", "Resolution (min)"),
            "pool_intro" => (
                "Een gemeente kan haar inbox overdragen aan de regiopool: altijd, buiten de eigen openingstijden, of wanneer er meer dan N gesprekken wachten. Antwoorden gaan altijd uit in naam en huisstijl van de gemeente.",
                "A municipality can hand its inbox to the regional pool: always, outside its own business hours, or when more than N conversations wait. Replies always go out in the municipality's name and brand.",
            ),
            "pool" => ("Pool", "Pool"),
            "signalen" => ("Signalen", "Signalen"),
            "signalen_intro" => (
                "Meldingen over de openbare ruimte kunnen worden doorgestuurd naar het Signalen-systeem van de gemeente, met de categorie, de locatie en de tekst van de inwoner. Contactgegevens gaan alleen mee als de inwoner ze zelf gaf.",
                "Reports about public space can be forwarded to the municipality's Signalen system, with the category, the location and the resident's text. Contact details are only sent when the resident gave them.",
            ),
            "signalen_url" => (
                "Adres van Signalen (bijvoorbeeld https://meldingen.gemeente.nl)",
                "Signalen address (for example https://meldingen.gemeente.nl)",
            ),
            "signalen_auto" => (
                "Meldingen automatisch doorsturen",
                "Forward reports automatically",
            ),
            "signalen_min" => (
                "wanneer het onderwerp met minstens deze zekerheid is herkend (%)",
                "when the topic was recognised with at least this confidence (%)",
            ),
            "no_pool" => (
                "Deze gemeente hoort niet bij een regiopool.",
                "This municipality does not belong to a regional pool.",
            ),
            "mode_never" => (
                "Nooit — de gemeente beantwoordt haar eigen inbox",
                "Never — the municipality answers its own inbox",
            ),
            "mode_always" => (
                "Altijd — de pool beantwoordt alles",
                "Always — the pool answers everything",
            ),
            "mode_outside" => ("Buiten de openingstijden", "Outside business hours"),
            "mode_backlog" => (
                "Wanneer meer dan N gesprekken wachten",
                "When more than N conversations wait",
            ),
            "backlog_n" => ("N (wachtende gesprekken)", "N (waiting conversations)"),
            "take_back" => ("Inbox terugnemen", "Take the inbox back"),
            "serves_now" => (
                "De pool beantwoordt nu gesprekken van deze gemeente.",
                "The pool is answering this municipality's conversations now.",
            ),
            "not_serving" => (
                "De pool beantwoordt nu geen gesprekken van deze gemeente.",
                "The pool is not answering this municipality's conversations now.",
            ),
            "open_now" => ("Nu open", "Open now"),
            "closed_now" => ("Nu gesloten", "Closed now"),
            "waiting" => ("Wachtende gesprekken", "Waiting conversations"),
            "new_team" => ("Nieuw team", "New team"),
            "team_name" => ("Teamnaam", "Team name"),
            "members" => ("Leden", "Members"),
            "no_members" => ("Nog geen leden.", "No members yet."),
            "no_teams" => ("Nog geen teams.", "No teams yet."),
            "add_member" => ("Lid toevoegen", "Add member"),
            "auto_assign" => (
                "Nieuwe gesprekken automatisch verdelen over beschikbare medewerkers",
                "Distribute new conversations automatically among available staff",
            ),
            "name" => ("Naam", "Name"),
            "email" => ("E-mailadres", "E-mail address"),
            "roles" => ("Rollen", "Roles"),
            "role" => ("Rol", "Role"),
            "max_open" => ("Max. open gesprekken", "Max. open conversations"),
            "max_open_note" => (
                "Geldt voor de medewerker in alle gemeenten waarvoor die werkt.",
                "Applies to the person in every municipality they work for.",
            ),
            "add_user" => ("Medewerker toevoegen", "Add staff member"),
            "add_user_intro" => (
                "Bestaat het e-mailadres al, dan krijgt die medewerker de rol erbij. Anders wordt een account gemaakt met een wachtwoord dat u één keer te zien krijgt.",
                "If the e-mail address already has an account, that person gets the role. Otherwise an account is created with a password you see only once.",
            ),
            "grant" => ("Rol toekennen", "Grant role"),
            "revoke" => ("intrekken", "revoke"),
            "online" => ("beschikbaar", "available"),
            "you" => ("u", "you"),
            "national" => ("Landelijke standaardantwoorden", "National templates"),
            "own" => ("Eigen standaardantwoorden", "Own templates"),
            "overridden" => ("eigen versie", "overridden"),
            "override" => ("Eigen versie maken", "Override"),
            "no_own" => (
                "Nog geen eigen standaardantwoorden.",
                "No own templates yet.",
            ),
            "new_template" => ("Nieuw standaardantwoord", "New template"),
            "key" => ("Sleutel", "Key"),
            "title" => ("Titel", "Title"),
            "body" => ("Tekst", "Text"),
            "edit" => ("Bewerken", "Edit"),
            "variables" => ("Variabelen", "Variables"),
            "templates_intro" => (
                "Een eigen standaardantwoord met dezelfde sleutel als een landelijk antwoord vervangt dat voor deze gemeente.",
                "An own template with the same key as a national one replaces it for this municipality.",
            ),
            "keys_intro" => (
                "Systemen leveren berichten aan met POST /api/v1/inbound en de sleutel als Authorization: Bearer. Antwoorden gaan naar de webhook, ondertekend met HMAC-SHA256 onder het webhookgeheim.",
                "Systems deliver messages with POST /api/v1/inbound and the key as Authorization: Bearer. Replies go to the webhook, signed with HMAC-SHA256 under the webhook secret.",
            ),
            "new_key" => ("Nieuwe API-sleutel", "New API key"),
            "key_name" => ("Naam (bijv. zaaksysteem)", "Name (e.g. case system)"),
            "channel" => ("Kanaal", "Channel"),
            "webhook" => ("Webhook-URL voor antwoorden", "Webhook URL for replies"),
            "created" => ("Aangemaakt", "Created"),
            "no_keys" => ("Nog geen API-sleutels.", "No API keys yet."),
            "secret_yes" => ("geheim ingesteld", "secret set"),
            "once" => (
                "Kopieer dit nu: het wordt maar één keer getoond en is daarna niet meer op te vragen.",
                "Copy this now: it is shown only once and cannot be retrieved later.",
            ),
            "key_created" => ("API-sleutel aangemaakt", "API key created"),
            "user_created" => ("Medewerker aangemaakt", "Staff member created"),
            "password" => ("Wachtwoord", "Password"),
            "webhook_secret" => ("Webhookgeheim", "Webhook secret"),
            "api_key" => ("API-sleutel", "API key"),
            "back" => ("Terug", "Back"),
            "warning" => ("Let op", "Note"),
            _ => ("?", "?"),
        };
        if self.en() { en } else { nl }
    }

    /// Success messages for `?ok=…` (a fixed set: the query never puts text on the page).
    pub fn ok(&self, key: &str) -> &'static str {
        let (nl, en) = match key {
            "team" => ("Team aangemaakt.", "Team created."),
            "team-weg" => ("Team verwijderd.", "Team deleted."),
            "leden" => ("Teamleden bijgewerkt.", "Team members updated."),
            "rol" => ("Rol toegekend.", "Role granted."),
            "rol-weg" => ("Rol ingetrokken.", "Role revoked."),
            "capaciteit" => ("Maximum bijgewerkt.", "Maximum updated."),
            "antwoord" => ("Standaardantwoord opgeslagen.", "Template saved."),
            "antwoord-weg" => ("Standaardantwoord verwijderd.", "Template deleted."),
            "sleutel-weg" => ("API-sleutel verwijderd.", "API key deleted."),
            "pool" => (
                "Overdracht aan de regiopool opgeslagen.",
                "Pool handover saved.",
            ),
            "kanaal" => ("Kanaal opgeslagen.", "Channel saved."),
            "ki" => (
                "Klantinteracties-instellingen opgeslagen.",
                "Klantinteracties settings saved.",
            ),
            "terug" => (
                "De inbox is teruggenomen.",
                "The inbox has been taken back.",
            ),
            _ => ("Opgeslagen.", "Saved."),
        };
        if self.en() { en } else { nl }
    }

    pub fn weekday(&self, i: usize) -> &'static str {
        crate::i18n::Tr(self.0).weekday(i % 7)
    }

    pub fn date(&self, d: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        const NL: [&str; 12] = [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let wd = self.weekday(d.weekday().num_days_from_monday() as usize);
        if self.en() {
            format!("{wd} {} {} {}", EN[d.month0() as usize], d.day(), d.year())
        } else {
            format!("{wd} {} {} {}", d.day(), NL[d.month0() as usize], d.year())
        }
    }
}

// ---------------------------------------------------------------- page plumbing

const SECTIONS: [&str; 10] = [
    "huisstijl",
    "openingstijden",
    "servicenormen",
    "regiopool",
    "teams",
    "medewerkers",
    "standaardantwoorden",
    "kanalen",
    "signalen",
    "klantinteracties",
];

/// What every admin page shows around its section.
pub struct AdminCtx {
    pub code: String,
    pub name: String,
    pub section: &'static str,
    pub csrf: String,
    pub ok: Option<&'static str>,
    pub fout: Option<String>,
    /// Other tenants this user administers: (code, name).
    pub others: Vec<(String, String)>,
    pub l: L,
}

impl AdminCtx {
    pub fn s(&self, key: &str) -> &'static str {
        self.l.s(key)
    }
    pub fn sections(&self) -> Vec<(&'static str, &'static str)> {
        SECTIONS.iter().map(|s| (*s, self.l.s(s))).collect()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Flash {
    pub ok: Option<String>,
    pub fout: Option<String>,
}

/// A logged-in administrator on one tenant's pages.
pub(crate) struct Ctx {
    pub user: CurrentUser,
    pub tenant: Tenant,
    pub t: Tr,
}

impl Ctx {
    pub(crate) fn admin(&self, state: &AppState, section: &'static str, flash: Flash) -> AdminCtx {
        let l = L(self.t.0);
        let mut others: Vec<(String, String)> = self
            .user
            .admin_tenants()
            .into_iter()
            .filter(|c| *c != self.tenant.code)
            .map(|c| {
                let n = state.tenant_label(&c);
                (c, n)
            })
            .collect();
        others.sort_by(|a, b| a.1.cmp(&b.1));
        AdminCtx {
            code: self.tenant.code.clone(),
            name: self.tenant.display_name.clone(),
            section,
            csrf: self.user.csrf.clone(),
            ok: flash.ok.as_deref().map(|k| l.ok(k)),
            fout: flash
                .fout
                .map(|f| f.chars().take(300).collect::<String>())
                .filter(|f| !f.is_empty()),
            others,
            l,
        }
    }

    pub(crate) fn nav(&self) -> Option<Nav> {
        let mut n = Nav::of(&self.user, "admin");
        n.admin_tenant = Some(self.tenant.code.clone());
        Some(n)
    }
}

pub(crate) fn error_response(e: AppError, lang: Lang) -> Response {
    match e {
        AppError::Unauthorized => Redirect::to("/login").into_response(),
        e => ui::error_page(e.status(), &e.to_string(), &lang),
    }
}

pub(crate) fn enter(
    state: &AppState,
    headers: &HeaderMap,
    user: Result<CurrentUser, AppError>,
    code: &str,
) -> Result<Ctx, Box<Response>> {
    let user = user.map_err(|e| Box::new(error_response(e, lang_of(headers))))?;
    let t = ui::tr(headers, &user);
    let tenant = admin_tenant(state, &user, code).map_err(|e| Box::new(error_response(e, t.0)))?;
    Ok(Ctx { user, tenant, t })
}

/// `enter` for a form post: also checks the form's CSRF token.
pub(crate) fn enter_post(
    state: &AppState,
    headers: &HeaderMap,
    user: Result<CurrentUser, AppError>,
    code: &str,
    csrf: &str,
) -> Result<Ctx, Box<Response>> {
    let ctx = enter(state, headers, user, code)?;
    ctx.user
        .check_csrf(csrf)
        .map_err(|e| Box::new(error_response(e, ctx.t.0)))?;
    Ok(ctx)
}

/// After a form post: back to the section with `?ok=` or `?fout=`; access errors get a page.
pub(crate) fn done(ctx: &Ctx, section: &str, r: AppResult<&'static str>) -> Response {
    back_to(&ctx.tenant.code, ctx.t.0, section, r)
}

/// [`done`] for any admin-style page of `tenant`: `/admin/{tenant}/{section}`.
pub(crate) fn back_to(
    tenant: &str,
    lang: Lang,
    section: &str,
    r: AppResult<&'static str>,
) -> Response {
    let base = format!("/admin/{tenant}/{section}");
    match r {
        Ok(ok) => Redirect::to(&format!("{base}?ok={ok}")).into_response(),
        Err(
            e @ (AppError::NotFound
            | AppError::Forbidden(_)
            | AppError::Csrf
            | AppError::Unauthorized
            | AppError::Unexpected(_)),
        ) => error_response(e, lang),
        Err(e) => {
            let msg: String =
                url::form_urlencoded::byte_serialize(e.to_string().as_bytes()).collect();
            Redirect::to(&format!("{base}?fout={msg}")).into_response()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SwitchQuery {
    gemeente: Option<String>,
}

/// `/admin`: the first tenant the user administers, or the one picked in the switch.
async fn admin_home(
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Query(q): Query<SwitchQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return error_response(e, lang_of(&headers)),
    };
    let picked = q
        .gemeente
        .and_then(|c| TenantCode::parse(&c).ok())
        .map(|c| c.to_string());
    match picked.or_else(|| user.admin_tenants().into_iter().next()) {
        Some(code) => Redirect::to(&format!("/admin/{code}/huisstijl")).into_response(),
        None => error_response(
            AppError::Forbidden("u bent van geen enkele gemeente beheerder".into()),
            ui::tr(&headers, &user).0,
        ),
    }
}

async fn tenant_home(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
) -> Response {
    match enter(&state, &headers, user, &code) {
        Ok(ctx) => Redirect::to(&format!("/admin/{}/huisstijl", ctx.tenant.code)).into_response(),
        Err(r) => *r,
    }
}

/// The admin pages' own styles and the tenant's brand for the preview (the page's CSP allows
/// only stylesheets from this origin, no inline styles).
async fn admin_css(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let s = &ctx.tenant.settings;
    let primary = if valid_color(&s.primary_color) {
        s.primary_color.as_str()
    } else {
        "#154273"
    };
    let css = format!(
        "{ADMIN_CSS}\n.admin-main {{ --brand: {primary}; --brand-fg: {fg}; }}\n",
        fg = foreground(s)
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        css,
    )
        .into_response()
}

const ADMIN_CSS: &str = r#"
.admin-layout { display: grid; grid-template-columns: minmax(12rem, 16rem) 1fr; gap: 1.5rem; align-items: start; }
@media (max-width: 50rem) { .admin-layout { grid-template-columns: 1fr; } }
.admin-nav ul { list-style: none; margin: 0; padding: 0; }
.admin-nav li a { display: block; padding: .4rem .6rem; border-radius: .3rem; text-decoration: none; }
.admin-nav li a[aria-current="page"] { font-weight: 700; background: rgba(21, 66, 115, .1); }
.admin-main > section, .admin-main > form { margin-bottom: 1.5rem; }
.admin-flash-ok { border-left: .3rem solid #39870c; padding: .5rem .8rem; background: #eef7e8; }
.admin-table { border-collapse: collapse; width: 100%; }
.admin-table th, .admin-table td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #d0d5dd; vertical-align: top; }
.admin-secret { font-family: ui-monospace, monospace; word-break: break-all; padding: .4rem .6rem; background: #f3f4f6; border: 1px solid #d0d5dd; }
.admin-swatch { display: inline-block; width: 1.2em; height: 1.2em; vertical-align: middle; border: 1px solid #1a1a1a; border-radius: .2em; }
.brand-preview { border: 2px solid var(--brand); border-radius: .5rem; max-width: 32rem; overflow: hidden; }
.brand-preview .brand-head { background: var(--brand); color: var(--brand-fg); padding: .6rem .9rem; display: flex; gap: .6rem; align-items: center; }
.brand-preview .brand-head img { max-height: 2rem; max-width: 6rem; background: #fff; border-radius: .2rem; }
.brand-preview .brand-body { padding: .8rem .9rem; white-space: pre-line; }
.brand-preview .brand-bubble { background: #f3f4f6; border-radius: .5rem; padding: .6rem .8rem; }
.brand-swatch-primary { background: var(--brand); }
"#;

// ---------------------------------------------------------------- 1. huisstijl

#[derive(Template)]
#[template(path = "admin_brand.html")]
struct BrandPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    display_name: String,
    s: TenantSettings,
    logo: String,
    warnings: Vec<String>,
    preview: String,
}

async fn brand_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let a = ctx.admin(&state, "huisstijl", flash);
    let s = ctx.tenant.settings.clone();
    let preview = if s.signature.is_empty() {
        a.s("preview_body").to_string()
    } else {
        format!("{}\n\n{}", a.s("preview_body"), s.signature)
    };
    page(&BrandPage {
        t: ctx.t,
        nav: ctx.nav(),
        warnings: warnings(&s, a.l.en()),
        display_name: ctx.tenant.display_name.clone(),
        logo: s.logo_url.clone().unwrap_or_default(),
        preview,
        s,
        a,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BrandForm {
    csrf: String,
    display_name: String,
    primary_color: String,
    accent_color: String,
    logo_url: String,
    signature: String,
    greeting_nl: String,
    greeting_en: String,
}

async fn brand_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<BrandForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let s = TenantSettings {
        primary_color: f.primary_color,
        accent_color: f.accent_color,
        logo_url: Some(f.logo_url),
        signature: f.signature,
        greeting_nl: f.greeting_nl,
        greeting_en: f.greeting_en,
        ..ctx.tenant.settings.clone()
    };
    let r = save_settings(&state, &ctx.tenant, &f.display_name, s)
        .await
        .map(|_| "opgeslagen");
    done(&ctx, "huisstijl", r)
}

// ---------------------------------------------------------------- 2. openingstijden

/// A year and its holidays: (date as text, name, already past).
type HolidayYear = (i32, Vec<(String, &'static str, bool)>);

#[derive(Template)]
#[template(path = "admin_hours.html")]
struct HoursPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    /// (index, weekday name, current value)
    days: Vec<(usize, &'static str, String)>,
    always: bool,
    open_now: bool,
    /// (year, [(date, name, past)])
    holidays: Vec<HolidayYear>,
}

async fn hours_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    use chrono::Datelike;
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let a = ctx.admin(&state, "openingstijden", flash);
    let hours = &ctx.tenant.settings.hours;
    let days = (0..7)
        .map(|i| {
            (
                i,
                a.l.weekday(i),
                hours.days[i].map(|h| h.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive();
    let holidays = [today.year(), today.year() + 1]
        .into_iter()
        .map(|y| {
            (
                y,
                calendar::holidays(y)
                    .into_iter()
                    .map(|(d, n)| (a.l.date(d), n, d < today))
                    .collect(),
            )
        })
        .collect();
    page(&HoursPage {
        t: ctx.t,
        nav: ctx.nav(),
        days,
        always: hours.is_always(),
        open_now: ctx.tenant.is_open_now(),
        holidays,
        a,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HoursForm {
    csrf: String,
    d0: String,
    d1: String,
    d2: String,
    d3: String,
    d4: String,
    d5: String,
    d6: String,
}

/// Parses the seven day fields (Monday first); the error names the day.
fn parse_week(days: [&str; 7]) -> AppResult<WeekSchedule> {
    let mut out = [None; 7];
    for (i, d) in days.iter().enumerate() {
        out[i] = calendar::parse_day(d)
            .map_err(|e| AppError::Invalid(format!("{}: {e}", L(Lang::Nl).weekday(i))))?;
    }
    WeekSchedule::new(out).map_err(|e| AppError::Invalid(e.to_string()))
}

async fn hours_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<HoursForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let days = [
        f.d0.as_str(),
        f.d1.as_str(),
        f.d2.as_str(),
        f.d3.as_str(),
        f.d4.as_str(),
        f.d5.as_str(),
        f.d6.as_str(),
    ];
    let r = async {
        let hours = parse_week(days)?;
        let s = TenantSettings {
            hours,
            ..ctx.tenant.settings.clone()
        };
        save_settings(&state, &ctx.tenant, &ctx.tenant.display_name, s).await?;
        Ok::<_, AppError>("opgeslagen")
    }
    .await;
    done(&ctx, "openingstijden", r)
}

// ---------------------------------------------------------------- 3. servicenormen

#[derive(Template)]
#[template(path = "admin_sla.html")]
struct SlaPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    /// (priority slug, first response, resolution, first as text, resolution as text)
    rows: Vec<(&'static str, u32, u32, String, String)>,
}

/// "8 u 30 min" / "2 d 4 u": a reading aid next to the minutes.
fn minutes_text(m: u32, en: bool) -> String {
    let (d, h, min) = (m / 1440, m % 1440 / 60, m % 60);
    let (du, hu) = if en { ("d", "h") } else { ("d", "u") };
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} {du}"));
    }
    if h > 0 {
        parts.push(format!("{h} {hu}"));
    }
    if min > 0 || parts.is_empty() {
        parts.push(format!("{min} min"));
    }
    parts.join(" ")
}

async fn sla_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let a = ctx.admin(&state, "servicenormen", flash);
    let sla = &ctx.tenant.settings.sla;
    let en = a.l.en();
    let rows = Priority::ALL
        .iter()
        .map(|p| {
            let i = *p as usize;
            let (f, r) = (sla.first_response_minutes[i], sla.resolution_minutes[i]);
            (p.as_str(), f, r, minutes_text(f, en), minutes_text(r, en))
        })
        .collect();
    page(&SlaPage {
        t: ctx.t,
        nav: ctx.nav(),
        rows,
        a,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SlaForm {
    csrf: String,
    first_laag: String,
    first_normaal: String,
    first_hoog: String,
    first_spoed: String,
    res_laag: String,
    res_normaal: String,
    res_hoog: String,
    res_spoed: String,
}

fn minutes(field: &str, what: &str, p: Priority) -> AppResult<u32> {
    field.trim().parse::<u32>().map_err(|_| {
        AppError::Invalid(format!(
            "servicenorm {} ({what}): vul een heel aantal minuten in",
            p.as_str()
        ))
    })
}

async fn sla_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<SlaForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        let first = [
            &f.first_laag,
            &f.first_normaal,
            &f.first_hoog,
            &f.first_spoed,
        ];
        let res = [&f.res_laag, &f.res_normaal, &f.res_hoog, &f.res_spoed];
        let mut sla = SlaTargets::default();
        for p in Priority::ALL {
            let i = p as usize;
            sla.first_response_minutes[i] = minutes(first[i], "eerste reactie", p)?;
            sla.resolution_minutes[i] = minutes(res[i], "oplossing", p)?;
        }
        let s = TenantSettings {
            sla,
            ..ctx.tenant.settings.clone()
        };
        save_settings(&state, &ctx.tenant, &ctx.tenant.display_name, s).await?;
        Ok::<_, AppError>("opgeslagen")
    }
    .await;
    done(&ctx, "servicenormen", r)
}

// ---------------------------------------------------------------- 4. regiopool

#[derive(Template)]
#[template(path = "admin_pool.html")]
struct PoolPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    pool: Option<(String, String)>,
    mode: &'static str,
    n: u32,
    serves_now: bool,
    open_now: bool,
    waiting: i64,
}

fn mode_of(h: PoolHandover) -> (&'static str, u32) {
    match h {
        PoolHandover::Never => ("never", 5),
        PoolHandover::Always => ("always", 5),
        PoolHandover::OutsideHours => ("outside_hours", 5),
        PoolHandover::Backlog { n } => ("backlog", n),
    }
}

async fn pool_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let a = ctx.admin(&state, "regiopool", flash);
    let t = &ctx.tenant;
    let waiting = state.store.waiting_count(&t.code).await.unwrap_or(0);
    let open_now = t.is_open_now();
    let (mode, n) = mode_of(t.settings.handover);
    let pool = t
        .pool_code
        .as_ref()
        .map(|p| (p.clone(), state.tenant_label(p)));
    page(&PoolPage {
        t: ctx.t,
        nav: ctx.nav(),
        serves_now: pool.is_some()
            && t.settings
                .handover
                .pool_serves(open_now, u32::try_from(waiting).unwrap_or(u32::MAX)),
        pool,
        mode,
        n,
        open_now,
        waiting,
        a,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PoolForm {
    csrf: String,
    mode: String,
    n: String,
}

fn parse_handover(mode: &str, n: &str) -> AppResult<PoolHandover> {
    Ok(match mode {
        "never" | "" => PoolHandover::Never,
        "always" => PoolHandover::Always,
        "outside_hours" => PoolHandover::OutsideHours,
        "backlog" => PoolHandover::Backlog {
            n: n.trim().parse().map_err(|_| {
                AppError::Invalid("vul bij 'meer dan N wachtende gesprekken' een getal in".into())
            })?,
        },
        other => return Err(AppError::Invalid(format!("onbekende overdracht '{other}'"))),
    })
}

async fn pool_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<PoolForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        if ctx.tenant.pool_code.is_none() || ctx.tenant.kind != TenantKind::Gemeente {
            return Err(AppError::Invalid(
                "deze gemeente hoort niet bij een regiopool".into(),
            ));
        }
        let handover = parse_handover(&f.mode, &f.n)?;
        let s = TenantSettings {
            handover,
            ..ctx.tenant.settings.clone()
        };
        save_settings(&state, &ctx.tenant, &ctx.tenant.display_name, s).await?;
        Ok::<_, AppError>(if handover == PoolHandover::Never {
            "terug"
        } else {
            "pool"
        })
    }
    .await;
    done(&ctx, "regiopool", r)
}

// ---------------------------------------------------------------- 4b. signalen

#[derive(Template)]
#[template(path = "admin_signalen.html")]
struct SignalenPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    url: String,
    auto: bool,
    min_percent: u32,
}

async fn signalen_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let a = ctx.admin(&state, "signalen", flash);
    let s = &ctx.tenant.settings;
    page(&SignalenPage {
        t: ctx.t,
        nav: ctx.nav(),
        url: s.signalen_url.clone().unwrap_or_default(),
        auto: s.signalen_auto_min_confidence.is_some(),
        min_percent: s
            .signalen_auto_min_confidence
            .map(|c| (c * 100.0).round() as u32)
            .unwrap_or(80),
        a,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignalenForm {
    csrf: String,
    url: String,
    auto: String,
    min_percent: String,
}

async fn signalen_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<SignalenForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        let min = if f.auto == "1" {
            let p: f64 = f.min_percent.trim().parse().map_err(|_| {
                AppError::Invalid("vul de drempel in als percentage (0–100)".into())
            })?;
            Some(p / 100.0)
        } else {
            None
        };
        let s = TenantSettings {
            signalen_url: Some(f.url.clone()),
            signalen_auto_min_confidence: min,
            ..ctx.tenant.settings.clone()
        };
        save_settings(&state, &ctx.tenant, &ctx.tenant.display_name, s).await?;
        Ok::<_, AppError>("opgeslagen")
    }
    .await;
    done(&ctx, "signalen", r)
}

// ---------------------------------------------------------------- 5. teams

pub struct TeamView {
    pub id: i64,
    pub name: String,
    pub members: Vec<(i64, String)>,
    pub candidates: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "admin_teams.html")]
struct TeamsPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    teams: Vec<TeamView>,
    auto_assign: bool,
}

async fn team_views(state: &AppState, tenant: &str) -> AppResult<Vec<TeamView>> {
    let users = state.store.tenant_users(&[tenant.to_string()]).await?;
    let mut out = Vec::new();
    for team in state.store.teams(&[tenant.to_string()]).await? {
        let ids = state.store.team_members(team.id).await?;
        let (members, candidates): (Vec<_>, Vec<_>) = users
            .iter()
            .map(|(u, _)| (u.id, u.name.clone()))
            .partition(|(id, _)| ids.contains(id));
        out.push(TeamView {
            id: team.id,
            name: team.name,
            members,
            candidates,
        });
    }
    Ok(out)
}

async fn teams_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let teams = match team_views(&state, &ctx.tenant.code).await {
        Ok(t) => t,
        Err(e) => return error_response(e, ctx.t.0),
    };
    page(&TeamsPage {
        t: ctx.t,
        nav: ctx.nav(),
        a: ctx.admin(&state, "teams", flash),
        teams,
        auto_assign: ctx.tenant.settings.auto_assign,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameForm {
    csrf: String,
    name: String,
}

async fn team_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<NameForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = create_team(&state, &ctx.tenant.code, &f.name)
        .await
        .map(|_| "team");
    done(&ctx, "teams", r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfForm {
    pub csrf: String,
}

async fn team_delete(
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
    let r = async {
        state
            .store
            .delete_team(&ctx.tenant.code, parse_id(&id)?)
            .await?;
        Ok::<_, AppError>("team-weg")
    }
    .await;
    done(&ctx, "teams", r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MemberForm {
    csrf: String,
    user: String,
    action: String,
}

async fn team_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<MemberForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        let uid: i64 = f
            .user
            .parse()
            .map_err(|_| AppError::Invalid("kies een medewerker".into()))?;
        set_member(
            &state,
            &ctx.tenant.code,
            parse_id(&id)?,
            uid,
            f.action != "remove",
        )
        .await?;
        Ok::<_, AppError>("leden")
    }
    .await;
    done(&ctx, "teams", r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AutoAssignForm {
    csrf: String,
    auto_assign: String,
}

async fn auto_assign_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<AutoAssignForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let s = TenantSettings {
        auto_assign: f.auto_assign == "1",
        ..ctx.tenant.settings.clone()
    };
    let r = save_settings(&state, &ctx.tenant, &ctx.tenant.display_name, s)
        .await
        .map(|_| "opgeslagen");
    done(&ctx, "teams", r)
}

// ---------------------------------------------------------------- 6. medewerkers

pub struct UserLine {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub online: bool,
    pub max_open: i64,
    pub roles: Vec<&'static str>,
    pub missing: Vec<&'static str>,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    users: Vec<UserLine>,
    all_roles: Vec<&'static str>,
}

fn user_lines(me: i64, users: Vec<(UserRow, Vec<loket_store::MembershipRow>)>) -> Vec<UserLine> {
    users
        .into_iter()
        .map(|(u, ms)| {
            let held: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|r| ms.iter().any(|m| m.role == r.as_str()))
                .collect();
            UserLine {
                is_me: u.id == me,
                id: u.id,
                name: u.name,
                email: u.email,
                online: u.online,
                max_open: u.max_open,
                roles: held.iter().map(|r| r.as_str()).collect(),
                missing: Role::ALL
                    .into_iter()
                    .filter(|r| !held.contains(r))
                    .map(|r| r.as_str())
                    .collect(),
            }
        })
        .collect()
}

async fn users_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let users = match state
        .store
        .tenant_users(std::slice::from_ref(&ctx.tenant.code))
        .await
    {
        Ok(u) => user_lines(ctx.user.id, u),
        Err(e) => return error_response(e.into(), ctx.t.0),
    };
    page(&UsersPage {
        t: ctx.t,
        nav: ctx.nav(),
        a: ctx.admin(&state, "medewerkers", flash),
        users,
        all_roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    })
}

/// Shows a secret once (new password, new API key): rendered directly, never via a redirect URL.
#[derive(Template)]
#[template(path = "admin_secret.html")]
struct SecretPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    heading: &'static str,
    back: &'static str,
    items: Vec<(&'static str, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddUserForm {
    csrf: String,
    email: String,
    name: String,
    role: String,
}

async fn user_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<AddUserForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match add_user(&state, &ctx.tenant.code, &f.email, &f.name, &f.role).await {
        Ok(UserAdded {
            password: Some(password),
            ..
        }) => {
            let a = ctx.admin(&state, "medewerkers", Flash::default());
            page(&SecretPage {
                t: ctx.t,
                nav: ctx.nav(),
                heading: a.s("user_created"),
                back: "medewerkers",
                items: vec![
                    (a.s("email"), f.email.trim().to_lowercase()),
                    (a.s("password"), password),
                ],
                a,
            })
        }
        Ok(_) => done(&ctx, "medewerkers", Ok("rol")),
        Err(e) => done(&ctx, "medewerkers", Err(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    csrf: String,
    role: String,
    action: String,
}

async fn user_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<RoleForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        let uid = parse_id(&id)?;
        if f.action == "revoke" {
            revoke(&state, &ctx.user, &ctx.tenant.code, uid, &f.role).await?;
            Ok::<_, AppError>("rol-weg")
        } else {
            // Granting here is for people already on the list; new people come in by e-mail.
            if !works_for(&state, &ctx.tenant.code, uid).await? {
                return Err(AppError::NotFound);
            }
            grant(&state, &ctx.tenant.code, uid, &f.role).await?;
            Ok("rol")
        }
    }
    .await;
    done(&ctx, "medewerkers", r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CapacityForm {
    csrf: String,
    max_open: String,
}

async fn user_capacity(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<CapacityForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        let max: i64 = f.max_open.trim().parse().map_err(|_| {
            AppError::Invalid("vul bij het maximum aantal open gesprekken een getal in".into())
        })?;
        set_capacity(&state, &ctx.tenant.code, parse_id(&id)?, max).await?;
        Ok::<_, AppError>("capaciteit")
    }
    .await;
    done(&ctx, "medewerkers", r)
}

// ---------------------------------------------------------------- 7. standaardantwoorden

pub struct NationalLine {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub body: String,
    pub overridden: bool,
}

#[derive(Template)]
#[template(path = "admin_templates.html")]
struct TemplatesPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    national: Vec<NationalLine>,
    own: Vec<TemplateRow>,
    variables: Vec<(&'static str, &'static str)>,
}

async fn split_templates(
    state: &AppState,
    tenant: &str,
) -> AppResult<(Vec<TemplateRow>, Vec<TemplateRow>)> {
    Ok(state
        .store
        .templates(Some(tenant))
        .await?
        .into_iter()
        .partition(|t| t.tenant_code.is_none()))
}

async fn templates_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (national, own) = match split_templates(&state, &ctx.tenant.code).await {
        Ok(x) => x,
        Err(e) => return error_response(e, ctx.t.0),
    };
    let national = national
        .into_iter()
        .map(|n| NationalLine {
            overridden: own.iter().any(|o| o.key == n.key),
            id: n.id,
            key: n.key,
            title: n.title,
            body: n.body,
        })
        .collect();
    page(&TemplatesPage {
        t: ctx.t,
        nav: ctx.nav(),
        a: ctx.admin(&state, "standaardantwoorden", flash),
        national,
        own,
        variables: variable_docs(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TemplateForm {
    csrf: String,
    key: String,
    title: String,
    body: String,
}

async fn template_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = create_template(&state, &ctx.tenant.code, &f.key, &f.title, &f.body)
        .await
        .map(|_| "antwoord");
    done(&ctx, "standaardantwoorden", r)
}

async fn template_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<TemplateForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let r = async {
        update_template(
            &state,
            &ctx.tenant.code,
            parse_id(&id)?,
            &f.key,
            &f.title,
            &f.body,
        )
        .await?;
        Ok::<_, AppError>("antwoord")
    }
    .await;
    done(&ctx, "standaardantwoorden", r)
}

async fn template_delete(
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
    let r = async {
        state
            .store
            .delete_template(&ctx.tenant.code, parse_id(&id)?)
            .await?;
        Ok::<_, AppError>("antwoord-weg")
    }
    .await;
    done(&ctx, "standaardantwoorden", r)
}

async fn template_override(
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
    match async { override_template(&state, &ctx.tenant.code, parse_id(&id)?).await }.await {
        Ok(own) => Redirect::to(&format!(
            "/admin/{}/standaardantwoorden?ok=antwoord#sjabloon-{own}",
            ctx.tenant.code
        ))
        .into_response(),
        Err(e) => done(&ctx, "standaardantwoorden", Err(e)),
    }
}

// ---------------------------------------------------------------- 8. kanalen / API-sleutels

pub struct KeyLine {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub webhook_url: String,
    pub has_secret: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
struct KeysPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    keys: Vec<KeyLine>,
    /// Resident channel accounts with their health.
    accounts: Vec<crate::channel_admin::AccountLine>,
}

async fn keys_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let keys = match state.store.api_keys_of(&ctx.tenant.code).await {
        Ok(k) => k
            .into_iter()
            .map(|k| KeyLine {
                id: k.id,
                name: k.name,
                channel: k.channel,
                webhook_url: k.webhook_url.unwrap_or_default(),
                has_secret: k.has_webhook_secret,
                created: ui::when(k.created_at),
            })
            .collect(),
        Err(e) => return error_response(e.into(), ctx.t.0),
    };
    let accounts = match crate::channel_admin::lines(&state, &ctx.tenant.code).await {
        Ok(a) => a,
        Err(e) => return error_response(e, ctx.t.0),
    };
    page(&KeysPage {
        t: ctx.t,
        nav: ctx.nav(),
        a: ctx.admin(&state, "kanalen", flash),
        keys,
        accounts,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyForm {
    csrf: String,
    name: String,
    channel: String,
    webhook_url: String,
}

async fn key_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<KeyForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match create_key(
        &state,
        &ctx.tenant.code,
        &f.name,
        &f.channel,
        Some(f.webhook_url.as_str()),
    )
    .await
    {
        Ok(k) => {
            let a = ctx.admin(&state, "kanalen", Flash::default());
            let mut items = vec![
                (a.s("key_name"), k.name),
                (a.s("channel"), k.channel),
                (a.s("api_key"), k.key),
                (a.s("webhook_secret"), k.webhook_secret),
            ];
            if let Some(u) = k.webhook_url {
                items.insert(2, (a.s("webhook"), u));
            }
            page(&SecretPage {
                t: ctx.t,
                nav: ctx.nav(),
                heading: a.s("key_created"),
                back: "kanalen",
                items,
                a,
            })
        }
        Err(e) => done(&ctx, "kanalen", Err(e)),
    }
}

async fn key_delete(
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
    let r = async {
        state
            .store
            .delete_api_key(&ctx.tenant.code, parse_id(&id)?)
            .await?;
        Ok::<_, AppError>("sleutel-weg")
    }
    .await;
    done(&ctx, "kanalen", r)
}

// ---------------------------------------------------------------- JSON API

fn api_gate(state: &AppState, user: &CurrentUser, code: &str) -> AppResult<Tenant> {
    admin_tenant(state, user, code)
}

/// A tenant's settings as the API reads and writes them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub code: String,
    pub kind: String,
    pub display_name: String,
    /// The regional pool this municipality can hand its inbox to.
    pub pool_code: Option<String>,
    /// Whether the pool answers this municipality's conversations right now.
    pub pool_serves_now: bool,
    pub open_now: bool,
    /// `TenantSettings`: colours, logo, signature, greetings, hours, SLA targets, handover, auto-assign.
    #[schema(value_type = Object)]
    pub settings: TenantSettings,
    /// Readability warnings (e.g. low contrast); the settings are stored anyway.
    pub warnings: Vec<String>,
}

/// The body of `PUT …/settings`: the display name and the whole settings document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    pub display_name: String,
    #[schema(value_type = Object)]
    pub settings: TenantSettings,
}

async fn settings_view(state: &AppState, t: &Tenant) -> SettingsView {
    let waiting = match t.settings.handover {
        PoolHandover::Backlog { .. } => state.store.waiting_count(&t.code).await.unwrap_or(0),
        _ => 0,
    };
    let open_now = t.is_open_now();
    SettingsView {
        code: t.code.clone(),
        kind: t.kind.as_str().into(),
        display_name: t.display_name.clone(),
        pool_code: t.pool_code.clone(),
        pool_serves_now: t.pool_code.is_some()
            && t.settings
                .handover
                .pool_serves(open_now, u32::try_from(waiting).unwrap_or(u32::MAX)),
        open_now,
        warnings: warnings(&t.settings, false),
        settings: t.settings.clone(),
    }
}

/// A tenant's settings (beheerder only).
#[utoipa::path(get, path = "/api/v1/tenants/{code}/settings",
    params(("code" = String, Path, description = "CBS code, e.g. GM0344")),
    responses((status = 200, body = SettingsView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn api_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<SettingsView>> {
    let t = api_gate(&state, &user, &code)?;
    Ok(Json(settings_view(&state, &t).await))
}

/// Replaces a tenant's settings, validated exactly as the admin form.
#[utoipa::path(put, path = "/api/v1/tenants/{code}/settings", request_body = SettingsBody,
    params(("code" = String, Path, description = "CBS code")),
    responses((status = 200, body = SettingsView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn api_put_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    body: Result<ApiJson<SettingsBody>, AppError>,
) -> AppResult<Json<SettingsView>> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    if b.settings.handover != PoolHandover::Never
        && (t.pool_code.is_none() || t.kind != TenantKind::Gemeente)
    {
        return Err(AppError::Invalid(
            "deze gemeente hoort niet bij een regiopool".into(),
        ));
    }
    save_settings(&state, &t, &b.display_name, b.settings).await?;
    let t = state.tenant(&t.code).ok_or(AppError::NotFound)?;
    Ok(Json(settings_view(&state, &t).await))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamJson {
    pub id: i64,
    pub name: String,
    pub members: Vec<MemberJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberJson {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/teams", params(("code" = String, Path)),
    responses((status = 200, body = [TeamJson]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn api_teams(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<TeamJson>>> {
    let t = api_gate(&state, &user, &code)?;
    Ok(Json(
        team_views(&state, &t.code)
            .await?
            .into_iter()
            .map(|v| TeamJson {
                id: v.id,
                name: v.name,
                members: v
                    .members
                    .into_iter()
                    .map(|(id, name)| MemberJson { id, name })
                    .collect(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/teams", request_body = TeamBody, params(("code" = String, Path)),
    responses((status = 201, body = TeamJson), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn api_create_team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    body: Result<ApiJson<TeamBody>, AppError>,
) -> AppResult<impl IntoResponse> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    let id = create_team(&state, &t.code, &b.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(TeamJson {
            id,
            name: b.name.trim().to_string(),
            members: vec![],
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{code}/teams/{id}", params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn api_delete_team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    state.store.delete_team(&t.code, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/tenants/{code}/teams/{id}/members/{user}",
    params(("code" = String, Path), ("id" = i64, Path), ("user" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn api_add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id, uid)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    set_member(&state, &t.code, parse_id(&id)?, parse_id(&uid)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn api_remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id, uid)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    set_member(&state, &t.code, parse_id(&id)?, parse_id(&uid)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub online: bool,
    pub max_open: i64,
    /// Roles in this tenant.
    pub roles: Vec<String>,
}

/// Adds a user by e-mail: grants the role to an existing account, or creates one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub email: String,
    /// Needed when the account is new.
    #[serde(default)]
    pub name: String,
    /// `agent`, `supervisor`, `woordvoerder`, `beheerder` or `coordinator`.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateBody {
    /// Maximum open conversations automatic assignment gives this person (0–100).
    pub max_open: i64,
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/users", params(("code" = String, Path)),
    responses((status = 200, body = [UserJson]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn api_users(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<UserJson>>> {
    let t = api_gate(&state, &user, &code)?;
    let users = state
        .store
        .tenant_users(std::slice::from_ref(&t.code))
        .await?;
    Ok(Json(
        user_lines(user.id, users)
            .into_iter()
            .map(|u| UserJson {
                id: u.id,
                email: u.email,
                name: u.name,
                online: u.online,
                max_open: u.max_open,
                roles: u.roles.iter().map(|r| r.to_string()).collect(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/users", request_body = NewUserBody, params(("code" = String, Path)),
    responses((status = 201, body = UserAdded), (status = 422, body = Problem)))]
pub async fn api_add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    body: Result<ApiJson<NewUserBody>, AppError>,
) -> AppResult<impl IntoResponse> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    let added = add_user(&state, &t.code, &b.email, &b.name, &b.role).await?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(added)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(put, path = "/api/v1/tenants/{code}/users/{id}", request_body = UserUpdateBody,
    params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn api_update_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    body: Result<ApiJson<UserUpdateBody>, AppError>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    set_capacity(&state, &t.code, parse_id(&id)?, b.max_open).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn api_grant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id, role)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    grant(&state, &t.code, parse_id(&id)?, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes a role; a beheerder cannot revoke their own beheerder role, nor the tenant's last.
#[utoipa::path(delete, path = "/api/v1/tenants/{code}/users/{id}/roles/{role}",
    params(("code" = String, Path), ("id" = i64, Path), ("role" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn api_revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id, role)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    revoke(&state, &user, &t.code, parse_id(&id)?, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatesJson {
    #[schema(value_type = Vec<Object>)]
    pub national: Vec<TemplateRow>,
    /// The tenant's own; one with a national key overrides that national template.
    #[schema(value_type = Vec<Object>)]
    pub own: Vec<TemplateRow>,
    /// Variables a template may use.
    pub variables: Vec<VariableDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariableDoc {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub key: String,
    pub title: String,
    pub body: String,
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/templates", params(("code" = String, Path)),
    responses((status = 200, body = TemplatesJson), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn api_templates(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<TemplatesJson>> {
    let t = api_gate(&state, &user, &code)?;
    let (national, own) = split_templates(&state, &t.code).await?;
    Ok(Json(TemplatesJson {
        national,
        own,
        variables: variable_docs()
            .into_iter()
            .map(|(k, d)| VariableDoc {
                name: k.to_string(),
                description: d.to_string(),
            })
            .collect(),
    }))
}

async fn template_row(state: &AppState, tenant: &str, id: i64) -> AppResult<TemplateRow> {
    state
        .store
        .templates(Some(tenant))
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/templates", request_body = TemplateBody, params(("code" = String, Path)),
    responses((status = 201), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn api_create_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    body: Result<ApiJson<TemplateBody>, AppError>,
) -> AppResult<impl IntoResponse> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    let id = create_template(&state, &t.code, &b.key, &b.title, &b.body).await?;
    Ok((
        StatusCode::CREATED,
        Json(template_row(&state, &t.code, id).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/tenants/{code}/templates/{id}", request_body = TemplateBody,
    params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn api_update_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    body: Result<ApiJson<TemplateBody>, AppError>,
) -> AppResult<Json<TemplateRow>> {
    let t = api_gate(&state, &user, &code)?;
    let id = parse_id(&id)?;
    let ApiJson(b) = body?;
    update_template(&state, &t.code, id, &b.key, &b.title, &b.body).await?;
    Ok(Json(template_row(&state, &t.code, id).await?))
}

pub async fn api_delete_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    state.store.delete_template(&t.code, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API key as listed: never the key, never the webhook secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyJson {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub webhook_url: Option<String>,
    pub has_webhook_secret: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<ApiKeyInfo> for ApiKeyJson {
    fn from(k: ApiKeyInfo) -> Self {
        ApiKeyJson {
            id: k.id,
            name: k.name,
            channel: k.channel,
            webhook_url: k.webhook_url,
            has_webhook_secret: k.has_webhook_secret,
            created_at: k.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    pub name: String,
    /// Channel name recorded on conversations (default `api`).
    #[serde(default)]
    pub channel: String,
    /// Where replies are POSTed, signed with HMAC-SHA256.
    pub webhook_url: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/api-keys", params(("code" = String, Path)),
    responses((status = 200, body = [ApiKeyJson]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn api_keys(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<ApiKeyJson>>> {
    let t = api_gate(&state, &user, &code)?;
    Ok(Json(
        state
            .store
            .api_keys_of(&t.code)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates an API key for the generic inbound API; the key and webhook secret are returned once.
#[utoipa::path(post, path = "/api/v1/tenants/{code}/api-keys", request_body = NewKeyBody, params(("code" = String, Path)),
    responses((status = 201, body = KeyCreated), (status = 422, body = Problem)))]
pub async fn api_create_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    body: Result<ApiJson<NewKeyBody>, AppError>,
) -> AppResult<Response> {
    let t = api_gate(&state, &user, &code)?;
    let ApiJson(b) = body?;
    let k = create_key(
        &state,
        &t.code,
        &b.name,
        &b.channel,
        b.webhook_url.as_deref(),
    )
    .await?;
    let mut resp = (StatusCode::CREATED, Json(k)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[utoipa::path(delete, path = "/api/v1/tenants/{code}/api-keys/{id}", params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn api_delete_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let t = api_gate(&state, &user, &code)?;
    state.store.delete_api_key(&t.code, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let s = TenantSettings::default();
        assert!(validate("Gemeente X", &s).is_ok());
        let bad = TenantSettings {
            primary_color: "red".into(),
            ..s.clone()
        };
        assert!(validate("Gemeente X", &bad).is_err());
        let http_logo = TenantSettings {
            logo_url: Some("http://x.nl/logo.png".into()),
            ..s.clone()
        };
        assert!(validate("Gemeente X", &http_logo).is_err());
        let mut sla = s.clone();
        sla.sla.first_response_minutes[0] = sla.sla.resolution_minutes[0] + 1;
        assert!(validate("Gemeente X", &sla).is_err());
        assert!(validate("", &s).is_err());
        let yellow = TenantSettings {
            primary_color: "#ffdd00".into(),
            ..s
        };
        assert!(!warnings(&yellow, false).is_empty());
    }

    #[test]
    fn templates_and_hours() {
        assert!(check_template("groet", "Groet", "Beste {{inwoner.naam}},").is_ok());
        assert!(check_template("groet", "Groet", "Dag {{gemeente.weergavenaam}}").is_ok());
        assert!(check_template("groet", "Groet", "{{inwoner.bsn}}").is_err());
        assert!(check_template("Groet!", "Groet", "x").is_err());
        assert!(check_template("groet", "Groet", "{{ open").is_err());
        let ok = ["08:30-17:00", "", "", "", "", "", "gesloten"];
        assert!(parse_week(ok).is_ok());
        let bad = ["25:00-26:00", "", "", "", "", "", ""];
        assert!(parse_week(bad).is_err());
        assert!(parse_week([""; 7]).is_err());
        assert_eq!(minutes_text(510, false), "8 u 30 min");
        assert_eq!(minutes_text(2880, true), "2 d");
    }
}

// ---------------------------------------------------------------- 9. klantinteracties

#[derive(Template)]
#[template(path = "admin_ki.html")]
struct KiPage {
    t: Tr,
    nav: Option<Nav>,
    a: AdminCtx,
    s: crate::klantinteracties::KiSettingsView,
    /// The outcome of "test verbinding", right after pressing it.
    test: Option<crate::klantinteracties::TestResult>,
}

async fn ki_render(
    state: &AppState,
    ctx: Ctx,
    flash: Flash,
    test: Option<crate::klantinteracties::TestResult>,
) -> Response {
    let a = ctx.admin(state, "klantinteracties", flash);
    match crate::klantinteracties::settings_view(state, &ctx.tenant.code).await {
        Ok(s) => page(&KiPage {
            t: ctx.t,
            nav: ctx.nav(),
            a,
            s,
            test,
        }),
        Err(e) => error_response(e, ctx.t.0),
    }
}

async fn ki_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    match enter(&state, &headers, user, &code) {
        Ok(ctx) => ki_render(&state, ctx, flash, None).await,
        Err(r) => *r,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KiForm {
    csrf: String,
    enabled: Option<String>,
    base_url: String,
    token: String,
    clear_token: Option<String>,
    redact_pii: Option<String>,
    actor_uuid: String,
}

async fn ki_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<KiForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let body = crate::klantinteracties::KiSettingsBody {
        enabled: f.enabled.is_some(),
        base_url: f.base_url,
        token: Some(f.token),
        clear_token: f.clear_token.is_some(),
        redact_pii: f.redact_pii.is_some(),
        actor_uuid: Some(f.actor_uuid),
    };
    let r = crate::klantinteracties::save_settings(&state, &ctx.tenant.code, body)
        .await
        .map(|()| "ki");
    done(&ctx, "klantinteracties", r)
}

async fn ki_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let result = crate::klantinteracties::test_connection(&state, &ctx.tenant.code).await;
    ki_render(&state, ctx, Flash::default(), Some(result)).await
}
