//! Management insight for supervisors, as server-rendered pages under `/admin/{code}/…`:
//!
//! - `kengetallen`: the tenant's settings for its figures (inhabitants, hourly cost, monthly
//!   tool cost, opt-in to be named in the benchmark);
//! - `benchmark` (and `benchmark.csv`): each key figure next to the anonymous distribution
//!   among the same size class and among all municipalities ([`loket_core::peers`]);
//! - `bezetting`: a simple roster editor and the Erlang C week grid against it
//!   ([`loket_core::staffing`]);
//! - `volwassenheid`: the maturity self-assessment ([`loket_core::maturity`]).
//!
//! Access: a supervisor or beheerder of the tenant may view and change; a coordinator of the
//! national entry (or of the tenant's pool) may view. Anyone else who can see the tenant gets
//! 403, a user who cannot see it at all 404 (as on the admin pages).

use crate::admin::{Flash, error_response};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr, lang_of, tformat};
use crate::state::{AppState, Tenant};
use crate::timing::ServerTiming;
use crate::ui::{self, Nav, page};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use loket_core::maturity::{self, Answers, Assessment, Theme};
use loket_core::metrics::Histogram;
use loket_core::peers::{self, Benchmark, Group, PeerValue};
use loket_core::staffing::{
    self, ChannelGroup, ForecastParams, GroupAdvice, GroupParams, HourOfWeek, SLOTS, Shift,
    Tolerance, WeekCounts, WeekGrid, WeekRates,
};
use loket_core::{Channel, Role, TenantCode, TenantKind};
use loket_store::insight::{InsightSettingsRow, InsightSettingsUpdate, NewShift, ShiftRow};
use loket_store::rollups::{HourlyArrivals, RollupRow};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// The pages, merged into the app router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/{code}/inzicht.css", get(css))
        .route(
            "/admin/{code}/kengetallen",
            get(settings_page).post(settings_save),
        )
        .route("/admin/{code}/benchmark", get(benchmark_page))
        .route("/admin/{code}/benchmark.csv", get(benchmark_csv))
        .route("/admin/{code}/bezetting", get(roster_page).post(shift_add))
        .route(
            "/admin/{code}/bezetting/{id}/verwijderen",
            post(shift_delete),
        )
        .route(
            "/admin/{code}/volwassenheid",
            get(maturity_page).post(maturity_save),
        )
}

/// The sections of these pages, for the admin navigation: (slug, label).
pub fn nav_links(en: bool) -> Vec<(&'static str, &'static str)> {
    SECTIONS
        .iter()
        .map(|s| (*s, L(en).s(s)))
        .collect::<Vec<_>>()
}

const SECTIONS: [&str; 4] = ["kengetallen", "benchmark", "bezetting", "volwassenheid"];

// ---------------------------------------------------------------- i18n

/// Dutch first, English when the user chose it.
#[derive(Clone, Copy)]
pub struct L(pub bool);

impl L {
    pub fn en(&self) -> bool {
        self.0
    }

    pub fn s(&self, key: &str) -> &'static str {
        let (nl, en) = match key {
            "inzicht" => ("Inzicht", "Insight"),
            "kengetallen" => ("Kengetallen-instellingen", "Figure settings"),
            "benchmark" => ("Benchmark", "Benchmark"),
            "bezetting" => ("Bezetting en rooster", "Staffing and roster"),
            "volwassenheid" => ("Volwassenheid", "Maturity"),
            "beheer" => ("Beheer", "Administration"),
            "save" => ("Opslaan", "Save"),
            "inhabitants" => ("Aantal inwoners", "Number of inhabitants"),
            "hourly_cost" => (
                "Kosten per uur medewerkerstijd (euro)",
                "Cost per hour of agent time (EUR)",
            ),
            "tool_cost" => (
                "Vaste kosten voor tools per maand (euro)",
                "Fixed monthly tool cost (EUR)",
            ),
            "named" => (
                "Toon onze naam en cijfers in de benchmark van andere gemeenten",
                "Show our name and figures in other municipalities' benchmark",
            ),
            "named_help" => (
                "Zonder deze toestemming ziet geen andere gemeente uw naam of uw cijfers; u telt dan alleen anoniem mee in mediaan en kwartielen.",
                "Without this consent no other municipality sees your name or figures; you only count anonymously in the median and quartiles.",
            ),
            "period" => ("Periode", "Period"),
            "show" => ("Toon", "Show"),
            "figure" => ("Kengetal", "Figure"),
            "own" => ("Eigen waarde", "Own value"),
            "group" => ("Vergelijkingsgroep", "Comparison group"),
            "count" => ("Gemeenten", "Municipalities"),
            "q1" => ("1e kwartiel", "1st quartile"),
            "median" => ("Mediaan", "Median"),
            "q3" => ("3e kwartiel", "3rd quartile"),
            "rank" => ("Rang", "Rank"),
            "named_peers" => ("Met naam (op eigen verzoek)", "Named (opted in)"),
            "size_class" => ("Zelfde grootteklasse", "Same size class"),
            "all" => ("Alle gemeenten", "All municipalities"),
            "csv" => ("Download de tabel als CSV", "Download the table as CSV"),
            "no_value" => ("geen meting", "not measured"),
            "roster" => ("Rooster", "Roster"),
            "who" => ("Medewerker", "Agent"),
            "for_unit" => ("Werkt voor", "Works for"),
            "weekday" => ("Dag", "Day"),
            "start" => ("Begin", "Start"),
            "end" => ("Einde", "End"),
            "add_shift" => ("Dienst toevoegen", "Add shift"),
            "remove" => ("Verwijderen", "Remove"),
            "grid" => ("Weekrooster tegen advies", "Week grid against advice"),
            "hour" => ("Uur", "Hour"),
            "date" => ("Datum", "Date"),
            "level" => ("Niveau", "Level"),
            "theme" => ("Thema", "Theme"),
            "trend" => ("Verloop", "Trend"),
            "attribution" => (
                "Inwonertal: afgeleid uit GeoNames (geonames.org, CC BY 4.0); door de gemeente aan te passen",
                "Number of inhabitants: derived from GeoNames (geonames.org, CC BY 4.0); the municipality can change it",
            ),
            "own_value" => ("eigen waarde", "own value"),
            "strip_legend" => (
                "Blok: 1e tot 3e kwartiel, dikke lijn: mediaan, rode ruit: eigen waarde",
                "Box: 1st to 3rd quartile, thick line: median, red diamond: own value",
            ),
            "higher_better" => ("hoger is beter", "higher is better"),
            "lower_better" => ("lager is beter", "lower is better"),
            "forbidden_view" => (
                "alleen een supervisor of beheerder van deze gemeente mag dit zien",
                "only a supervisor or administrator of this municipality may see this",
            ),
            "forbidden_edit" => (
                "alleen een supervisor of beheerder mag dit wijzigen",
                "only a supervisor or administrator may change this",
            ),
            "per_municipality" => ("per gemeente", "per municipality"),
            "default_value" => ("standaardwaarde", "default value"),
            "no_measured_aht" => (
                "standaardwaarde; nog geen gemeten behandeltijd",
                "default value; no measured handle time yet",
            ),
            _ => ("?", "?"),
        };
        if self.0 { en } else { nl }
    }
}

// ---------------------------------------------------------------- access

/// A logged-in user on one tenant's insight pages.
struct Ctx {
    user: CurrentUser,
    tenant: Tenant,
    t: Tr,
    /// Supervisor or beheerder of the tenant: may change settings, roster and assessments.
    can_edit: bool,
}

/// Who may view: supervisor or beheerder of the tenant, a coordinator of the tenant or its pool,
/// or a national coordinator. Who may change: supervisor or beheerder of the tenant.
/// May `user` see these pages of `code`, and change them (the bool)?
pub(crate) fn access(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> AppResult<(Tenant, bool)> {
    let code = TenantCode::parse(code).map_err(|_| AppError::NotFound)?;
    let tenant = state.tenant(code.as_str()).ok_or(AppError::NotFound)?;
    let edit = user.has_role(&tenant.code, Role::Supervisor)
        || user.has_role(&tenant.code, Role::Beheerder);
    let coordinator = user.has_role(&tenant.code, Role::Coordinator)
        || user.has_role(TenantCode::national().as_str(), Role::Coordinator)
        || tenant
            .pool_code
            .as_deref()
            .is_some_and(|p| user.has_role(p, Role::Coordinator));
    if edit || coordinator {
        return Ok((tenant, edit));
    }
    if user.roles.contains_key(&tenant.code) || user.can_see(&tenant.code) {
        Err(AppError::Forbidden(L(false).s("forbidden_view").into()))
    } else {
        Err(AppError::NotFound)
    }
}

fn enter(
    state: &AppState,
    headers: &HeaderMap,
    user: Result<CurrentUser, AppError>,
    code: &str,
) -> Result<Ctx, Box<Response>> {
    let user = user.map_err(|e| Box::new(error_response(e, lang_of(headers))))?;
    let t = ui::tr(headers, &user);
    let (tenant, can_edit) = access(state, &user, code).map_err(|e| {
        let e = match e {
            AppError::Forbidden(_) => AppError::Forbidden(L(t.is_en()).s("forbidden_view").into()),
            e => e,
        };
        Box::new(error_response(e, t.0))
    })?;
    Ok(Ctx {
        user,
        tenant,
        t,
        can_edit,
    })
}

/// `enter` for a form post: the user must be able to edit, and the CSRF token must match.
fn enter_post(
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
    if !ctx.can_edit {
        return Err(Box::new(error_response(
            AppError::Forbidden(L(ctx.t.is_en()).s("forbidden_edit").into()),
            ctx.t.0,
        )));
    }
    Ok(ctx)
}

/// After a form post: back to the page with `?ok=` or `?fout=`; access errors get a page.
fn done(ctx: &Ctx, section: &str, r: AppResult<&'static str>) -> Response {
    crate::admin::back_to(&ctx.tenant.code, ctx.t.0, section, r)
}

/// What every insight page shows around its section.
pub struct PageCtx {
    pub code: String,
    pub name: String,
    pub section: &'static str,
    pub csrf: String,
    pub ok: Option<&'static str>,
    pub fout: Option<String>,
    pub can_edit: bool,
    /// The user administers this tenant: link back to the other admin pages.
    pub admin: bool,
    pub l: L,
}

impl PageCtx {
    pub fn s(&self, key: &str) -> &'static str {
        self.l.s(key)
    }
    pub fn sections(&self) -> Vec<(&'static str, &'static str)> {
        nav_links(self.l.en())
    }
}

impl Ctx {
    fn page(&self, section: &'static str, flash: Flash) -> PageCtx {
        let l = L(self.t.is_en());
        let ok = flash.ok.as_deref().map(|k| match (k, l.en()) {
            ("verwijderd", false) => "Verwijderd.",
            ("verwijderd", true) => "Removed.",
            ("toegevoegd", false) => "Dienst toegevoegd.",
            ("toegevoegd", true) => "Shift added.",
            (_, false) => "Opgeslagen.",
            (_, true) => "Saved.",
        });
        PageCtx {
            code: self.tenant.code.clone(),
            name: self.tenant.display_name.clone(),
            section,
            csrf: self.user.csrf.clone(),
            ok,
            fout: flash
                .fout
                .map(|f| f.chars().take(300).collect::<String>())
                .filter(|f| !f.is_empty()),
            can_edit: self.can_edit,
            admin: self.user.has_role(&self.tenant.code, Role::Beheerder),
            l,
        }
    }

    fn nav(&self) -> Option<Nav> {
        let mut n = Nav::of(&self.user, "admin");
        // The top "Beheer" link points at this tenant only when the user administers it (the
        // admin pages refuse supervisors).
        if self.user.has_role(&self.tenant.code, Role::Beheerder) {
            n.admin_tenant = Some(self.tenant.code.clone());
        }
        Some(n)
    }
}

const INSIGHT_CSS: &str = r#"
.admin-layout { display: grid; grid-template-columns: minmax(12rem, 16rem) 1fr; gap: 1.5rem; align-items: start; }
@media (max-width: 50rem) { .admin-layout { grid-template-columns: 1fr; } }
.admin-nav ul { list-style: none; margin: 0; padding: 0; }
.admin-nav li a { display: block; padding: .4rem .6rem; border-radius: .3rem; text-decoration: none; }
.admin-nav li a[aria-current="page"] { font-weight: 700; background: rgba(21, 66, 115, .1); }
.admin-main > section, .admin-main > form { margin-bottom: 1.5rem; }
.admin-flash-ok { border-left: .3rem solid #39870c; padding: .5rem .8rem; background: #eef7e8; }
.admin-table { border-collapse: collapse; width: 100%; }
.admin-table caption { text-align: left; font-weight: 700; padding: .4rem 0; }
.admin-table th, .admin-table td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #d0d5dd; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.bm-svg { max-width: 40rem; width: 100%; height: auto; }
.grid-wrap { overflow-x: auto; }
.week-grid { border-collapse: collapse; font-size: .8rem; }
.week-grid caption { text-align: left; font-weight: 700; padding: .4rem 0; }
.week-grid th, .week-grid td { border: 1px solid #d0d5dd; padding: .2rem .3rem; text-align: center; min-width: 4.2rem; }
.week-grid td.onder { background: #fde8e8; color: #7a1010; border: 2px solid #a4161a; }
.week-grid td.boven { background: #fff6d6; color: #5c4400; }
.week-grid td.ok { background: #eef7e8; color: #1f4d07; }
.week-grid .cell-status { display: block; font-weight: 700; }
.maturity fieldset { border: 1px solid #d0d5dd; border-radius: .4rem; padding: .6rem .9rem; margin-bottom: .8rem; }
.maturity legend { font-weight: 700; padding: 0 .3rem; }
.maturity .q { margin-bottom: .6rem; }
.maturity .q legend { font-weight: 600; }
.maturity label { display: block; padding: .15rem 0; }
"#;

async fn css(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
) -> Response {
    if let Err(r) = enter(&state, &headers, user, &code) {
        return *r;
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        INSIGHT_CSS,
    )
        .into_response()
}

// ---------------------------------------------------------------- number formatting

/// A Dutch decimal: `12,3`.
fn dec(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    s.replace('.', ",")
}

/// A duration in seconds for people: "45 s", "12 min", "3 u 20 min", "2 d 4 u" (in English
/// "3 h 20 min", "2 d 4 h").
fn duration_text(secs: f64, t: Tr) -> String {
    let s = secs.round().max(0.0) as u64;
    let hour = t.pick("u", "h");
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else if s < 86_400 {
        let m = (s + 30) / 60;
        if m.is_multiple_of(60) {
            format!("{} {hour}", m / 60)
        } else {
            format!("{} {hour} {} min", m / 60, m % 60)
        }
    } else {
        let h = (s + 1800) / 3600;
        format!("{} d {} {hour}", h / 24, h % 24)
    }
}

// ---------------------------------------------------------------- 1. kengetallen

#[derive(Template)]
#[template(path = "insight_settings.html")]
struct SettingsPage {
    t: Tr,
    nav: Option<Nav>,
    a: PageCtx,
    inhabitants: String,
    hourly: String,
    monthly: String,
    named: bool,
    /// The public figure and its source, when there is one.
    seeded: Option<(String, &'static str)>,
    attribution: &'static str,
    edited: bool,
}

fn cents_text(c: i64) -> String {
    format!("{},{:02}", c / 100, c % 100)
}

async fn settings_page(
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
    let r = async {
        let row = state.store.tenant(&ctx.tenant.code).await?;
        let s = state
            .store
            .insight_settings(&ctx.tenant.code)
            .await?
            .unwrap_or_default();
        Ok::<_, AppError>((row, s))
    }
    .await;
    let (row, s) = match r {
        Ok(v) => v,
        Err(e) => return error_response(e, ctx.t.0),
    };
    let seeded = loket_core::inhabitants::inhabitants_figure(&ctx.tenant.code)
        .map(|f| (thousands(i64::from(f.inhabitants)), f.source));
    page(&SettingsPage {
        t: ctx.t,
        nav: ctx.nav(),
        inhabitants: row.inhabitants.map(|n| n.to_string()).unwrap_or_default(),
        hourly: cents_text(s.hourly_cost_cents),
        monthly: cents_text(s.monthly_tool_cost_cents),
        named: s.benchmark_named,
        seeded,
        attribution: if ctx.t.is_en() {
            L(true).s("attribution")
        } else {
            loket_core::inhabitants::INHABITANTS_ATTRIBUTION
        },
        edited: s.inhabitants_edited_at.is_some(),
        a: ctx.page("kengetallen", flash),
    })
}

/// "12.345".
fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    csrf: String,
    inhabitants: String,
    hourly_cost: String,
    tool_cost: String,
    named: Option<String>,
}

/// The most inhabitants accepted (the largest municipality has under a million).
const MAX_INHABITANTS: i64 = 10_000_000;
/// The largest amount accepted in a cost field, in euro.
const MAX_EUR: i64 = 10_000_000;

/// A whole number of inhabitants, 1 to 10 million; "12.345" and "12 345" are accepted.
pub fn parse_inhabitants(s: &str, l: L) -> AppResult<i64> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    match digits.parse::<i64>() {
        Ok(n) if (1..=MAX_INHABITANTS).contains(&n) => Ok(n),
        _ => Err(AppError::Invalid(if l.en() {
            "fill in a whole number between 1 and 10,000,000 as the number of inhabitants".into()
        } else {
            "vul bij aantal inwoners een heel getal in tussen 1 en 10.000.000".into()
        })),
    }
}

/// An amount in euro with at most two decimals ("45", "45,50", "45.5", "€ 1.250,00") as cents;
/// `what` names the field in the message, in the reader's language.
pub fn parse_euro(s: &str, what: &str, l: L) -> AppResult<i64> {
    let err = || {
        AppError::Invalid(if l.en() {
            format!(
                "fill in an amount in euro as {what}, for example 45 or 45,50 (0 to 10,000,000)"
            )
        } else {
            format!(
                "vul bij {what} een bedrag in euro in, bijvoorbeeld 45 of 45,50 (0 tot 10.000.000)"
            )
        })
    };
    let t: String = s
        .trim()
        .trim_start_matches('€')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if t.is_empty() {
        return Ok(0);
    }
    // With a comma, the comma is the decimal separator and dots group thousands.
    let t = if t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else {
        t
    };
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t.as_str(), ""),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    let w: i64 = whole.parse().map_err(|_| err())?;
    if w > MAX_EUR {
        return Err(err());
    }
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| err())?
    };
    Ok(w * 100 + f)
}

async fn settings_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<SettingsForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let l = L(ctx.t.is_en());
    let r = async {
        let inhabitants = parse_inhabitants(&f.inhabitants, l)?;
        let hourly = parse_euro(
            &f.hourly_cost,
            if l.en() {
                "the cost per hour"
            } else {
                "kosten per uur"
            },
            l,
        )?;
        let monthly = parse_euro(
            &f.tool_cost,
            if l.en() {
                "the fixed cost per month"
            } else {
                "vaste kosten per maand"
            },
            l,
        )?;
        let current = state.store.tenant(&ctx.tenant.code).await?;
        let u = InsightSettingsUpdate {
            inhabitants,
            inhabitants_changed: current.inhabitants != Some(inhabitants),
            hourly_cost_cents: hourly,
            monthly_tool_cost_cents: monthly,
            benchmark_named: f.named.as_deref().is_some_and(|v| !v.is_empty()),
        };
        state
            .store
            .save_insight_settings(&ctx.tenant.code, &u, Some(ctx.user.id))
            .await?;
        state.reload_tenants().await.map_err(AppError::Unexpected)?;
        Ok::<_, AppError>("opgeslagen")
    }
    .await;
    done(&ctx, "kengetallen", r)
}

// ---------------------------------------------------------------- 2. benchmark

/// How long computed benchmark sums are reused: every municipality's page reads the same
/// sums of all municipalities, so one computation serves all of them.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The sums of all municipalities, shared by the pages that read them.
type SharedSums = std::sync::Arc<HashMap<String, Sums>>;

/// The sums of all municipalities per period length (days), with when they were computed.
/// Stale sums are served while one background task computes new ones, so only the very first
/// request of a period length waits for them (and `loket serve` and `loket demo` compute them
/// at start-up, see [`BenchmarkCache::warm`]).
#[derive(Default)]
pub struct BenchmarkCache {
    by_days: std::sync::Mutex<HashMap<u32, Cached>>,
    /// Held while computing sums nobody has yet, so concurrent first requests compute once.
    computing: tokio::sync::Mutex<()>,
}

struct Cached {
    at: std::time::Instant,
    sums: SharedSums,
    refreshing: bool,
}

impl BenchmarkCache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Cached>> {
        self.by_days.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sums for the last `days` (`[from, to)`): cached ones when there are any (older
    /// than [`CACHE_TTL`]: also one refresh in the background), else computed now.
    async fn sums(&self, state: &AppState, days: u32, from: i64, to: i64) -> AppResult<SharedSums> {
        if let Some(s) = self.cached(state, days, from, to) {
            return Ok(s);
        }
        let _one = self.computing.lock().await;
        if let Some(s) = self.cached(state, days, from, to) {
            return Ok(s);
        }
        let sums = compute_sums(state, from, to).await?;
        self.put(days, sums.clone());
        Ok(sums)
    }

    fn cached(&self, state: &AppState, days: u32, from: i64, to: i64) -> Option<SharedSums> {
        let mut map = self.map();
        let c = map.get_mut(&days)?;
        if c.at.elapsed() >= CACHE_TTL && !c.refreshing {
            c.refreshing = true;
            let state = state.clone();
            tokio::spawn(async move {
                match compute_sums(&state, from, to).await {
                    Ok(sums) => state.benchmark_cache.put(days, sums),
                    Err(e) => {
                        tracing::warn!(error = %e, days, "refreshing the benchmark sums failed");
                        if let Some(c) = state.benchmark_cache.map().get_mut(&days) {
                            c.refreshing = false;
                        }
                    }
                }
            });
        }
        Some(c.sums.clone())
    }

    fn put(&self, days: u32, sums: SharedSums) {
        self.map().insert(
            days,
            Cached {
                at: std::time::Instant::now(),
                sums,
                refreshing: false,
            },
        );
    }

    /// Computes the sums of every period length the page offers (at start-up, so that no
    /// one waits for them).
    pub async fn warm(state: &AppState) {
        for days in PERIODS {
            let (from, to) = period_ms(days);
            match compute_sums(state, from, to).await {
                Ok(sums) => state.benchmark_cache.put(days, sums),
                Err(e) => tracing::warn!(error = %e, days, "computing the benchmark sums failed"),
            }
        }
    }

    /// Forgets everything (tests, and after a rollup rebuild).
    pub async fn clear(&self) {
        self.map().clear();
    }
}

/// `[from, to)` of the last `days`: whole local days up to and including today, so the sums
/// come from daily and monthly rows only (no hourly edges for every municipality).
fn period_ms(days: u32) -> (i64, i64) {
    use loket_store::rollups::{HOUR_MS, Tier, day_of};
    let today = day_of(loket_store::now_ms());
    let first = today - (i64::from(days.max(1)) - 1) * DAY_MS;
    // Midday of the first day lies inside it whatever the clocks did in between.
    (day_of(first + 12 * HOUR_MS), Tier::Day.next(today))
}

/// The sums of all municipalities over `[from, to)`: totals per municipality summed in the
/// database (whole months as one row each), and their satisfaction answers.
async fn compute_sums(state: &AppState, from: i64, to: i64) -> AppResult<SharedSums> {
    let tenants = state.store.tenants().await?;
    let codes: Vec<String> = tenants
        .iter()
        .filter(|t| t.kind == "gemeente")
        .map(|t| t.code.clone())
        .collect();
    let mut sums: HashMap<String, Sums> = HashMap::with_capacity(codes.len());
    let by = loket_store::rollups::GroupBy {
        tenant: true,
        first_response_hist: true,
        resolution_hist: true,
        ..Default::default()
    };
    // Every tenant at once: the per-tenant projection, without a list of 342 codes; only the
    // municipalities are kept.
    for r in state
        .store
        .rollups_grouped_in(
            loket_store::rollups::Scope::All,
            from,
            to,
            loket_store::rollups::Tier::Month,
            by,
            None,
            None,
        )
        .await?
    {
        if codes.contains(&r.tenant_code) {
            sums.entry(r.tenant_code.clone()).or_default().add(&r);
        }
    }
    Ok(std::sync::Arc::new(sums))
}

/// Sums of one tenant over the period, from the rollups.
#[derive(Default)]
pub struct Sums {
    contacts: i64,
    first_responses: i64,
    first_hist: Histogram,
    resolutions: i64,
    resolution_hist: Histogram,
    reopens: i64,
    pool_handled: i64,
    negative: i64,
    with_sentiment: i64,
    csat_responses: i64,
    csat_satisfied: i64,
}

impl Sums {
    fn add(&mut self, r: &RollupRow) {
        self.contacts += r.new_conversations;
        self.first_responses += r.first_responses;
        self.first_hist.merge(&r.first_response_hist);
        self.resolutions += r.resolutions;
        self.resolution_hist.merge(&r.resolution_hist);
        self.reopens += r.reopens;
        self.pool_handled += r.pool_handled;
        self.negative += r.sentiment_negative;
        self.with_sentiment += r.sentiment_positive + r.sentiment_neutral + r.sentiment_negative;
        let (answers, _, satisfied) = r.csat_counts();
        self.csat_responses += answers;
        self.csat_satisfied += satisfied;
    }
}

/// How a figure's value is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Per1000,
    Seconds,
    Percent,
}

/// One key figure of the benchmark.
struct FigureDef {
    id: &'static str,
    nl: &'static str,
    en: &'static str,
    unit: Unit,
    higher_is_better: bool,
    /// The value of a tenant, `None` when not measured in the period.
    value: fn(&Sums, Option<i64>) -> Option<f64>,
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The key figures, with the same ids as `docs/metrics.md`. A municipality takes part in a
/// figure only when it was measured in the period (it had contacts, responses, resolutions,
/// answers): a municipality that does not use Loket yet is not a zero.
const FIGURES: [FigureDef; 7] = [
    FigureDef {
        id: "contacts_per_1000",
        nl: "Contacten per 1.000 inwoners",
        en: "Contacts per 1,000 inhabitants",
        unit: Unit::Per1000,
        higher_is_better: true,
        value: |s, inh| match inh {
            Some(n) if n > 0 && s.contacts > 0 => Some(s.contacts as f64 * 1000.0 / n as f64),
            _ => None,
        },
    },
    FigureDef {
        id: "first_response_time",
        nl: "Eerste reactietijd (mediaan)",
        en: "First-response time (median)",
        unit: Unit::Seconds,
        higher_is_better: false,
        value: |s, _| s.first_hist.percentile(50).map(|v| v as f64),
    },
    FigureDef {
        id: "resolution_time",
        nl: "Oplostijd (mediaan)",
        en: "Resolution time (median)",
        unit: Unit::Seconds,
        higher_is_better: false,
        value: |s, _| s.resolution_hist.percentile(50).map(|v| v as f64),
    },
    FigureDef {
        id: "reopen_rate",
        nl: "Heropend na oplossen",
        en: "Reopen rate",
        unit: Unit::Percent,
        higher_is_better: false,
        value: |s, _| share(s.reopens.min(s.resolutions), s.resolutions),
    },
    FigureDef {
        id: "sentiment_negative",
        nl: "Aandeel negatief sentiment",
        en: "Share of negative sentiment",
        unit: Unit::Percent,
        higher_is_better: false,
        value: |s, _| share(s.negative, s.with_sentiment),
    },
    FigureDef {
        id: "csat",
        nl: "Tevredenheid (aandeel 4 of 5 sterren)",
        en: "Satisfaction (share of 4 or 5 stars)",
        unit: Unit::Percent,
        higher_is_better: true,
        value: |s, _| share(s.csat_satisfied, s.csat_responses),
    },
    FigureDef {
        id: "pool_share",
        nl: "Aandeel behandeld door de regiopool",
        en: "Share handled by the regional pool",
        unit: Unit::Percent,
        higher_is_better: false,
        value: |s, _| share(s.pool_handled, s.contacts),
    },
];

fn fmt_value(unit: Unit, v: f64, l: L) -> String {
    match unit {
        Unit::Per1000 => dec(v, 2),
        Unit::Seconds => duration_text(v, Tr(if l.en() { Lang::En } else { Lang::Nl })),
        Unit::Percent => format!("{} %", dec(v, 1)),
    }
}

fn csv_value(v: f64) -> String {
    format!("{v:.2}")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BenchQuery {
    dagen: Option<String>,
    format: Option<String>,
    ok: Option<String>,
    fout: Option<String>,
}

/// The period choices, in days.
const PERIODS: [u32; 4] = [7, 30, 90, 365];

/// One comparison group, ready for the table.
pub struct GroupView {
    pub label: &'static str,
    pub shown: bool,
    pub reason: &'static str,
    pub count: String,
    pub q1: String,
    pub median: String,
    pub q3: String,
    pub rank: String,
    /// (name, value)
    pub named: Vec<(String, String)>,
    raw: Option<(f64, f64, f64)>,
}

/// One figure's row block.
pub struct FigureView {
    pub id: &'static str,
    pub label: &'static str,
    pub direction: &'static str,
    pub own: String,
    pub groups: Vec<GroupView>,
    pub svg: String,
    own_raw: Option<f64>,
}

struct BenchmarkData {
    days: u32,
    /// The asker's size class, in the reader's language.
    size_class: Option<&'static str>,
    figures: Vec<FigureView>,
}

/// Everything the benchmark needs, for all municipalities in one pass: one `rollups` call over
/// the period, one CSAT query, the settings (opt-ins) and the inhabitants.
async fn compute_benchmark(
    state: &AppState,
    asker: &Tenant,
    days: u32,
    l: L,
) -> AppResult<BenchmarkData> {
    let (from, to) = period_ms(days);
    let tenants = state.store.tenants().await?;
    let gemeenten: Vec<_> = tenants.iter().filter(|t| t.kind == "gemeente").collect();
    let sums = state.benchmark_cache.sums(state, days, from, to).await?;
    let named: HashMap<String, bool> = state
        .store
        .all_insight_settings()
        .await?
        .into_iter()
        .map(|s| (s.tenant_code, s.benchmark_named))
        .collect();
    let asker_code = TenantCode::parse(&asker.code).map_err(|_| AppError::NotFound)?;
    let empty = Sums::default();
    let mut figures = Vec::new();
    let mut size_class = None;
    for def in &FIGURES {
        let peers: Vec<PeerValue> = gemeenten
            .iter()
            .filter_map(|t| {
                let code = TenantCode::parse(&t.code).ok()?;
                let s = sums.get(&t.code).unwrap_or(&empty);
                Some(PeerValue {
                    tenant_code: code,
                    inhabitants: t.inhabitants.and_then(|n| u32::try_from(n).ok()),
                    value: (def.value)(s, t.inhabitants).unwrap_or(f64::NAN),
                    opted_in_named: named.get(&t.code).copied().unwrap_or(false),
                })
            })
            .collect();
        let b = peers::benchmark(&asker_code, &peers, def.higher_is_better);
        size_class = b
            .size_class
            .map(|c| if l.en() { c.label_en() } else { c.label() });
        figures.push(figure_view(state, def, &b, l));
    }
    Ok(BenchmarkData {
        days,
        size_class,
        figures,
    })
}

fn group_view(state: &AppState, label: &'static str, g: &Group, unit: Unit, l: L) -> GroupView {
    match g {
        Group::Suppressed { reason } => GroupView {
            label,
            shown: false,
            reason: if l.en() {
                reason.text_en()
            } else {
                reason.text()
            },
            count: String::new(),
            q1: String::new(),
            median: String::new(),
            q3: String::new(),
            rank: String::new(),
            named: vec![],
            raw: None,
        },
        Group::Shown(f) => GroupView {
            label,
            shown: true,
            reason: "",
            count: f.count.to_string(),
            q1: fmt_value(unit, f.quartiles.q1, l),
            median: fmt_value(unit, f.quartiles.median, l),
            q3: fmt_value(unit, f.quartiles.q3, l),
            rank: f
                .rank
                .as_ref()
                .map(|r| {
                    if l.en() {
                        r.label_en()
                    } else {
                        r.label.clone()
                    }
                })
                .unwrap_or_else(|| "–".into()),
            named: f
                .named
                .iter()
                .map(|n| {
                    (
                        state.tenant_label(n.tenant_code.as_str()),
                        fmt_value(unit, n.value, l),
                    )
                })
                .collect(),
            raw: Some((f.quartiles.q1, f.quartiles.median, f.quartiles.q3)),
        },
    }
}

fn figure_view(state: &AppState, def: &FigureDef, b: &Benchmark, l: L) -> FigureView {
    let label = if l.en() { def.en } else { def.nl };
    let groups = vec![
        group_view(state, l.s("size_class"), &b.same_size_class, def.unit, l),
        group_view(state, l.s("all"), &b.all, def.unit, l),
    ];
    let own = b
        .own_value
        .map(|v| fmt_value(def.unit, v, l))
        .unwrap_or_else(|| l.s("no_value").to_string());
    let direction = if def.higher_is_better {
        l.s("higher_better")
    } else {
        l.s("lower_better")
    };
    let mut v = FigureView {
        id: def.id,
        label,
        direction,
        own,
        groups,
        svg: String::new(),
        own_raw: b.own_value,
    };
    v.svg = strip_svg(&v, def.unit, l);
    v
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A box strip per shown group: the box from Q1 to Q3, a line at the median and a diamond at
/// the own value; with a title and a description that says the same in words. Empty when no
/// group is shown (the table then says why).
fn strip_svg(f: &FigureView, unit: Unit, l: L) -> String {
    let shown: Vec<&GroupView> = f.groups.iter().filter(|g| g.raw.is_some()).collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for g in &shown {
        let (q1, _, q3) = g.raw.unwrap_or_default();
        lo = lo.min(q1);
        hi = hi.max(q3);
    }
    if let Some(o) = f.own_raw {
        lo = lo.min(o);
        hi = hi.max(o);
    }
    let pad = ((hi - lo) * 0.1).max(if hi.abs() > 0.0 { hi.abs() * 0.05 } else { 1.0 });
    let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
    let (x0, x1) = (170.0, 580.0);
    let x = |v: f64| x0 + (v - lo) / (hi - lo).max(f64::EPSILON) * (x1 - x0);
    let row_h = 40.0;
    let height = 20.0 + row_h * shown.len() as f64 + 20.0;
    let id = f.id;
    let title = format!("{}: {} {}", f.label, l.s("own_value"), f.own);
    let mut desc = Vec::new();
    for g in &shown {
        desc.push(format!(
            "{}: {} {}, {} {}, {} {} ({} {}).",
            g.label,
            l.s("q1"),
            g.q1,
            l.s("median").to_lowercase(),
            g.median,
            l.s("q3"),
            g.q3,
            l.s("rank").to_lowercase(),
            g.rank
        ));
    }
    let mut s = format!(
        r#"<svg class="bm-svg" viewBox="0 0 600 {height}" role="img" aria-labelledby="svg-{id}-t svg-{id}-d" xmlns="http://www.w3.org/2000/svg"><title id="svg-{id}-t">{}</title><desc id="svg-{id}-d">{}</desc>"#,
        esc(&title),
        esc(&desc.join(" "))
    );
    for (i, g) in shown.iter().enumerate() {
        let (q1, med, q3) = g.raw.unwrap_or_default();
        let y = 20.0 + row_h * i as f64;
        s.push_str(&format!(
            r##"<text x="0" y="{ty}" font-size="13" fill="#1a1a1a">{label}</text><line x1="{x0}" x2="{x1}" y1="{cy}" y2="{cy}" stroke="#6b7280" stroke-width="1"/><rect x="{bx:.1}" y="{by}" width="{bw:.1}" height="20" fill="#cfe0f1" stroke="#154273" stroke-width="1.5"/><line x1="{mx:.1}" x2="{mx:.1}" y1="{by}" y2="{be}" stroke="#154273" stroke-width="3"/>"##,
            ty = y + 14.0,
            label = esc(g.label),
            cy = y + 10.0,
            bx = x(q1),
            by = y,
            bw = (x(q3) - x(q1)).max(1.0),
            mx = x(med),
            be = y + 20.0,
        ));
        if let Some(o) = f.own_raw {
            let ox = x(o);
            s.push_str(&format!(
                r##"<path d="M{ox:.1} {t} l7 10 l-7 10 l-7 -10 z" fill="#a4161a" stroke="#ffffff" stroke-width="1"/>"##,
                t = y
            ));
        }
    }
    let ly = 20.0 + row_h * shown.len() as f64 + 12.0;
    let _ = unit;
    s.push_str(&format!(
        r##"<text x="{x0}" y="{ly}" font-size="12" fill="#374151">{}</text></svg>"##,
        esc(l.s("strip_legend"))
    ));
    s
}

#[derive(Template)]
#[template(path = "insight_benchmark.html")]
struct BenchmarkPage {
    t: Tr,
    nav: Option<Nav>,
    a: PageCtx,
    days: u32,
    periods: Vec<u32>,
    size_class: Option<&'static str>,
    figures: Vec<FigureView>,
}

fn days_of(q: &BenchQuery) -> u32 {
    q.dagen
        .as_deref()
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(30)
}

#[tracing::instrument(skip_all, fields(tenant = %code))]
async fn benchmark_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(q): Query<BenchQuery>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let days = days_of(&q);
    let l = L(ctx.t.is_en());
    let data = match compute_benchmark(&state, &ctx.tenant, days, l).await {
        Ok(d) => d,
        Err(e) => return error_response(e, ctx.t.0),
    };
    if q.format.as_deref() == Some("csv") {
        return csv_response(&ctx.tenant.code, &data, l);
    }
    let flash = Flash {
        ok: q.ok,
        fout: q.fout,
    };
    page(&BenchmarkPage {
        t: ctx.t,
        nav: ctx.nav(),
        a: ctx.page("benchmark", flash),
        days: data.days,
        periods: PERIODS.to_vec(),
        size_class: data.size_class,
        figures: data.figures,
    })
}

#[tracing::instrument(skip_all, fields(tenant = %code))]
async fn benchmark_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(q): Query<BenchQuery>,
) -> Response {
    let ctx = match enter(&state, &headers, user, &code) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let l = L(ctx.t.is_en());
    match compute_benchmark(&state, &ctx.tenant, days_of(&q), l).await {
        Ok(d) => csv_response(&ctx.tenant.code, &d, l),
        Err(e) => error_response(e, ctx.t.0),
    }
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The table as CSV: one row per figure and group; numbers with a decimal point, durations in
/// seconds, shares in percent.
fn csv_body(data: &BenchmarkData) -> String {
    let mut out = String::from(
        "kengetal,groep,eigen_waarde,aantal_gemeenten,kwartiel_1,mediaan,kwartiel_3,rang,toelichting\n",
    );
    for f in &data.figures {
        for g in &f.groups {
            let own = f.own_raw.map(csv_value).unwrap_or_default();
            let cells: Vec<String> = match g.raw {
                Some((q1, med, q3)) => vec![
                    f.id.to_string(),
                    g.label.to_string(),
                    own,
                    g.count.clone(),
                    csv_value(q1),
                    csv_value(med),
                    csv_value(q3),
                    g.rank.clone(),
                    String::new(),
                ],
                None => vec![
                    f.id.to_string(),
                    g.label.to_string(),
                    own,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    g.reason.to_string(),
                ],
            };
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
    }
    out
}

fn csv_response(code: &str, data: &BenchmarkData, _l: L) -> Response {
    let disposition = format!(
        "attachment; filename=\"benchmark-{code}-{}d.csv\"",
        data.days
    );
    let mut r = csv_body(data).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

// ---------------------------------------------------------------- 3. bezetting

const AMS: chrono_tz::Tz = chrono_tz::Europe::Amsterdam;

/// The tenants whose arrivals count for `tenant`'s grid, and the units whose shifts count.
/// A pool serves the municipalities whose `pool_code` is the pool.
fn units_of(state: &AppState, tenant: &Tenant) -> (Vec<String>, Vec<String>) {
    if tenant.kind == TenantKind::Regio {
        let mut members: Vec<String> = state
            .tenants()
            .values()
            .filter(|t| {
                t.kind == TenantKind::Gemeente && t.pool_code.as_deref() == Some(&tenant.code)
            })
            .map(|t| t.code.clone())
            .collect();
        members.sort();
        let mut units = vec![tenant.code.clone()];
        units.extend(members.iter().cloned());
        let mut arrivals = members;
        arrivals.push(tenant.code.clone());
        (arrivals, units)
    } else {
        (vec![tenant.code.clone()], vec![tenant.code.clone()])
    }
}

/// Past weeks of arrivals per group and tenant, oldest week first, from the hourly arrivals
/// of the last `weeks` whole weeks before `end_ms`'s hour ([`Store::arrivals_hourly`]: chats
/// count new conversations, the other channels inbound messages). Hours are converted to
/// Amsterdam wall-clock time before they are put in a slot.
///
/// [`Store::arrivals_hourly`]: loket_store::Store::arrivals_hourly
fn week_counts(
    rows: &[HourlyArrivals],
    end_ms: i64,
    weeks: usize,
) -> BTreeMap<(String, ChannelGroup), Vec<WeekCounts>> {
    let mut out: BTreeMap<(String, ChannelGroup), Vec<WeekCounts>> = BTreeMap::new();
    for r in rows {
        let age = end_ms - r.hour_start;
        if age <= 0 {
            continue;
        }
        let w = ((age - 1) / WEEK_MS) as usize;
        if w >= weeks {
            continue;
        }
        let Some(utc) = Utc.timestamp_millis_opt(r.hour_start).single() else {
            continue;
        };
        let slot = HourOfWeek::of_local(utc.with_timezone(&AMS).naive_local());
        for (group, n) in [
            (ChannelGroup::Realtime, r.realtime),
            (ChannelGroup::Async, r.other),
        ] {
            if n <= 0 {
                continue;
            }
            let hist = out
                .entry((r.tenant_code.clone(), group))
                .or_insert_with(|| vec![[0u32; SLOTS]; weeks]);
            let cell = &mut hist[weeks - 1 - w][slot.index()];
            *cell = cell.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    out
}

/// The channels whose arrivals are real-time work (chat): the rest is asynchronous.
fn realtime_channels() -> Vec<&'static str> {
    Channel::ALL
        .into_iter()
        .filter(|c| ChannelGroup::of(*c) == ChannelGroup::Realtime)
        .map(Channel::as_str)
        .collect()
}

/// One channel group's advice, with the pool's savings sentence when it is a pool.
pub struct GroupSummary {
    pub label: &'static str,
    pub target: String,
    pub aht: String,
    pub forecast_total: String,
    pub trend: String,
    pub peak: u32,
    pub pool_sentence: Option<String>,
}

#[derive(Template)]
#[template(path = "insight_roster.html")]
struct RosterPage {
    t: Tr,
    nav: Option<Nav>,
    a: PageCtx,
    is_pool: bool,
    members: usize,
    groups: Vec<GroupSummary>,
    grid: WeekGrid,
    /// The grid transposed: one row per hour, one cell (with its verdict) per weekday.
    by_hour: Vec<(&'static str, Vec<(staffing::GridCell, String)>)>,
    /// The grid's weekdays, Monday first, in the reader's language.
    grid_days: Vec<&'static str>,
    /// (id, who, for, weekday, start, end)
    shifts: Vec<(i64, String, String, &'static str, String, String)>,
    users: Vec<(i64, String)>,
    units: Vec<(String, String)>,
    weekdays: Vec<(usize, &'static str)>,
}

fn hhmm(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn weekday_of(i: i64) -> Option<Weekday> {
    Some(match i {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        6 => Weekday::Sun,
        _ => return None,
    })
}

fn shift_of(r: &ShiftRow) -> Option<Shift> {
    let t = |m: i64| {
        NaiveTime::from_hms_opt(u32::try_from(m / 60).ok()?, u32::try_from(m % 60).ok()?, 0)
    };
    Shift::new(
        r.user_id,
        TenantCode::parse(&r.unit_code).ok()?,
        weekday_of(r.weekday)?,
        t(r.start_minute)?,
        t(r.end_minute)?,
    )
    .ok()
}

/// Conversations with measured handle time needed before their average replaces the default.
const MIN_MEASURED_AHT: i64 = 20;

/// The advice per group for the tenant (a pool: shared over its members) and the grid, with
/// the words in the reader's language.
async fn staffing_grid(
    state: &AppState,
    tenant: &Tenant,
    shifts: &[ShiftRow],
    t: Tr,
    st: &mut ServerTiming,
) -> AppResult<(Vec<GroupSummary>, WeekGrid, usize)> {
    let (arrival_tenants, units) = units_of(state, tenant);
    let weeks = ForecastParams::default().weeks();
    // The current (partial) hour counts as part of the latest week.
    let end = loket_store::rollups::hour_of(loket_store::now_ms()) + loket_store::rollups::HOUR_MS;
    let from = end - weeks as i64 * WEEK_MS;
    // Per tenant and hour, summed over channels (per group) and topics in the database.
    let rows = state
        .store
        .arrivals_hourly(&arrival_tenants, from, end, &realtime_channels())
        .await?;
    st.mark("arrivals");
    let counts = week_counts(&rows, end, weeks);
    let is_pool = tenant.kind == TenantKind::Regio;
    // Measured handle time per channel group over the same weeks (see loket_store::activity).
    let mut measured: HashMap<ChannelGroup, (i64, i64)> = HashMap::new();
    for (channel, n, secs) in state
        .store
        .handle_by_channel(&arrival_tenants, from, end)
        .await?
    {
        if let Some(c) = loket_core::Channel::parse(&channel) {
            let e = measured.entry(ChannelGroup::of(c)).or_default();
            e.0 += n;
            e.1 += secs;
        }
    }
    st.mark("handle-time");
    let mut advice: Vec<GroupAdvice> = Vec::new();
    let mut summaries = Vec::new();
    for group in ChannelGroup::ALL {
        let default = GroupParams::default_for(group);
        let l = L(t.is_en());
        let (params, aht_note) = match measured.get(&group) {
            Some((n, secs)) if *n >= MIN_MEASURED_AHT => {
                match default.with_aht_seconds(*secs as f64 / *n as f64) {
                    Ok(p) => (
                        p,
                        tformat!(
                            t,
                            "gemeten over {n} gesprekken",
                            "measured over {n} conversations"
                        ),
                    ),
                    Err(_) => (default, l.s("default_value").to_string()),
                }
            }
            Some((n, _)) => (
                default,
                tformat!(
                    t,
                    "standaardwaarde; pas {n} gesprekken met gemeten behandeltijd",
                    "default value; only {n} conversations with measured handle time"
                ),
            ),
            None => (default, l.s("no_measured_aht").to_string()),
        };
        let mut member_rates: Vec<WeekRates> = Vec::new();
        let mut total_trend = Vec::new();
        for t in &arrival_tenants {
            let hist = counts
                .get(&(t.clone(), group))
                .cloned()
                .unwrap_or_else(|| vec![[0u32; SLOTS]; weeks]);
            let f = staffing::forecast(&hist, ForecastParams::default());
            total_trend.push(f.trend);
            member_rates.push(f.rates);
        }
        let combined = WeekRates::sum(&member_rates);
        let (a, pool_sentence) = if is_pool {
            let p = staffing::pool_advice(group, &member_rates, &params);
            let saved = p.hours_saved();
            let sentence = tformat!(
                t,
                "Samen roosteren voor {} gemeenten: {}; dat scheelt {saved} uur per week.",
                "Rostering together for {} municipalities: {}; that saves {saved} hours per week.",
                arrival_tenants.len().saturating_sub(1),
                if t.is_en() {
                    p.summary_en()
                } else {
                    p.summary_nl()
                }
            );
            (p.shared, Some(sentence))
        } else {
            (staffing::advise(group, &combined, &params), None)
        };
        let trend = total_trend.first().copied().unwrap_or(1.0);
        summaries.push(GroupSummary {
            label: t.pick(group.label_nl(), group.label_en()),
            target: tformat!(
                t,
                "{} % binnen {}",
                "{} % within {}",
                (params.target_service_level() * 100.0).round(),
                duration_text(params.target_seconds(), t)
            ),
            aht: format!("{} ({aht_note})", duration_text(params.aht_seconds(), t)),
            forecast_total: dec(combined.total(), 1),
            trend: if is_pool {
                l.s("per_municipality").into()
            } else {
                format!("{} %", dec((trend - 1.0) * 100.0, 0))
            },
            peak: a.peak_staff(),
            pool_sentence,
        });
        advice.push(a);
    }
    let shifts: Vec<Shift> = shifts.iter().filter_map(shift_of).collect();
    let unit_codes: Vec<TenantCode> = units
        .iter()
        .filter_map(|u| TenantCode::parse(u).ok())
        .collect();
    let rostered = staffing::rostered(&shifts, &unit_codes);
    let grid = WeekGrid::build(&advice, &rostered, Tolerance::default());
    st.mark("advice");
    Ok((summaries, grid, arrival_tenants.len()))
}

#[tracing::instrument(skip_all, fields(tenant = %code))]
async fn roster_page(
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
    let mut st = ServerTiming::start();
    let r = async {
        let (_, units) = units_of(&state, &ctx.tenant);
        let rows = state.store.roster_shifts(&units).await?;
        st.mark("roster");
        let (groups, grid, n) = staffing_grid(&state, &ctx.tenant, &rows, ctx.t, &mut st).await?;
        let users = roster_users(&state, &ctx.tenant).await?;
        Ok::<_, AppError>((units, rows, groups, grid, n, users))
    }
    .await;
    let (units, rows, groups, grid, n, users) = match r {
        Ok(v) => v,
        Err(e) => return error_response(e, ctx.t.0),
    };
    let names: HashMap<i64, String> = users.iter().cloned().collect();
    let shifts = rows
        .iter()
        .map(|s| {
            (
                s.id,
                names
                    .get(&s.user_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", s.user_id)),
                state.tenant_label(&s.unit_code),
                usize::try_from(s.weekday)
                    .ok()
                    .filter(|d| *d < 7)
                    .map(|d| ctx.t.weekday(d))
                    .unwrap_or("?"),
                hhmm(s.start_minute),
                hhmm(s.end_minute),
            )
        })
        .collect();
    let is_pool = ctx.tenant.kind == TenantKind::Regio;
    let en = ctx.t.is_en();
    let by_hour = (0..24)
        .map(|h| {
            (
                grid.hours[h],
                grid.rows
                    .iter()
                    .map(|r| {
                        let c = r.cells[h];
                        let verdict = if en {
                            c.status.label_en()
                        } else {
                            c.status.label_nl()
                        };
                        (c, verdict)
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    st.mark("page");
    let mut r = page(&RosterPage {
        by_hour,
        grid_days: (0..7).map(|d| ctx.t.weekday(d)).collect(),
        t: ctx.t,
        nav: ctx.nav(),
        is_pool,
        members: n.saturating_sub(1),
        groups,
        grid,
        shifts,
        users,
        units: units
            .iter()
            .map(|u| (u.clone(), state.tenant_label(u)))
            .collect(),
        weekdays: (0..7).map(|d| (d, ctx.t.weekday(d))).collect(),
        a: ctx.page("bezetting", flash),
    });
    st.mark("render");
    r.headers_mut().insert(
        axum::http::HeaderName::from_static("server-timing"),
        st.header(),
    );
    r
}

/// The users who can be rostered: anyone with a role in the tenant (a pool: the pool or one
/// of its municipalities), by name.
async fn roster_users(state: &AppState, tenant: &Tenant) -> AppResult<Vec<(i64, String)>> {
    let (_, units) = units_of(state, tenant);
    let mut users: Vec<(i64, String)> = state
        .store
        .tenant_users(&units)
        .await?
        .into_iter()
        .map(|(u, _)| (u.id, u.name))
        .collect();
    users.sort_by(|a, b| a.1.cmp(&b.1));
    users.dedup_by_key(|u| u.0);
    Ok(users)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShiftForm {
    csrf: String,
    user_id: String,
    unit: String,
    weekday: String,
    start: String,
    end: String,
}

/// A time as "08:30", in minutes; `what` names the field in the reader's language.
fn parse_time(s: &str, what: &str, t: Tr) -> AppResult<i64> {
    let time = NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        AppError::Invalid(tformat!(
            t,
            "vul bij {what} een tijd in als uu:mm, bijvoorbeeld 08:30",
            "fill in a time as hh:mm for {what}, for example 08:30"
        ))
    })?;
    Ok(i64::from(
        chrono::Timelike::hour(&time) * 60 + chrono::Timelike::minute(&time),
    ))
}

async fn shift_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(f): Form<ShiftForm>,
) -> Response {
    let ctx = match enter_post(&state, &headers, user, &code, &f.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let t = ctx.t;
    let invalid = |nl: &str, en: &str| Err(AppError::Invalid(t.pick(nl, en).into()));
    let r = async {
        let (_, units) = units_of(&state, &ctx.tenant);
        let unit = f.unit.trim();
        if !units.iter().any(|u| u == unit) {
            return invalid(
                "kies voor wie de dienst gewerkt wordt",
                "choose whom the shift is worked for",
            );
        }
        let users = roster_users(&state, &ctx.tenant).await?;
        let user_id: i64 = f.user_id.trim().parse().unwrap_or(-1);
        if !users.iter().any(|(id, _)| *id == user_id) {
            return invalid("kies een medewerker", "choose an agent");
        }
        let weekday: i64 = f.weekday.trim().parse().unwrap_or(-1);
        if weekday_of(weekday).is_none() {
            return invalid("kies een dag", "choose a day");
        }
        let start = parse_time(&f.start, t.pick("begin", "start"), t)?;
        let end = parse_time(&f.end, t.pick("einde", "end"), t)?;
        if start == end {
            return invalid(
                "begin en einde van de dienst zijn gelijk: een dienst moet langer dan 0 minuten duren",
                "the shift's start and end are the same: a shift must last longer than 0 minutes",
            );
        }
        state
            .store
            .add_shift(&NewShift {
                unit_code: unit.to_string(),
                user_id,
                weekday,
                start_minute: start,
                end_minute: end,
            })
            .await?;
        Ok("toegevoegd")
    }
    .await;
    done(&ctx, "bezetting", r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
}

async fn shift_delete(
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
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        let (_, units) = units_of(&state, &ctx.tenant);
        state.store.delete_shift(id, &units).await?;
        Ok("verwijderd")
    }
    .await;
    done(&ctx, "bezetting", r)
}

// ---------------------------------------------------------------- 4. volwassenheid

/// One question on the form, in the reader's language.
pub struct QuestionView {
    pub id: &'static str,
    pub text: &'static str,
    pub critical: bool,
    /// (level, description, checked)
    pub options: Vec<(u8, &'static str, bool)>,
}

pub struct ThemeView {
    pub slug: &'static str,
    pub label: &'static str,
    pub questions: Vec<QuestionView>,
}

/// The level per theme of one assessment.
pub struct ScoreView {
    pub theme: &'static str,
    pub level: u8,
    pub name: &'static str,
    pub mean: String,
    pub capped_by: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "insight_maturity.html")]
struct MaturityPage {
    t: Tr,
    nav: Option<Nav>,
    a: PageCtx,
    today: String,
    themes: Vec<ThemeView>,
    latest: Option<(String, Vec<ScoreView>)>,
    /// (date, levels per theme in Theme::ALL order)
    history: Vec<(String, Vec<u8>)>,
    theme_labels: Vec<&'static str>,
    trend: Vec<String>,
    /// Per theme: (theme, own level, groups)
    bench: Vec<(&'static str, String, Vec<GroupView>)>,
}

fn assessment_of(r: &loket_store::insight::MaturityRow) -> Option<Assessment> {
    let raw: BTreeMap<String, i64> = serde_json::from_str(&r.answers).ok()?;
    let answers = Answers::parse(raw).ok()?;
    let date = NaiveDate::parse_from_str(&r.assessed_on, "%Y-%m-%d").ok()?;
    Some(Assessment::new(date, answers))
}

fn today_local() -> NaiveDate {
    Utc::now().with_timezone(&AMS).date_naive()
}

fn date_text(d: NaiveDate) -> String {
    format!("{:02}-{:02}-{}", d.day(), d.month(), d.year())
}

#[tracing::instrument(skip_all, fields(tenant = %code))]
async fn maturity_page(
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
    let r = async {
        let own = state.store.maturity_assessments(&ctx.tenant.code).await?;
        let all = state.store.latest_maturity_all().await?;
        let settings = state.store.all_insight_settings().await?;
        let tenants = state.store.tenants().await?;
        Ok::<_, AppError>((own, all, settings, tenants))
    }
    .await;
    let (own, all, settings, tenants) = match r {
        Ok(v) => v,
        Err(e) => return error_response(e, ctx.t.0),
    };
    let own: Vec<Assessment> = own.iter().filter_map(assessment_of).collect();
    let latest = own.last();
    let t = ctx.t;
    let theme_label = |theme: Theme| t.pick(theme.label_nl(), theme.label_en());
    let themes = Theme::ALL
        .into_iter()
        .map(|theme| ThemeView {
            slug: theme.as_str(),
            label: theme_label(theme),
            questions: maturity::questions(theme)
                .map(|q| QuestionView {
                    id: q.id,
                    text: t.pick(q.text, q.text_en),
                    critical: q.critical,
                    options: (if t.is_en() { &q.levels_en } else { &q.levels })
                        .iter()
                        .enumerate()
                        .map(|(i, d)| {
                            let level = i as u8 + 1;
                            let checked = latest.and_then(|a| a.answers.get(q.id)) == Some(level);
                            (level, *d, checked)
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let score_views = |a: &Assessment| {
        a.scores()
            .0
            .iter()
            .map(|s| ScoreView {
                theme: theme_label(s.theme),
                level: s.level,
                name: t.pick(s.level_name_nl(), s.level_name_en()),
                mean: dec(s.mean, 1),
                capped_by: s.capped_by,
            })
            .collect::<Vec<_>>()
    };
    let history = own
        .iter()
        .map(|a| {
            let s = a.scores();
            (
                date_text(a.date),
                Theme::ALL.iter().map(|t| s.get(*t).level).collect(),
            )
        })
        .collect();
    let trend = match own.as_slice() {
        [.., prev, last] => maturity::trend(prev, last)
            .iter()
            .map(|x| {
                let change = if t.is_en() {
                    x.label_en()
                } else {
                    x.label_nl()
                };
                format!("{}: {change}", theme_label(x.theme))
            })
            .collect(),
        _ => vec![],
    };
    // The benchmark: the latest assessment of every municipality, per theme.
    let named: HashMap<&str, bool> = settings
        .iter()
        .map(|s| (s.tenant_code.as_str(), s.benchmark_named))
        .collect();
    let inhabitants: HashMap<&str, Option<i64>> = tenants
        .iter()
        .map(|t| (t.code.as_str(), t.inhabitants))
        .collect();
    let latest_all: Vec<(TenantCode, Option<u32>, Assessment)> = all
        .iter()
        .filter_map(|r| {
            Some((
                TenantCode::parse(&r.tenant_code).ok()?,
                inhabitants
                    .get(r.tenant_code.as_str())
                    .copied()
                    .flatten()
                    .and_then(|n| u32::try_from(n).ok()),
                assessment_of(r)?,
            ))
        })
        .collect();
    let l = L(ctx.t.is_en());
    let asker = TenantCode::parse(&ctx.tenant.code).ok();
    let bench = match asker {
        Some(asker) if ctx.tenant.kind == TenantKind::Gemeente => Theme::ALL
            .into_iter()
            .map(|theme| {
                let peers: Vec<PeerValue> = latest_all
                    .iter()
                    .map(|(code, inh, a)| PeerValue {
                        tenant_code: code.clone(),
                        inhabitants: *inh,
                        value: f64::from(a.scores().get(theme).level),
                        opted_in_named: named.get(code.as_str()).copied().unwrap_or(false),
                    })
                    .collect();
                let b = peers::benchmark(&asker, &peers, true);
                let own = b
                    .own_value
                    .map(|v| dec(v, 0))
                    .unwrap_or_else(|| l.s("no_value").to_string());
                (
                    theme_label(theme),
                    own,
                    vec![
                        level_group(&state, l.s("size_class"), &b.same_size_class, l),
                        level_group(&state, l.s("all"), &b.all, l),
                    ],
                )
            })
            .collect(),
        _ => vec![],
    };
    page(&MaturityPage {
        t: ctx.t,
        nav: ctx.nav(),
        today: today_local().format("%Y-%m-%d").to_string(),
        themes,
        latest: latest.map(|a| (date_text(a.date), score_views(a))),
        history,
        theme_labels: Theme::ALL.into_iter().map(theme_label).collect(),
        trend,
        bench,
        a: ctx.page("volwassenheid", flash),
    })
}

/// A group of maturity levels: levels with one decimal for the quartiles.
fn level_group(state: &AppState, label: &'static str, g: &Group, l: L) -> GroupView {
    let mut v = group_view(state, label, g, Unit::Per1000, l);
    if let Some((q1, med, q3)) = v.raw {
        v.q1 = dec(q1, 1);
        v.median = dec(med, 1);
        v.q3 = dec(q3, 1);
    }
    for n in &mut v.named {
        n.1 = n.1.split(',').next().unwrap_or_default().to_string();
    }
    v
}

async fn maturity_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ctx = match enter_post(&state, &headers, user, &code, &csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let t = ctx.t;
    let r = async {
        let date = fields
            .iter()
            .find(|(k, _)| k == "datum")
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
            AppError::Invalid(
                t.pick(
                    "vul een geldige datum in (jjjj-mm-dd)",
                    "fill in a valid date (yyyy-mm-dd)",
                )
                .into(),
            )
        })?;
        if date > today_local() {
            return Err(AppError::Invalid(
                t.pick(
                    "de datum van de zelfevaluatie ligt in de toekomst",
                    "the date of the self-assessment lies in the future",
                )
                .into(),
            ));
        }
        let raw: Vec<(String, i64)> = fields
            .iter()
            .filter_map(|(k, v)| {
                let id = k.strip_prefix("q_")?;
                Some((id.to_string(), v.trim().parse::<i64>().unwrap_or(0)))
            })
            .collect();
        let answers = Answers::parse(raw).map_err(|e| AppError::Invalid(maturity_error(&e, t)))?;
        let json: BTreeMap<&str, u8> = answers.iter().collect();
        let json = serde_json::to_string(&json).map_err(|e| AppError::Unexpected(e.into()))?;
        state
            .store
            .save_maturity(
                &ctx.tenant.code,
                &date.format("%Y-%m-%d").to_string(),
                &json,
                Some(ctx.user.id),
            )
            .await?;
        Ok("opgeslagen")
    }
    .await;
    done(&ctx, "volwassenheid", r)
}

/// Why the questionnaire was refused, in the reader's language (loket-core words it in Dutch).
fn maturity_error(e: &maturity::MaturityError, t: Tr) -> String {
    use maturity::MaturityError::*;
    if !t.is_en() {
        return e.to_string();
    }
    match e {
        UnknownQuestion(q) => format!("unknown question {q:?}"),
        OutOfRange { question, value } => {
            format!("the answer to question {question} must be 1 to 5, not {value}")
        }
        Duplicate(q) => format!("question {q} was answered twice"),
        Missing(qs) => format!("not answered yet: {}", qs.join(", ")),
    }
}

/// Unused settings fields are kept for the dashboard's cost per contact; this reads them.
pub async fn cost_settings(
    state: &AppState,
    tenant: &str,
) -> AppResult<loket_core::metrics::figures::CostSettings> {
    let s: InsightSettingsRow = state
        .store
        .insight_settings(tenant)
        .await?
        .unwrap_or_default();
    Ok(loket_core::metrics::figures::CostSettings {
        hourly_cost_eur: s.hourly_cost_cents as f64 / 100.0,
        monthly_tool_cost_eur: s.monthly_tool_cost_cents as f64 / 100.0,
    })
}

// ---------------------------------------------------------------- demo data

/// Demo data for `loket demo`: cost settings and the opt-in for a few municipalities, a roster
/// for Utrecht and its regional pool, and maturity self-assessments (two for Utrecht, one for
/// a dozen others so the maturity benchmark has peers).
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    for (code, hourly, tools, named) in [
        ("GM0344", 4850, 95_000, true),
        ("GM0363", 5200, 240_000, false),
        ("GM0339", 4600, 25_000, true),
        ("GM0340", 4600, 25_000, false),
    ] {
        let t = store.tenant(code).await?;
        let Some(inhabitants) = t.inhabitants.filter(|n| *n > 0) else {
            continue;
        };
        store
            .save_insight_settings(
                code,
                &InsightSettingsUpdate {
                    inhabitants,
                    inhabitants_changed: false,
                    hourly_cost_cents: hourly,
                    monthly_tool_cost_cents: tools,
                    benchmark_named: named,
                },
                None,
            )
            .await?;
    }
    // (email, unit, weekdays, start, end) in minutes.
    let roster: [(&str, &str, &[i64], i64, i64); 6] = [
        ("anna@utrecht.demo", "GM0344", &[0, 1, 2, 3, 4], 510, 1020),
        ("bram@utrecht.demo", "GM0344", &[0, 1, 2, 3, 4], 720, 1200),
        ("sanne@utrecht.demo", "GM0344", &[0, 1, 2, 3], 540, 1020),
        ("anna@utrecht.demo", "GM0344", &[5], 600, 840),
        ("pim@regio-utrecht.demo", "PV26", &[0, 1, 2, 3, 4], 480, 960),
        ("pim@regio-utrecht.demo", "PV26", &[5, 6], 600, 780),
    ];
    for (email, unit, days, start, end) in roster {
        let Ok(u) = store.user_by_email(email).await else {
            continue;
        };
        for d in days {
            store
                .add_shift(&NewShift {
                    unit_code: unit.into(),
                    user_id: u.id,
                    weekday: *d,
                    start_minute: start,
                    end_minute: end,
                })
                .await?;
        }
    }
    let today = today_local();
    let answers = |seed: u64, lift: i64| -> String {
        let m: BTreeMap<&str, i64> = maturity::QUESTIONS
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let x = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add((i as u64).wrapping_mul(1_442_695_040_888_963_407));
                let level = 1 + ((x >> 33) % 3) as i64 + lift;
                (q.id, level.clamp(1, 5))
            })
            .collect();
        serde_json::to_string(&m).unwrap_or_default()
    };
    let date = |days: i64| {
        (today - chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    store
        .save_maturity("GM0344", &date(200), &answers(344, 0), None)
        .await?;
    store
        .save_maturity("GM0344", &date(20), &answers(344, 1), None)
        .await?;
    let others = [
        "GM0363", "GM0599", "GM0518", "GM0014", "GM0034", "GM0307", "GM0339", "GM0340", "GM0353",
        "GM0356", "GM0310", "GM0321", "GM0327",
    ];
    for (i, code) in others.iter().enumerate() {
        if store.tenant(code).await.is_err() {
            continue;
        }
        store
            .save_maturity(
                code,
                &date(30 + i as i64 * 7),
                &answers(1000 + i as u64, i64::from(i % 3 == 0)),
                None,
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_amounts() {
        let parse_euro = |s: &str, what: &str| parse_euro(s, what, L(false));
        assert_eq!(parse_euro("45", "x").unwrap(), 4500);
        assert_eq!(parse_euro("45,5", "x").unwrap(), 4550);
        assert_eq!(parse_euro("€ 1.250,00", "x").unwrap(), 125_000);
        assert_eq!(parse_euro("12.34", "x").unwrap(), 1234);
        assert_eq!(parse_euro("", "x").unwrap(), 0);
        assert!(parse_euro("-3", "x").is_err());
        assert!(parse_euro("veel", "x").is_err());
        assert!(parse_euro("1,234", "x").is_err());
        let e = super::parse_euro("veel", "the cost", L(true)).unwrap_err();
        assert!(
            e.to_string()
                .contains("fill in an amount in euro as the cost"),
            "{e}"
        );
    }

    #[test]
    fn inhabitant_counts() {
        let nl = L(false);
        assert_eq!(parse_inhabitants("12.345", nl).unwrap(), 12_345);
        assert_eq!(parse_inhabitants(" 900 ", nl).unwrap(), 900);
        assert!(parse_inhabitants("0", nl).is_err());
        assert!(parse_inhabitants("twaalf", nl).is_err());
    }

    #[test]
    fn durations_and_thousands() {
        let (nl, en) = (Tr(Lang::Nl), Tr(Lang::En));
        assert_eq!(duration_text(42.0, nl), "42 s");
        assert_eq!(duration_text(600.0, nl), "10 min");
        assert_eq!(duration_text(3_900.0, nl), "1 u 5 min");
        assert_eq!(duration_text(3_600.0, nl), "1 u");
        assert_eq!(duration_text(3_900.0, en), "1 h 5 min");
        assert_eq!(duration_text(90_000.0, en), "1 d 1 h");
        assert_eq!(thousands(1_234_567), "1.234.567");
    }

    #[test]
    fn week_counts_slot_by_local_time() {
        // Monday 2026-11-23 09:00 Amsterdam = 08:00 UTC.
        let end = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 8, 0, 0)
            .unwrap()
            .timestamp_millis();
        let row = HourlyArrivals {
            tenant_code: "GM0344".into(),
            hour_start: at,
            realtime: 3,
            other: 9,
        };
        let c = week_counts(&[row], end, 4);
        let h = &c[&("GM0344".to_string(), ChannelGroup::Realtime)];
        assert_eq!(h[3][9], 3, "last week, Monday 09:00 local");
        let h = &c[&("GM0344".to_string(), ChannelGroup::Async)];
        assert_eq!(h[3][9], 9);
        assert_eq!(h[3].iter().sum::<u32>(), 9, "nothing elsewhere");
        assert_eq!(realtime_channels(), vec!["webchat"]);
    }
}
