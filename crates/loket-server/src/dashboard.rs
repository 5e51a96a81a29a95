//! Management dashboards: one page serves a municipality, a regional pool (the municipalities
//! it serves plus its own conversations) and the national view (every tenant). Figures come
//! from the rollups (`Store::rollups`), the live parts (backlog, service levels, satisfaction)
//! from small aggregate queries. Every chart has a table next to it, every table a CSV export,
//! and every bar leads to the conversations behind it.

use crate::auth::CurrentUser;
use crate::charts::{self, Bar, Chart};
use crate::error::AppError;
use crate::i18n::{Lang, Tr, lang_of, tformat};
use crate::state::{AppState, Tenant};
use crate::ui::{Nav, error_page, page, page_error, tr};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use loket_core::metrics::figures::BACKLOG_BUCKETS;
use loket_core::metrics::{Period, hour_of_week, local_day};
use loket_core::{Role, TenantKind};
use loket_store::dashboard::{DashFilter, StartedCounts};
use loket_store::rollups::{GroupBy, RollupRow, Scope, SlaCounts, Tier};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/{code}", get(dashboard))
        .route("/dashboard/{code}/gesprekken", get(drill))
        .route("/dashboard/{code}/export/{table}", get(export))
        .route("/dashboard/{code}/weekoverzicht", get(weekly))
}

/// Roles that see management information of a tenant.
const MI_ROLES: [Role; 4] = [
    Role::Supervisor,
    Role::Beheerder,
    Role::Coordinator,
    Role::Woordvoerder,
];

/// The national tenant's code.
const NATIONAL: &str = "NL";

/// The dashboard a user lands on: the first tenant they may see figures of, national first.
pub fn home_of(user: &CurrentUser, state: &AppState) -> Option<String> {
    if may_view(user, state, NATIONAL) {
        return Some(NATIONAL.into());
    }
    let mut codes: Vec<&String> = user.roles.keys().collect();
    // Municipalities before pools: a supervisor's own figures first.
    codes.sort_by_key(|c| (!c.starts_with("GM"), c.as_str()));
    codes
        .into_iter()
        .find(|c| may_view(user, state, c))
        .cloned()
}

/// Whether `user` may see the figures of `code`: a management role on the tenant itself, on a
/// pool that serves it, or national.
pub fn may_view(user: &CurrentUser, state: &AppState, code: &str) -> bool {
    let has = |t: &str| MI_ROLES.iter().any(|r| user.has_role(t, *r));
    if has(code) {
        return true;
    }
    if user.has_role(NATIONAL, Role::Coordinator) || user.has_role(NATIONAL, Role::Supervisor) {
        return true;
    }
    state
        .tenant(code)
        .and_then(|t| t.pool_code)
        .is_some_and(|p| has(&p))
}

/// The tenants whose rollups make up the figures of `t`.
fn scope_of(state: &AppState, t: &Tenant) -> Vec<String> {
    let all = state.tenants();
    let mut out: Vec<String> = match t.kind {
        TenantKind::Gemeente => vec![t.code.clone()],
        TenantKind::Regio => all
            .values()
            .filter(|m| m.pool_code.as_deref() == Some(t.code.as_str()) || m.code == t.code)
            .map(|m| m.code.clone())
            .collect(),
        TenantKind::Nationaal => all.keys().cloned().collect(),
    };
    out.sort();
    out
}

// ---------------------------------------------------------------------------- query

#[derive(Debug, Default, Deserialize, Clone)]
pub struct DashQuery {
    #[serde(default)]
    periode: Option<String>,
    #[serde(default)]
    van: Option<String>,
    #[serde(default)]
    tot: Option<String>,
    #[serde(default)]
    kanaal: Option<String>,
    #[serde(default)]
    onderwerp: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    pagina: Option<u32>,
}

/// The chosen period: whole local days `first..=last`.
#[derive(Debug, Clone)]
struct Picked {
    key: &'static str,
    first: NaiveDate,
    last: NaiveDate,
    period: Period,
}

impl Picked {
    fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// The period choices: (key, Dutch, English).
const PERIODS: [(&str, &str, &str); 4] = [
    ("vandaag", "Vandaag", "Today"),
    ("7d", "7 dagen", "7 days"),
    ("30d", "30 dagen", "30 days"),
    ("aangepast", "Zelf kiezen", "Custom"),
];

fn parse_date(s: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s?.trim(), "%Y-%m-%d").ok()
}

/// The period of the query; a bad custom range falls back to 30 days with a message in the
/// reader's language.
fn pick(q: &DashQuery, today: NaiveDate, t: Tr) -> (Picked, Option<String>) {
    let span = |key: &'static str, first: NaiveDate, last: NaiveDate| Picked {
        key,
        first,
        last,
        period: Period::local_days(first, last).expect("valid local days"),
    };
    let default = span("30d", today - Duration::days(29), today);
    match q.periode.as_deref().unwrap_or("30d") {
        "vandaag" => (span("vandaag", today, today), None),
        "7d" => (span("7d", today - Duration::days(6), today), None),
        "30d" => (default, None),
        "aangepast" => {
            let (Some(first), Some(last)) =
                (parse_date(q.van.as_deref()), parse_date(q.tot.as_deref()))
            else {
                return (
                    default,
                    Some(
                        t.pick(
                            "Vul een begin- en einddatum in (dag-maand-jaar).",
                            "Fill in a start and end date (day-month-year).",
                        )
                        .into(),
                    ),
                );
            };
            if last < first {
                return (
                    default,
                    Some(
                        t.pick(
                            "De einddatum ligt vóór de begindatum.",
                            "The end date is before the start date.",
                        )
                        .into(),
                    ),
                );
            }
            if first > today {
                return (
                    default,
                    Some(
                        t.pick(
                            "De periode ligt in de toekomst.",
                            "The period lies in the future.",
                        )
                        .into(),
                    ),
                );
            }
            if (last - first).num_days() > 366 {
                return (
                    default,
                    Some(
                        t.pick(
                            "Kies een periode van hoogstens een jaar.",
                            "Choose a period of at most a year.",
                        )
                        .into(),
                    ),
                );
            }
            if first.year() < 2000 {
                return (
                    default,
                    Some(
                        t.pick("Kies een datum na 2000.", "Choose a date after 2000.")
                            .into(),
                    ),
                );
            }
            (span("aangepast", first, last.min(today)), None)
        }
        _ => (
            default,
            Some(
                t.pick(
                    "Onbekende periode; de laatste 30 dagen worden getoond.",
                    "Unknown period; the last 30 days are shown.",
                )
                .into(),
            ),
        ),
    }
}

/// Validated filters of the query.
#[derive(Debug, Clone, Default)]
struct Filters {
    channel: Option<String>,
    topic: Option<String>,
    team: Option<(i64, String)>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------- model

/// A table on the page and in its CSV export; the first cell links to the conversations.
#[derive(Debug, Clone)]
pub struct Table {
    pub id: &'static str,
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<TableRow>,
    /// Numeric columns are right-aligned (all but the first).
    pub csv: String,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub cells: Vec<String>,
    pub href: Option<String>,
}

/// A chart with its table.
#[derive(Debug, Clone)]
pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub intro: String,
    pub svg: String,
    pub table: Table,
    /// The heat-map table is itself the chart: no separate image.
    pub heat: bool,
    /// Spans the whole width of the page grid.
    pub wide: bool,
}

#[derive(Debug, Clone)]
pub struct Tile {
    pub label: String,
    pub value: String,
    pub note: String,
    pub figure: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Tr,
    nav: Option<Nav>,
    code: String,
    title: String,
    scope_note: String,
    periods: Vec<(&'static str, &'static str, bool)>,
    van: String,
    tot: String,
    period_label: String,
    error: Option<String>,
    channels: Vec<(String, String, bool)>,
    topics: Vec<(String, String, bool)>,
    teams: Vec<(String, String, bool)>,
    filter_note: String,
    tiles: Vec<Tile>,
    sections: Vec<Section>,
    query: String,
    switch: Vec<(String, String)>,
    /// Links to the benchmark, staffing, maturity and settings pages: (href, label).
    insight: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "dashboard_weekly.html")]
struct WeeklyPage {
    t: Tr,
    nav: Option<Nav>,
    code: String,
    title: String,
    subject: String,
    text: String,
    mail_on: bool,
    /// (week, recipient, state, when, error)
    log: Vec<(String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard_list.html")]
struct DrillPage {
    t: Tr,
    nav: Option<Nav>,
    title: String,
    what: String,
    table: Table,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    back: String,
}

// ---------------------------------------------------------------------------- formatting

/// `12345` → `12.345` (Dutch thousands separator).
pub fn int_nl(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// One decimal with a comma.
fn dec_nl(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

fn pct(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "–".into()
    } else {
        format!("{} %", dec_nl(100.0 * part as f64 / whole as f64))
    }
}

/// A duration: `45 s`, `12 min`, `3 u 05 min`, `2 d 4 u` (English: `3 h 05 min`, `2 d 4 h`).
pub fn dur(secs: Option<u64>, t: Tr) -> String {
    let Some(s) = secs else { return "–".into() };
    let h = t.pick("u", "h");
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} {h} {:02} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} {h}", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A day and the month's short name: `3 mrt` (English `3 Mar`).
pub(crate) fn day_label(d: NaiveDate, t: Tr) -> String {
    format!("{} {}", d.day(), t.month(d.month0()))
}

fn channel_label(c: &str) -> String {
    loket_core::Channel::parse(c)
        .map(|c| c.label().to_string())
        .unwrap_or_else(|| c.to_string())
}

fn topic_label(topic: &str, t: Tr) -> String {
    if topic.is_empty() {
        return t.pick("Onbekend onderwerp", "Unknown topic").into();
    }
    loket_text::topics::get(topic)
        .map(|x| t.pick(x.label_nl, x.label_en).to_string())
        .unwrap_or_else(|| topic.to_string())
}

fn ms(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A URL query string from pairs, empty values left out.
fn qs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------- computing

/// The bars of a trend: a day up to two months, a week up to half a year, a month beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    fn for_days(days: i64) -> Self {
        match days {
            ..=62 => Self::Day,
            63..=183 => Self::Week,
            _ => Self::Month,
        }
    }
    fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => d,
            Self::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Self::Month => d.with_day(1).unwrap_or(d),
        }
    }
    /// The last day of the bucket that starts on `start`.
    fn end(self, start: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => start,
            Self::Week => start + Duration::days(6),
            Self::Month => start
                .checked_add_months(chrono::Months::new(1))
                .map(|n| n - Duration::days(1))
                .unwrap_or(start),
        }
    }
    fn unit(self, t: Tr) -> &'static str {
        match self {
            Self::Day => t.pick("dag", "day"),
            Self::Week => "week",
            Self::Month => t.pick("maand", "month"),
        }
    }
    fn plural(self, t: Tr) -> &'static str {
        match self {
            Self::Day => t.pick("dagen", "days"),
            Self::Week => t.pick("weken", "weeks"),
            Self::Month => t.pick("maanden", "months"),
        }
    }
    fn heading(self, t: Tr) -> &'static str {
        match self {
            Self::Day => t.pick("Dag", "Day"),
            Self::Week => "Week",
            Self::Month => t.pick("Maand", "Month"),
        }
    }
    /// A short axis label.
    fn label(self, start: NaiveDate, t: Tr) -> String {
        match self {
            Self::Day => day_label(start, t),
            Self::Week => format!("wk {}", start.iso_week().week()),
            Self::Month => format!("{} {}", t.month(start.month0()), start.year() % 100),
        }
    }
    /// A label for a table row.
    fn long_label(self, start: NaiveDate, t: Tr) -> String {
        match self {
            Self::Day => day_label(start, t),
            Self::Week => format!("week {} ({})", start.iso_week().week(), day_label(start, t)),
            Self::Month => format!("{} {}", t.month(start.month0()), start.year()),
        }
    }
}

/// English labels of [`BACKLOG_BUCKETS`], in the same order.
const BACKLOG_BUCKETS_EN: [&str; 6] = [
    "less than 1 hour",
    "1 to 4 hours",
    "4 to 24 hours",
    "1 to 3 days",
    "3 to 7 days",
    "7 days or more",
];

/// Everything a dashboard shows, computed once per request.
struct Computed {
    tiles: Vec<Tile>,
    sections: Vec<Section>,
    channels: Vec<String>,
    topics: Vec<String>,
    /// Where the time went (sent as `Server-Timing`).
    timing: crate::timing::ServerTiming,
}

/// The rollup reads of one dashboard: per channel and topic (unfiltered), per time unit and
/// per municipality (filtered); with a team filter all from the raw scan, whose hourly rows
/// also give the hour of the week.
struct Reads {
    kinds: Vec<RollupRow>,
    times: Vec<RollupRow>,
    tenants: Vec<RollupRow>,
    hourly: Vec<RollupRow>,
}

struct Ctx<'a> {
    state: &'a AppState,
    /// The reader's language, for every label (the weekly e-mail: Dutch).
    t: Tr,
    code: &'a str,
    tenant: &'a Tenant,
    picked: &'a Picked,
    filters: &'a Filters,
    /// Satisfaction per agent is for supervisors only.
    show_agents: bool,
}

impl Ctx<'_> {
    /// A drill-down link for the conversations that started in `first..=last` with `extra`.
    fn drill(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        channel: &str,
        topic: Option<&str>,
    ) -> String {
        let (van, tot) = (first.to_string(), last.to_string());
        let team = self
            .filters
            .team
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default();
        let ch = if channel.is_empty() {
            self.filters.channel.clone().unwrap_or_default()
        } else {
            channel.to_string()
        };
        let tp = match topic {
            Some(t) => t.to_string(),
            None => self.filters.topic.clone().unwrap_or_default(),
        };
        let mut pairs = vec![
            ("periode", "aangepast"),
            ("van", van.as_str()),
            ("tot", tot.as_str()),
            ("kanaal", ch.as_str()),
            ("team", team.as_str()),
        ];
        // An empty topic means "no topic" in a drill-down: pass it as "-".
        let tp_param = if topic == Some("") {
            "-".to_string()
        } else {
            tp
        };
        pairs.push(("onderwerp", tp_param.as_str()));
        format!("/dashboard/{}/gesprekken{}", self.code, qs(&pairs))
    }

    fn all_period(&self, channel: &str, topic: Option<&str>) -> String {
        self.drill(self.picked.first, self.picked.last, channel, topic)
    }

    fn filter(&self, tenants: Vec<String>) -> DashFilter {
        DashFilter {
            all_tenants: self.tenant.kind == TenantKind::Nationaal,
            tenants,
            channel: self.filters.channel.clone(),
            topic: self.filters.topic.clone(),
            team_id: self.filters.team.as_ref().map(|t| t.0),
        }
    }
}

fn keep(r: &RollupRow, f: &Filters) -> bool {
    f.channel.as_deref().is_none_or(|c| r.channel == c)
        && f.topic.as_deref().is_none_or(|t| r.topic == t)
}

/// Runs one database read of the figures once a permit of `figure_reads` is free (only
/// around single reads, never nested, so permits cannot deadlock).
async fn limited<T>(
    state: &AppState,
    f: impl std::future::Future<Output = Result<T, loket_store::StoreError>>,
) -> Result<T, AppError> {
    let _permit = state
        .figure_reads
        .acquire()
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("figure reads closed: {e}")))?;
    Ok(f.await?)
}

/// `f`'s result and how long it took (ms).
async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<(T, f64), AppError> {
    let t0 = std::time::Instant::now();
    let v = f.await?;
    Ok((v, t0.elapsed().as_secs_f64() * 1000.0))
}

/// The rollup reads of the period: up to half a year per day or week from daily rows; longer
/// per month, whole months as one row each. Each read is summed in the database, and the
/// three run at the same time. A team filter reads the conversations themselves: the rollups
/// do not keep teams.
async fn read_rollups(
    ctx: &Ctx<'_>,
    tenants: &[String],
    from: i64,
    to: i64,
) -> Result<Reads, AppError> {
    let store = &ctx.state.store;
    let per_tenant = ctx.tenant.kind != TenantKind::Gemeente;
    if let Some((team, _)) = &ctx.filters.team {
        let raw = limited(
            ctx.state,
            store.rollups_raw_team(tenants, Some(*team), from, to),
        )
        .await?;
        let kept: Vec<RollupRow> = raw
            .iter()
            .filter(|r| keep(r, ctx.filters))
            .cloned()
            .collect();
        return Ok(Reads {
            kinds: raw.clone(),
            times: kept.clone(),
            tenants: if per_tenant { kept } else { vec![] },
            hourly: raw,
        });
    }
    let coarsest = if Bucket::for_days(ctx.picked.days()) == Bucket::Month {
        Tier::Month
    } else {
        Tier::Day
    };
    let national = ctx.tenant.kind == TenantKind::Nationaal;
    // One grouped read, filtered by channel and topic or not, as a task of its own: decoding
    // and summing the rows takes CPU, and the reads of one page then use both cores instead
    // of taking turns on the request's task.
    let grouped = |by: GroupBy, filtered: bool| {
        let state = ctx.state.clone();
        let tenants = tenants.to_vec();
        let (ch, tp) = if filtered {
            (ctx.filters.channel.clone(), ctx.filters.topic.clone())
        } else {
            (None, None)
        };
        async move {
            tokio::spawn(async move {
                // Nationally every tenant: the national projection answers without a list.
                let scope = if national {
                    Scope::All
                } else {
                    Scope::Tenants(&tenants)
                };
                let read = state.store.rollups_grouped_in(
                    scope,
                    from,
                    to,
                    coarsest,
                    by,
                    ch.as_deref(),
                    tp.as_deref(),
                );
                limited(&state, read).await
            })
            .await
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("rollup read stopped: {e}")))?
        }
    };
    // Per channel and topic unfiltered (the filter menus list what exists); per time unit and
    // per municipality filtered.
    let (kinds, times, by_tenant) = tokio::try_join!(
        grouped(
            GroupBy {
                channel: true,
                topic: true,
                first_response_hist: true,
                resolution_hist: true,
                ..GroupBy::default()
            },
            false
        ),
        grouped(
            GroupBy {
                time: true,
                ..GroupBy::default()
            },
            true
        ),
        async {
            if !per_tenant {
                return Ok(vec![]);
            }
            grouped(
                GroupBy {
                    tenant: true,
                    first_response_hist: true,
                    ..GroupBy::default()
                },
                true,
            )
            .await
        },
    )?;
    Ok(Reads {
        kinds,
        times,
        tenants: by_tenant,
        hourly: vec![],
    })
}

async fn compute(ctx: &Ctx<'_>) -> Result<Computed, AppError> {
    let mut st = crate::timing::ServerTiming::start();
    let t = ctx.t;
    let state = ctx.state;
    let tenants = scope_of(state, ctx.tenant);
    let (from, to) = (ms(ctx.picked.period.start()), ms(ctx.picked.period.end()));
    let team = ctx.filters.team.as_ref().map(|t| t.0);
    let national = ctx.tenant.kind == TenantKind::Nationaal;
    let now = Utc::now();
    let dfilter = ctx.filter(tenants.clone());
    // Hour of week: the last two weeks of the period at most. Not nationally: staffing is
    // planned per municipality and pool.
    let how_from = from.max(to - 14 * 86_400_000);
    // The reads are independent: they run at the same time, each on its own connection.
    // Nationally (every municipality: millions of conversations a year) service levels and
    // satisfaction come from the rollups' counters, and the timing sample follows the rollups.
    let (
        ((reads, t_rollups), national_tm),
        (((running, started), tm), t_sla),
        (answers, t_csat),
        (open, t_backlog),
        (hours, t_hours),
    ) = tokio::try_join!(
        async {
            let r = timed(read_rollups(ctx, &tenants, from, to)).await?;
            if !national {
                return Ok((r, None));
            }
            let started =
                r.0.kinds
                    .iter()
                    .filter(|x| keep(x, ctx.filters))
                    .map(|x| x.new_conversations)
                    .sum();
            let tm = timings(ctx, &dfilter, started, false, from, to).await?;
            Ok((r, Some(tm)))
        },
        // The deadlines still running (the service level's counters are in the rollups),
        // then (not nationally) the conversations started and their handle time, and the
        // timing sample sized by them: business time (each municipality's opening hours; not
        // for the national view, where every municipality has its own) and handle time.
        timed(async {
            let running = limited(
                state,
                state.store.deadlines_running(&dfilter, from, to, ms(now)),
            )
            .await?;
            if national {
                return Ok(((running, StartedCounts::default()), None));
            }
            let started = limited(state, state.store.started_counts(&dfilter, from, to)).await?;
            let tm = timings(ctx, &dfilter, started.started, true, from, to).await?;
            Ok(((running, started), Some(tm)))
        }),
        // Satisfaction answers: the totals here, per topic, team and agent further down.
        timed(async {
            if national {
                return Ok(vec![]);
            }
            limited(state, state.store.csat_rows(&dfilter, from, to)).await
        }),
        timed(limited(
            state,
            state.store.open_conversation_starts(&dfilter)
        )),
        // Inbound messages per UTC hour, summed in the database (with a team filter
        // from the raw scan's hourly rows below).
        timed(async {
            if national || team.is_some() {
                return Ok(vec![]);
            }
            let hours = limited(
                state,
                state.store.rollups_grouped(
                    &tenants,
                    how_from,
                    to,
                    Tier::Hour,
                    GroupBy {
                        time: true,
                        volume_only: true,
                        ..GroupBy::default()
                    },
                    ctx.filters.channel.as_deref(),
                    ctx.filters.topic.as_deref(),
                ),
            )
            .await?;
            Ok(hours
                .into_iter()
                .map(|r| (r.hour_start, r.inbound))
                .collect())
        }),
    )?;
    st.mark("reads");
    for (name, d) in [
        ("rollups", t_rollups),
        ("sla-timings", t_sla),
        ("csat", t_csat),
        ("backlog", t_backlog),
        ("hours", t_hours),
    ] {
        st.record(name, d);
    }
    let how_hours: Vec<(i64, i64)> = if team.is_some() && !national {
        reads
            .hourly
            .iter()
            .filter(|r| r.hour_start >= how_from && keep(r, ctx.filters))
            .map(|r| (r.hour_start, r.inbound))
            .collect()
    } else {
        hours
    };
    let mut channels: Vec<String> = reads.kinds.iter().map(|r| r.channel.clone()).collect();
    channels.sort();
    channels.dedup();
    let mut topics: Vec<String> = reads.kinds.iter().map(|r| r.topic.clone()).collect();
    topics.sort();
    topics.dedup();
    let rows: Vec<&RollupRow> = reads
        .kinds
        .iter()
        .filter(|r| keep(r, ctx.filters))
        .collect();
    let total = RollupRow::total(rows.iter().copied());
    let sla = SlaCounts::of(&total, &running);
    // Nationally satisfaction per topic and score from the rollups' counters.
    let answers = if national {
        let mut answers = vec![];
        for r in &rows {
            for (k, n) in (1..).zip(r.csat) {
                if n > 0 {
                    answers.push((None, None, r.topic.clone(), k, n));
                }
            }
        }
        answers
    } else {
        answers
    };
    let tm = national_tm.or(tm).unwrap_or_default();
    let csat = loket_store::dashboard::CsatCounts {
        answers: answers.iter().map(|a| a.4).sum(),
        score_sum: answers.iter().map(|a| a.3 * a.4).sum(),
        satisfied: answers.iter().filter(|a| a.3 >= 4).map(|a| a.4).sum(),
    };
    st.mark("total");

    let inhabitants: i64 = {
        let all = state.tenants();
        tenants
            .iter()
            .filter_map(|c| all.get(c))
            .filter(|t| t.kind == TenantKind::Gemeente)
            .filter_map(|t| t.inhabitants)
            .sum()
    };

    let business = (!national).then(|| {
        (
            (
                nearest_rank(&tm.first_response, 50),
                nearest_rank(&tm.first_response, 90),
                tm.sampled,
            ),
            (
                nearest_rank(&tm.resolution, 50),
                nearest_rank(&tm.resolution, 90),
                tm.sampled,
            ),
        )
    });
    let handle = &tm.handle;
    let handle_rank = |p: usize| nearest_rank(handle, p);
    let every_sampled = tm.sampled;

    // ---------------------------------------------------------------- tiles
    let fr = &total.first_response_hist;
    let res = &total.resolution_hist;
    let sample_note = |sampled: bool| {
        if sampled {
            t.pick(" (steekproef)", " (sample)")
        } else {
            ""
        }
    };
    let biz_note = |b: Option<(Option<u64>, Option<u64>, bool)>| match b {
        Some((p50, p90, sampled)) => tformat!(
            t,
            "kantoortijd: mediaan {}, 90 % {}{}",
            "business time: median {}, 90 % {}{}",
            dur(p50, t),
            dur(p90, t),
            sample_note(sampled)
        ),
        None => String::new(),
    };
    let mut tiles = vec![
        Tile {
            label: t.pick("Contacten", "Contacts").into(),
            value: int_nl(total.new_conversations),
            note: tformat!(
                t,
                "{} berichten in, {} uit",
                "{} messages in, {} out",
                int_nl(total.inbound),
                int_nl(total.outbound)
            ),
            figure: "contacts",
        },
        Tile {
            label: t
                .pick("Eerste reactie (mediaan)", "First response (median)")
                .into(),
            value: dur(fr.percentile(50), t),
            note: tformat!(
                t,
                "kloktijd; 90 % binnen {}. {}",
                "clock time; 90 % within {}. {}",
                dur(fr.percentile(90), t),
                biz_note(business.map(|b| b.0))
            ),
            figure: "first_response_time",
        },
        Tile {
            label: t
                .pick("Afhandeltijd (mediaan)", "Resolution time (median)")
                .into(),
            value: dur(res.percentile(50), t),
            note: tformat!(
                t,
                "kloktijd; 90 % binnen {}. {}",
                "clock time; 90 % within {}. {}",
                dur(res.percentile(90), t),
                biz_note(business.map(|b| b.1))
            ),
            figure: "resolution_time",
        },
        Tile {
            label: t
                .pick("Servicenorm eerste reactie", "Service level first response")
                .into(),
            value: pct(sla.first_met, sla.first_met + sla.first_breached),
            note: tformat!(
                t,
                "afhandeling {} binnen de norm; {} nog niet beslist",
                "resolution {} within the target; {} not yet decided",
                pct(
                    sla.resolution_met,
                    sla.resolution_met + sla.resolution_breached
                ),
                int_nl(running.first_pending)
            ),
            figure: "sla_first_response",
        },
        Tile {
            label: t.pick("Tevredenheid", "Satisfaction").into(),
            value: pct(csat.satisfied, csat.answers),
            note: if csat.answers > 0 {
                tformat!(
                    t,
                    "{} antwoorden, gemiddeld {} van 5",
                    "{} answers, on average {} out of 5",
                    int_nl(csat.answers),
                    dec_nl(csat.score_sum as f64 / csat.answers as f64)
                )
            } else {
                t.pick("nog geen antwoorden", "no answers yet").into()
            },
            figure: "csat",
        },
        Tile {
            label: t.pick("Heropend", "Reopened").into(),
            value: pct(total.reopens, total.resolutions),
            note: tformat!(
                t,
                "{} van {} opgelost",
                "{} of {} resolved",
                int_nl(total.reopens),
                int_nl(total.resolutions)
            ),
            figure: "reopen_rate",
        },
        Tile {
            label: t
                .pick("Behandeltijd (mediaan)", "Handle time (median)")
                .into(),
            value: dur(handle_rank(50), t),
            note: if handle.is_empty() {
                t.pick("nog geen gemeten activiteit", "no measured activity yet")
                    .into()
            } else {
                tformat!(
                    t,
                    "actieve tijd per opgelost gesprek; 90 % binnen {}, gemiddeld {}{}",
                    "active time per resolved conversation; 90 % within {}, on average {}{}",
                    dur(handle_rank(90), t),
                    dur(Some(handle.iter().sum::<u64>() / handle.len() as u64), t),
                    sample_note(every_sampled)
                )
            },
            figure: "handle_time",
        },
        Tile {
            label: t.pick("Achterstand nu", "Backlog now").into(),
            value: int_nl(open.len() as i64),
            note: t
                .pick(
                    "gesprekken wachten op een medewerker",
                    "conversations waiting for an agent",
                )
                .into(),
            figure: "backlog",
        },
    ];
    if ctx.tenant.kind != TenantKind::Regio {
        tiles.push(Tile {
            label: t.pick("Via de regiopool", "Via the regional pool").into(),
            value: pct(total.pool_handled, total.first_responses),
            note: t
                .pick("van de eerste reacties", "of the first responses")
                .into(),
            figure: "pool_share",
        });
    }
    if ctx.tenant.kind == TenantKind::Gemeente {
        let cost = crate::insight::cost_settings(state, &ctx.tenant.code).await?;
        let tools =
            loket_core::metrics::figures::tool_cost(&ctx.picked.period, cost.monthly_tool_cost_eur);
        let work = started.handle_seconds as f64 / 3600.0 * cost.hourly_cost_eur;
        let configured = cost.hourly_cost_eur > 0.0 || cost.monthly_tool_cost_eur > 0.0;
        tiles.push(Tile {
            label: t.pick("Kosten per contact", "Cost per contact").into(),
            value: if configured && total.new_conversations > 0 {
                format!(
                    "€ {}",
                    format!("{:.2}", (work + tools) / total.new_conversations as f64)
                        .replace('.', ",")
                )
            } else {
                "–".into()
            },
            note: if configured {
                tformat!(
                    t,
                    "€ {} behandeltijd + € {} tools",
                    "€ {} handle time + € {} tools",
                    int_nl(work.round() as i64),
                    int_nl(tools.round() as i64)
                )
            } else {
                t.pick(
                    "stel uurtarief en toolkosten in bij Kengetallen",
                    "set the hourly rate and tool cost under Figure settings",
                )
                .into()
            },
            figure: "cost_per_contact",
        });
    }
    if inhabitants > 0 {
        let per = total.new_conversations as f64 * 1000.0 / inhabitants as f64;
        tiles.push(Tile {
            label: t
                .pick(
                    "Contacten per 1.000 inwoners",
                    "Contacts per 1,000 inhabitants",
                )
                .into(),
            value: dec_nl(per),
            note: tformat!(t, "{} inwoners", "{} inhabitants", int_nl(inhabitants)),
            figure: "contacts_per_1000",
        });
    }

    st.mark("tiles");
    let mut sections = Vec::new();

    // ---------------------------------------------------------------- over time
    let bucket = Bucket::for_days(ctx.picked.days());
    let mut buckets: BTreeMap<NaiveDate, (i64, i64, i64)> = BTreeMap::new();
    let mut d = ctx.picked.first;
    while d <= ctx.picked.last {
        buckets.entry(bucket.start(d)).or_default();
        d += Duration::days(1);
    }
    for r in &reads.times {
        let day = local_day(
            Utc.timestamp_millis_opt(r.hour_start)
                .single()
                .unwrap_or(now),
        );
        let e = buckets.entry(bucket.start(day)).or_default();
        e.0 += r.new_conversations;
        e.1 += r.inbound;
        e.2 += r.outbound;
    }
    let unit = bucket.unit(t);
    let mut bars = Vec::new();
    let mut trows = Vec::new();
    for (start, (c, i, o)) in &buckets {
        let first = (*start).max(ctx.picked.first);
        let end = bucket.end(*start).min(ctx.picked.last);
        let href = ctx.drill(first, end, "", None);
        bars.push(Bar {
            label: bucket.label(*start, t),
            values: vec![*i as f64, *o as f64],
            href: Some(href.clone()),
        });
        let period_cell = if first == end {
            day_label(first, t)
        } else {
            tformat!(
                t,
                "{} t/m {}",
                "{} to {}",
                day_label(first, t),
                day_label(end, t)
            )
        };
        trows.push(TableRow {
            cells: vec![period_cell, int_nl(*c), int_nl(*i), int_nl(*o)],
            href: Some(href),
        });
    }
    let total_in: i64 = buckets.values().map(|b| b.1).sum();
    sections.push(Section {
        id: "verloop",
        title: tformat!(t, "Berichten per {unit}", "Messages per {unit}"),
        intro: tformat!(
            t,
            "Inkomende berichten van inwoners en antwoorden van medewerkers per {unit}. Klik op een staaf of een {unit} in de tabel voor de gesprekken die toen begonnen.",
            "Incoming messages from residents and replies from agents per {unit}. Click a bar or a {unit} in the table for the conversations that started then."
        ),
        svg: charts::columns(&Chart {
            id: "ch-verloop".into(),
            title: tformat!(t, "Berichten per {unit}", "Messages per {unit}"),
            desc: tformat!(
                t,
                "Staafdiagram: {} inkomende en {} uitgaande berichten over {} {}; de tabel eronder geeft de getallen.",
                "Bar chart: {} incoming and {} outgoing messages over {} {}; the table below gives the numbers.",
                int_nl(total_in),
                int_nl(buckets.values().map(|b| b.2).sum()),
                buckets.len(),
                bucket.plural(t)
            ),
            series: vec![
                t.pick("Inkomend", "Incoming").into(),
                t.pick("Uitgaand", "Outgoing").into(),
            ],
            bars,
            stacked: false,
            colours: None,
        }),
        table: Table {
            id: "verloop",
            caption: tformat!(
                t,
                "Contacten en berichten per {unit}",
                "Contacts and messages per {unit}"
            ),
            head: vec![
                bucket.heading(t).into(),
                t.pick("Contacten", "Contacts").into(),
                t.pick("Inkomend", "Incoming").into(),
                t.pick("Uitgaand", "Outgoing").into(),
            ],
            rows: trows,
            csv: String::new(),
        },
        heat: false,
        wide: true,
    });

    st.mark("trend");
    // ---------------------------------------------------------------- per channel
    #[derive(Default)]
    struct Agg {
        row: RollupRow,
    }
    let mut by_channel: BTreeMap<String, Agg> = BTreeMap::new();
    let mut by_topic: BTreeMap<String, Agg> = BTreeMap::new();
    let mut by_tenant: BTreeMap<String, Agg> = BTreeMap::new();
    for r in &rows {
        by_channel.entry(r.channel.clone()).or_default().row.add(r);
        by_topic.entry(r.topic.clone()).or_default().row.add(r);
    }
    for r in &reads.tenants {
        by_tenant
            .entry(r.tenant_code.clone())
            .or_default()
            .row
            .add(r);
    }
    let mut ch_sorted: Vec<(&String, &Agg)> = by_channel.iter().collect();
    ch_sorted.sort_by_key(|(c, a)| (-a.row.new_conversations, (*c).clone()));
    let mut bars = Vec::new();
    let mut trows = Vec::new();
    for (c, a) in &ch_sorted {
        let href = ctx.all_period(c, None);
        bars.push(Bar {
            label: channel_label(c),
            values: vec![a.row.new_conversations as f64],
            href: Some(href.clone()),
        });
        trows.push(TableRow {
            cells: vec![
                channel_label(c),
                int_nl(a.row.new_conversations),
                int_nl(a.row.inbound),
                int_nl(a.row.outbound),
                dur(a.row.first_response_hist.percentile(50), t),
                dur(a.row.first_response_hist.percentile(90), t),
            ],
            href: Some(href),
        });
    }
    sections.push(Section {
        id: "kanalen",
        title: t
            .pick("Contacten per kanaal", "Contacts per channel")
            .into(),
        intro: t
            .pick(
                "Waar inwoners ons bereiken, met de reactietijd per kanaal.",
                "Where residents reach us, with the response time per channel.",
            )
            .into(),
        svg: charts::rows(&Chart {
            id: "ch-kanalen".into(),
            title: t
                .pick("Contacten per kanaal", "Contacts per channel")
                .into(),
            desc: tformat!(
                t,
                "Liggend staafdiagram van {} kanalen; het grootste is {}.",
                "Horizontal bar chart of {} channels; the largest is {}.",
                ch_sorted.len(),
                ch_sorted
                    .first()
                    .map(|(c, a)| tformat!(
                        t,
                        "{} met {} contacten",
                        "{} with {} contacts",
                        channel_label(c),
                        int_nl(a.row.new_conversations)
                    ))
                    .unwrap_or_else(|| t
                        .pick("er zijn geen contacten", "there are no contacts")
                        .into())
            ),
            series: vec![t.pick("Contacten", "Contacts").into()],
            bars,
            stacked: false,
            colours: None,
        }),
        table: Table {
            id: "kanalen",
            caption: t
                .pick(
                    "Contacten, berichten en eerste reactie per kanaal",
                    "Contacts, messages and first response per channel",
                )
                .into(),
            head: vec![
                t.pick("Kanaal", "Channel").into(),
                t.pick("Contacten", "Contacts").into(),
                t.pick("Inkomend", "Incoming").into(),
                t.pick("Uitgaand", "Outgoing").into(),
                t.pick("Eerste reactie mediaan", "First response median")
                    .into(),
                t.pick("Eerste reactie 90 %", "First response 90 %").into(),
            ],
            rows: trows,
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });

    // ---------------------------------------------------------------- per topic
    let mut tp_sorted: Vec<(&String, &Agg)> = by_topic.iter().collect();
    tp_sorted.sort_by_key(|(t, a)| (-a.row.new_conversations, (*t).clone()));
    let contacts_total = total.new_conversations.max(0);
    let mut bars = Vec::new();
    let mut trows = Vec::new();
    for (i, (topic, a)) in tp_sorted.iter().enumerate() {
        let href = ctx.all_period("", Some(topic));
        if i < 12 {
            bars.push(Bar {
                label: topic_label(topic, t),
                values: vec![a.row.new_conversations as f64],
                href: Some(href.clone()),
            });
        }
        let neg = a.row.sentiment_negative;
        let sent = a.row.sentiment_negative + a.row.sentiment_neutral + a.row.sentiment_positive;
        trows.push(TableRow {
            cells: vec![
                topic_label(topic, t),
                int_nl(a.row.new_conversations),
                pct(a.row.new_conversations, contacts_total),
                dur(a.row.resolution_hist.percentile(50), t),
                pct(neg, sent),
            ],
            href: Some(href),
        });
    }
    sections.push(Section {
        id: "onderwerpen",
        title: t.pick("Onderwerpen", "Topics").into(),
        intro: t
            .pick(
                "Waar inwoners over schrijven (de twaalf grootste in de grafiek, alle in de tabel).",
                "What residents write about (the twelve largest in the chart, all in the table).",
            )
            .into(),
        svg: charts::rows(&Chart {
            id: "ch-onderwerpen".into(),
            title: t.pick("Contacten per onderwerp", "Contacts per topic").into(),
            desc: tformat!(
                t,
                "Liggend staafdiagram van de {} grootste van {} onderwerpen.",
                "Horizontal bar chart of the {} largest of {} topics.",
                tp_sorted.len().min(12),
                tp_sorted.len()
            ),
            series: vec![t.pick("Contacten", "Contacts").into()],
            bars,
            stacked: false,
            colours: None,
        }),
        table: Table {
            id: "onderwerpen",
            caption: t
                .pick(
                    "Contacten, afhandeltijd en negatief sentiment per onderwerp",
                    "Contacts, resolution time and negative sentiment per topic",
                )
                .into(),
            head: vec![
                t.pick("Onderwerp", "Topic").into(),
                t.pick("Contacten", "Contacts").into(),
                t.pick("Aandeel", "Share").into(),
                t.pick("Afhandeltijd mediaan", "Resolution time median")
                    .into(),
                t.pick("Negatief", "Negative").into(),
            ],
            rows: trows,
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });

    // ---------------------------------------------------------------- per municipality
    if ctx.tenant.kind != TenantKind::Gemeente {
        let all = state.tenants();
        let mut tn_sorted: Vec<(&String, &Agg)> = by_tenant.iter().collect();
        tn_sorted.sort_by_key(|(t, a)| (-a.row.new_conversations, (*t).clone()));
        let mut bars = Vec::new();
        let mut trows = Vec::new();
        for (i, (code, a)) in tn_sorted.iter().enumerate() {
            let tn = all.get(code.as_str());
            let name = tn
                .map(|x| x.display_name.clone())
                .unwrap_or_else(|| (*code).clone());
            let per = tn
                .and_then(|x| x.inhabitants)
                .filter(|n| *n > 0)
                .map(|n| dec_nl(a.row.new_conversations as f64 * 1000.0 / n as f64))
                .unwrap_or_else(|| "–".into());
            let href = format!(
                "/dashboard/{code}{}",
                qs(&[
                    ("periode", ctx.picked.key),
                    ("van", &ctx.picked.first.to_string()),
                    ("tot", &ctx.picked.last.to_string()),
                ])
            );
            if i < 15 {
                bars.push(Bar {
                    label: name.clone(),
                    values: vec![a.row.new_conversations as f64],
                    href: Some(href.clone()),
                });
            }
            trows.push(TableRow {
                cells: vec![
                    name,
                    int_nl(a.row.new_conversations),
                    per,
                    dur(a.row.first_response_hist.percentile(50), t),
                    pct(a.row.pool_handled, a.row.first_responses),
                ],
                href: Some(href),
            });
        }
        sections.push(Section {
            id: "gemeenten",
            title: t.pick("Per gemeente", "Per municipality").into(),
            intro: t.pick(
                "Contacten per gemeente namens wie het gesprek liep; klik door naar het dashboard van die gemeente.",
                "Contacts per municipality on whose behalf the conversation ran; click through to that municipality's dashboard.",
            ).into(),
            svg: charts::rows_sized(&Chart {
                id: "ch-gemeenten".into(),
                title: t.pick("Contacten per gemeente", "Contacts per municipality").into(),
                desc: tformat!(
                    t,
                    "Liggend staafdiagram van de {} gemeenten met de meeste contacten, van {} in totaal.",
                    "Horizontal bar chart of the {} municipalities with the most contacts, of {} in total.",
                    tn_sorted.len().min(15),
                    tn_sorted.len()
                ),
                series: vec![t.pick("Contacten", "Contacts").into()],
                bars,
                stacked: false,
                colours: None,
            }, 800),
            table: Table {
                id: "gemeenten",
                caption: t.pick(
                    "Contacten, contacten per 1.000 inwoners, eerste reactie en poolaandeel per gemeente",
                    "Contacts, contacts per 1,000 inhabitants, first response and pool share per municipality",
                ).into(),
                head: vec![
                    t.pick("Gemeente", "Municipality").into(),
                    t.pick("Contacten", "Contacts").into(),
                    t.pick("Per 1.000 inwoners", "Per 1,000 inhabitants").into(),
                    t.pick("Eerste reactie mediaan", "First response median").into(),
                    t.pick("Via de pool", "Via the pool").into(),
                ],
                rows: trows,
                csv: String::new(),
            },
            heat: false,
            wide: true,
        });
    }

    // ---------------------------------------------------------------- sentiment per week
    let mut sent: BTreeMap<NaiveDate, (i64, i64, i64)> = BTreeMap::new();
    // Per week, or per month for periods of more than half a year.
    let sbucket = if bucket == Bucket::Month {
        Bucket::Month
    } else {
        Bucket::Week
    };
    let week_of = |d: NaiveDate| sbucket.start(d);
    for r in &reads.times {
        let day = local_day(
            Utc.timestamp_millis_opt(r.hour_start)
                .single()
                .unwrap_or(now),
        );
        let e = sent.entry(week_of(day)).or_default();
        e.0 += r.sentiment_negative;
        e.1 += r.sentiment_neutral;
        e.2 += r.sentiment_positive;
    }
    let mut bars = Vec::new();
    let mut trows = Vec::new();
    for (w, (n, u, p)) in &sent {
        let tot = (n + u + p).max(1) as f64;
        let href = ctx.drill(
            (*w).max(ctx.picked.first),
            sbucket.end(*w).min(ctx.picked.last),
            "",
            None,
        );
        bars.push(Bar {
            label: sbucket.label(*w, t),
            values: vec![
                100.0 * *n as f64 / tot,
                100.0 * *u as f64 / tot,
                100.0 * *p as f64 / tot,
            ],
            href: Some(href.clone()),
        });
        trows.push(TableRow {
            cells: vec![
                sbucket.long_label(*w, t),
                int_nl(*n),
                int_nl(*u),
                int_nl(*p),
                pct(*n, n + u + p),
            ],
            href: Some(href),
        });
    }
    sections.push(Section {
        id: "sentiment",
        title: format!("Sentiment per {}", sbucket.unit(t)),
        intro: tformat!(
            t,
            "De toon van het eerste bericht van elk gesprek, als aandeel per {}.",
            "The tone of the first message of each conversation, as a share per {}.",
            sbucket.unit(t)
        ),
        svg: charts::columns_sized(&Chart {
            id: "ch-sentiment".into(),
            title: format!("Sentiment per {}", sbucket.unit(t)),
            desc: tformat!(
                t,
                "Gestapeld staafdiagram in procenten: negatief, neutraal en positief per {} over {} {}; in totaal {} negatief.",
                "Stacked bar chart in percent: negative, neutral and positive per {} over {} {}; {} negative in total.",
                sbucket.unit(t),
                sent.len(),
                sbucket.plural(t),
                pct(total.sentiment_negative, total.sentiment_negative + total.sentiment_neutral + total.sentiment_positive)
            ),
            series: vec![
                t.pick("Negatief", "Negative").into(),
                t.pick("Neutraal", "Neutral").into(),
                t.pick("Positief", "Positive").into(),
            ],
            bars,
            stacked: true,
            colours: Some(vec!["#b0251b", "#737d88", "#22672a"]),
        }, 560),
        table: Table {
            id: "sentiment",
            caption: tformat!(
                t,
                "Aantal gesprekken per sentiment per {}",
                "Number of conversations per sentiment per {}",
                sbucket.unit(t)
            ),
            head: vec![
                sbucket.heading(t).into(),
                t.pick("Negatief", "Negative").into(),
                t.pick("Neutraal", "Neutral").into(),
                t.pick("Positief", "Positive").into(),
                t.pick("Aandeel negatief", "Share negative").into(),
            ],
            rows: trows,
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });

    // ---------------------------------------------------------------- hour of week
    let mut how = [0i64; 168];
    for (hour, inbound) in &how_hours {
        let t = Utc.timestamp_millis_opt(*hour).single().unwrap_or(now);
        how[usize::from(hour_of_week(t))] += inbound;
    }
    let how_period = Period::new(
        Utc.timestamp_millis_opt(how_from).single().unwrap_or(now),
        Utc.timestamp_millis_opt(to).single().unwrap_or(now),
    )
    .expect("ordered");
    let occ = loket_core::metrics::hour_of_week_occurrences(&how_period);
    let avg: Vec<f64> = (0..168)
        .map(|i| {
            if occ[i] == 0 {
                0.0
            } else {
                how[i] as f64 / f64::from(occ[i])
            }
        })
        .collect();
    let max = avg.iter().copied().fold(0.0, f64::max);
    let mut trows = Vec::new();
    for d in 0..7 {
        let mut cells = vec![t.weekday(d).to_string()];
        for h in 0..24 {
            let v = avg[d * 24 + h];
            let level = if max > 0.0 {
                ((v / max) * 5.0).ceil() as u8
            } else {
                0
            };
            // "level|value": the template shades by level and prints the value.
            let shown = if v == 0.0 { "0".to_string() } else { dec_nl(v) };
            cells.push(format!("{level}|{shown}"));
        }
        trows.push(TableRow { cells, href: None });
    }
    let how_days = (to - how_from) / 86_400_000;
    sections.push(Section {
        id: "uren",
        title: t
            .pick("Drukte per uur van de week", "Busyness per hour of the week")
            .into(),
        intro: tformat!(
            t,
            "Gemiddeld aantal inkomende berichten per uur, over de laatste {how_days} dagen van de periode. Donkerder is drukker; het getal staat in elke cel.",
            "Average number of incoming messages per hour, over the last {how_days} days of the period. Darker is busier; the number is in each cell."
        ),
        svg: String::new(),
        table: Table {
            id: "uren",
            caption: t
                .pick(
                    "Gemiddeld aantal inkomende berichten per uur van de week",
                    "Average number of incoming messages per hour of the week",
                )
                .into(),
            head: std::iter::once(t.pick("Dag", "Day").to_string())
                .chain((0..24).map(|h| format!("{h:02}")))
                .collect(),
            rows: trows,
            csv: String::new(),
        },
        heat: true,
        wide: true,
    });

    // ---------------------------------------------------------------- backlog
    let mut counts = [0i64; 6];
    for c in &open {
        let hours = (ms(now) - c) / 3_600_000;
        let i = BACKLOG_BUCKETS
            .iter()
            .rposition(|&(_, lower, _)| hours >= i64::from(lower))
            .unwrap_or(0);
        counts[i] += 1;
    }
    let age_label = |i: usize| {
        t.pick(BACKLOG_BUCKETS[i].0, BACKLOG_BUCKETS_EN[i])
            .to_string()
    };
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, n)| Bar {
            label: age_label(i),
            values: vec![*n as f64],
            href: None,
        })
        .collect();
    let trows = counts
        .iter()
        .enumerate()
        .map(|(i, n)| TableRow {
            cells: vec![age_label(i), int_nl(*n)],
            href: None,
        })
        .collect();
    sections.push(Section {
        id: "achterstand",
        title: t.pick("Achterstand naar leeftijd", "Backlog by age").into(),
        intro: t.pick(
            "Gesprekken die nu op een medewerker wachten (nieuw of open), naar hoe lang geleden ze begonnen. Dit is een momentopname, los van de gekozen periode.",
            "Conversations now waiting for an agent (new or open), by how long ago they started. This is a snapshot, independent of the chosen period.",
        ).into(),
        svg: charts::rows(&Chart {
            id: "ch-achterstand".into(),
            title: t.pick("Achterstand naar leeftijd", "Backlog by age").into(),
            desc: tformat!(
                t,
                "Liggend staafdiagram: {} wachtende gesprekken, waarvan {} langer dan 3 dagen.",
                "Horizontal bar chart: {} waiting conversations, of which {} for longer than 3 days.",
                int_nl(open.len() as i64),
                int_nl(counts[4] + counts[5])
            ),
            series: vec![t.pick("Gesprekken", "Conversations").into()],
            bars,
            stacked: false,
            colours: None,
        }),
        table: Table {
            id: "achterstand",
            caption: t
                .pick(
                    "Wachtende gesprekken per leeftijdsklasse",
                    "Waiting conversations per age class",
                )
                .into(),
            head: vec![
                t.pick("Leeftijd", "Age").into(),
                t.pick("Gesprekken", "Conversations").into(),
            ],
            rows: trows,
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });

    // ---------------------------------------------------------------- satisfaction
    let mut scores = [0i64; 5];
    let mut per_topic: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let mut per_team: BTreeMap<Option<i64>, (i64, i64, i64)> = BTreeMap::new();
    let mut per_agent: BTreeMap<Option<i64>, (i64, i64, i64)> = BTreeMap::new();
    for (team, agent, topic, score, n) in &answers {
        let i = (*score).clamp(1, 5) as usize - 1;
        scores[i] += n;
        for e in [
            per_topic.entry(topic.clone()).or_default(),
            per_team.entry(*team).or_default(),
            per_agent.entry(*agent).or_default(),
        ] {
            e.0 += n;
            e.1 += score * n;
            e.2 += if *score >= 4 { *n } else { 0 };
        }
    }
    let csat_cells = |name: String, (n, sum, sat): (i64, i64, i64)| {
        vec![
            name,
            int_nl(n),
            pct(sat, n),
            if n > 0 {
                dec_nl(sum as f64 / n as f64)
            } else {
                "–".into()
            },
        ]
    };
    let csat_head = |first: &str| {
        vec![
            first.to_string(),
            t.pick("Antwoorden", "Answers").into(),
            t.pick("Tevreden (4–5)", "Satisfied (4–5)").into(),
            t.pick("Gemiddeld (1–5)", "Average (1–5)").into(),
        ]
    };
    let mut topic_rows: Vec<(&String, &(i64, i64, i64))> = per_topic.iter().collect();
    topic_rows.sort_by_key(|(topic, v)| (-v.0, (*topic).clone()));
    sections.push(Section {
        id: "tevredenheid",
        title: t.pick("Tevredenheid", "Satisfaction").into(),
        intro: tformat!(
            t,
            "Antwoorden op de korte vraag na een opgelost gesprek: {} in deze periode.",
            "Answers to the short question after a resolved conversation: {} in this period.",
            int_nl(csat.answers)
        ),
        svg: charts::columns_sized(
            &Chart {
                id: "ch-tevredenheid".into(),
                title: t
                    .pick("Verdeling van de scores", "Distribution of the scores")
                    .into(),
                desc: tformat!(
                    t,
                    "Staafdiagram van het aantal antwoorden per score van 1 tot 5; {} tevreden (4 of 5).",
                    "Bar chart of the number of answers per score from 1 to 5; {} satisfied (4 or 5).",
                    pct(scores[3] + scores[4], csat.answers)
                ),
                series: vec![t.pick("Antwoorden", "Answers").into()],
                bars: (1..=5)
                    .map(|k| Bar {
                        label: if k == 1 {
                            t.pick("1 ster", "1 star").to_string()
                        } else {
                            tformat!(t, "{k} sterren", "{k} stars")
                        },
                        values: vec![scores[k - 1] as f64],
                        href: None,
                    })
                    .collect(),
                stacked: false,
                colours: None,
            },
            560,
        ),
        table: Table {
            id: "tevredenheid",
            caption: t
                .pick("Tevredenheid per onderwerp", "Satisfaction per topic")
                .into(),
            head: csat_head(t.pick("Onderwerp", "Topic")),
            rows: topic_rows
                .into_iter()
                .map(|(topic, v)| TableRow {
                    cells: csat_cells(topic_label(topic, t), *v),
                    href: None,
                })
                .collect(),
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });
    if ctx.tenant.kind != TenantKind::Nationaal {
        let teams: BTreeMap<i64, String> = state
            .store
            .teams(&tenants)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        sections.push(Section {
            id: "tevredenheid_teams",
            title: t
                .pick("Tevredenheid per team", "Satisfaction per team")
                .into(),
            intro: String::new(),
            svg: String::new(),
            table: Table {
                id: "tevredenheid_teams",
                caption: t
                    .pick("Tevredenheid per team", "Satisfaction per team")
                    .into(),
                head: csat_head("Team"),
                rows: per_team
                    .iter()
                    .map(|(team, v)| TableRow {
                        cells: csat_cells(
                            team.and_then(|id| teams.get(&id).cloned())
                                .unwrap_or_else(|| t.pick("Zonder team", "No team").into()),
                            *v,
                        ),
                        href: None,
                    })
                    .collect(),
                csv: String::new(),
            },
            heat: false,
            wide: false,
        });
    }
    if ctx.show_agents {
        let mut rows = Vec::new();
        for (agent, v) in &per_agent {
            let name = match agent {
                Some(id) => state
                    .store
                    .user(*id)
                    .await
                    .map(|u| u.name)
                    .unwrap_or_else(|_| tformat!(t, "medewerker {id}", "agent {id}")),
                None => t.pick("Onbekend", "Unknown").into(),
            };
            rows.push(TableRow {
                cells: csat_cells(name, *v),
                href: None,
            });
        }
        sections.push(Section {
            id: "tevredenheid_medewerkers",
            title: t
                .pick("Tevredenheid per medewerker", "Satisfaction per agent")
                .into(),
            intro: t
                .pick(
                    "Alleen zichtbaar voor supervisors: bedoeld voor coaching, niet om af te rekenen.",
                    "Only visible to supervisors: meant for coaching, not for judging.",
                )
                .into(),
            svg: String::new(),
            table: Table {
                id: "tevredenheid_medewerkers",
                caption: t
                    .pick(
                        "Tevredenheid per medewerker (de behandelaar bij het oplossen)",
                        "Satisfaction per agent (the assignee at resolution)",
                    )
                    .into(),
                head: csat_head(t.pick("Medewerker", "Agent")),
                rows,
                csv: String::new(),
            },
            heat: false,
            wide: false,
        });
    }

    // The key figures as a table too, for the CSV export.
    let key_rows = tiles
        .iter()
        .map(|t| TableRow {
            cells: vec![t.label.clone(), t.value.clone(), t.note.clone()],
            href: None,
        })
        .collect();
    sections.push(Section {
        id: "kengetallen",
        title: t.pick("Kengetallen", "Key figures").into(),
        intro: String::new(),
        svg: String::new(),
        table: Table {
            id: "kengetallen",
            caption: t
                .pick("Kengetallen van de periode", "Key figures of the period")
                .into(),
            head: vec![
                t.pick("Kengetal", "Figure").into(),
                t.pick("Waarde", "Value").into(),
                t.pick("Toelichting", "Note").into(),
            ],
            rows: key_rows,
            csv: String::new(),
        },
        heat: false,
        wide: false,
    });

    // Pairs side by side on a wide screen, the long ones across the page.
    const ORDER: [&str; 11] = [
        "verloop",
        "kanalen",
        "achterstand",
        "onderwerpen",
        "sentiment",
        "tevredenheid",
        "tevredenheid_teams",
        "tevredenheid_medewerkers",
        "gemeenten",
        "uren",
        "kengetallen",
    ];
    sections.sort_by_key(|s| ORDER.iter().position(|o| *o == s.id).unwrap_or(usize::MAX));
    if ctx.tenant.kind == TenantKind::Nationaal {
        // No hour-of-week read nationally (see above).
        sections.retain(|s| s.id != "uren");
    }
    st.mark("sections");
    Ok(Computed {
        tiles,
        sections,
        channels,
        topics,
        timing: st,
    })
}

/// The key figures and the five biggest topics (name, count) of `tenant` over the local days
/// `first..=last`, without filters: the weekly summary (an e-mail in Dutch).
pub(crate) async fn week_figures(
    state: &AppState,
    tenant: &Tenant,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(Vec<Tile>, Vec<(String, String)>), AppError> {
    let picked = Picked {
        key: "aangepast",
        first,
        last,
        period: Period::local_days(first, last)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("periode: {e}")))?,
    };
    let filters = Filters::default();
    let ctx = Ctx {
        state,
        t: Tr(Lang::Nl),
        code: &tenant.code,
        tenant,
        picked: &picked,
        filters: &filters,
        show_agents: false,
    };
    let c = compute(&ctx).await?;
    let topics = c
        .sections
        .iter()
        .find(|s| s.id == "onderwerpen")
        .map(|s| {
            s.table
                .rows
                .iter()
                .take(5)
                .map(|r| (r.cells[0].clone(), r.cells[1].clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok((c.tiles, topics))
}

/// Nearest-rank percentile `p` of sorted `v`.
fn nearest_rank(v: &[u64], p: usize) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.get((p * v.len()).div_ceil(100).max(1) - 1).copied()
}

/// Business-time first responses and resolutions, and handle times, of one timing sample.
#[derive(Default)]
struct Timings {
    first_response: Vec<u64>,
    resolution: Vec<u64>,
    handle: Vec<u64>,
    sampled: bool,
}

/// One scan for the figures the rollups cannot give: first-response and resolution times in
/// each municipality's business time (not for the national view: `business` false) and handle
/// times, from a sample of about 2,000 conversations.
async fn timings(
    ctx: &Ctx<'_>,
    f: &DashFilter,
    count: i64,
    business: bool,
    from: i64,
    to: i64,
) -> Result<Timings, AppError> {
    // About 2,000 conversations: the nearest-rank percentiles of such a sample are within
    // about two percentile points of the whole, and business time costs a calendar walk each.
    // Large periods take every 64th from its partial index, never fewer than 500.
    const SAMPLE: i64 = 2_000;
    let every = loket_store::dashboard::sample_every(count, SAMPLE);
    let rows = limited(ctx.state, ctx.state.store.timing_sample(f, from, to, every)).await?;
    let all = ctx.state.tenants();
    let default = loket_core::calendar::WeekSchedule::default();
    let within = |t: Option<i64>| t.filter(|t| (from..to).contains(t));
    let mut out = Timings {
        first_response: vec![],
        resolution: vec![],
        handle: vec![],
        sampled: every > 1,
    };
    for r in &rows {
        let schedule = all
            .get(&r.tenant)
            .map(|t| &t.settings.hours)
            .unwrap_or(&default);
        let biz = |end: i64| -> Option<u64> {
            let a = Utc.timestamp_millis_opt(r.created_at).single()?;
            let b = Utc.timestamp_millis_opt(end).single()?;
            u64::try_from(loket_core::calendar::business_time_between(schedule, a, b).num_seconds())
                .ok()
        };
        if business && let Some(v) = within(r.first_response_at).and_then(biz) {
            out.first_response.push(v);
        }
        if let Some(at) = within(r.first_resolved_at) {
            if business && let Some(v) = biz(at) {
                out.resolution.push(v);
            }
            if r.handle_seconds > 0 {
                out.handle.push(r.handle_seconds as u64);
            }
        }
    }
    out.first_response.sort_unstable();
    out.resolution.sort_unstable();
    out.handle.sort_unstable();
    Ok(out)
}

// ---------------------------------------------------------------------------- handlers

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    match home_of(&user, &state) {
        Some(code) => Redirect::to(&format!("/dashboard/{code}")).into_response(),
        None => {
            let t = tr(&headers, &user);
            error_page(
                StatusCode::FORBIDDEN,
                t.pick(
                    "U heeft geen toegang tot managementinformatie. Vraag uw supervisor of beheerder om een rol.",
                    "You have no access to management information. Ask your supervisor or administrator for a role.",
                ),
                &t.0,
            )
        }
    }
}

/// Checks access and resolves the tenant, period and filters shared by all dashboard views.
async fn prepare(
    state: &AppState,
    headers: &HeaderMap,
    user: &CurrentUser,
    code: &str,
    q: &DashQuery,
) -> Result<(Tenant, Picked, Option<String>, Filters, Vec<(i64, String)>), Response> {
    let t = tr(headers, user);
    let Some(tenant) = state.tenant(code) else {
        return Err(error_page(
            StatusCode::NOT_FOUND,
            t.pick(
                "Onbekende gemeente of pool.",
                "Unknown municipality or pool.",
            ),
            &t.0,
        ));
    };
    if !may_view(user, state, code) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            t.pick(
                "U heeft geen toegang tot de cijfers van deze organisatie.",
                "You have no access to the figures of this organisation.",
            ),
            &t.0,
        ));
    }
    let today = local_day(Utc::now());
    let (picked, mut error) = pick(q, today, t);
    let teams: Vec<(i64, String)> = if tenant.kind == TenantKind::Nationaal {
        vec![]
    } else {
        state
            .store
            .teams(std::slice::from_ref(&tenant.code))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    let mut filters = Filters {
        channel: nonempty(&q.kanaal).map(str::to_string),
        topic: nonempty(&q.onderwerp).map(|topic| {
            if topic == "-" {
                String::new()
            } else {
                topic.to_string()
            }
        }),
        team: None,
    };
    if let Some(c) = &filters.channel
        && loket_core::Channel::parse(c).is_none()
    {
        error = Some(
            t.pick(
                "Onbekend kanaal; het filter is weggelaten.",
                "Unknown channel; the filter was left out.",
            )
            .into(),
        );
        filters.channel = None;
    }
    if let Some(team) = nonempty(&q.team) {
        match team
            .parse::<i64>()
            .ok()
            .and_then(|id| teams.iter().find(|x| x.0 == id))
        {
            Some(x) => filters.team = Some(x.clone()),
            None => {
                error = Some(
                    t.pick(
                        "Onbekend team; het filter is weggelaten.",
                        "Unknown team; the filter was left out.",
                    )
                    .into(),
                )
            }
        }
    }
    Ok((tenant, picked, error, filters, teams))
}

async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let (tenant, picked, error, filters, teams) =
        match prepare(&state, &headers, &user, &code, &q).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let t = tr(&headers, &user);
    let ctx = Ctx {
        state: &state,
        t,
        code: &tenant.code,
        tenant: &tenant,
        picked: &picked,
        filters: &filters,
        show_agents: user.has_role(&tenant.code, Role::Supervisor),
    };
    let computed = match compute(&ctx).await {
        Ok(c) => c,
        Err(e) => return page_error(e, t.0),
    };
    let mut timing = computed.timing.clone();
    let query = query_of(&picked, &filters);
    let mut sections = computed.sections;
    for s in &mut sections {
        s.table.csv = format!("/dashboard/{}/export/{}.csv{}", tenant.code, s.id, query);
    }
    let mut channels: Vec<(String, String, bool)> = computed
        .channels
        .iter()
        .map(|c| {
            (
                c.clone(),
                channel_label(c),
                filters.channel.as_deref() == Some(c),
            )
        })
        .collect();
    if let Some(c) = &filters.channel
        && !computed.channels.contains(c)
    {
        channels.push((c.clone(), channel_label(c), true));
    }
    let mut topics: Vec<(String, String, bool)> = computed
        .topics
        .iter()
        .map(|topic| {
            let v = if topic.is_empty() {
                "-".to_string()
            } else {
                topic.clone()
            };
            (
                v,
                topic_label(topic, t),
                filters.topic.as_deref() == Some(topic),
            )
        })
        .collect();
    topics.sort_by(|a, b| a.1.cmp(&b.1));
    let teams = teams
        .iter()
        .map(|(id, name)| {
            (
                id.to_string(),
                name.clone(),
                filters.team.as_ref().is_some_and(|x| x.0 == *id),
            )
        })
        .collect();
    let kind = match tenant.kind {
        TenantKind::Gemeente => t.pick("Gemeente", "Municipality"),
        TenantKind::Regio => t.pick("Regionale pool", "Regional pool"),
        TenantKind::Nationaal => t.pick("Landelijk overzicht", "National overview"),
    };
    let scope_note = match tenant.kind {
        TenantKind::Gemeente => t
            .pick(
                "Alle gesprekken namens deze gemeente, ook die een regiopool voor haar behandelde.",
                "All conversations on behalf of this municipality, including those a regional pool handled for it.",
            )
            .to_string(),
        TenantKind::Regio => tformat!(
            t,
            "De {} gemeenten die deze pool bedient, plus de eigen gesprekken van de pool.",
            "The {} municipalities this pool serves, plus the pool's own conversations.",
            scope_of(&state, &tenant).len().saturating_sub(1)
        ),
        TenantKind::Nationaal => t
            .pick(
                "Alle gemeenten, regiopools en het landelijke loket.",
                "All municipalities, regional pools and the national desk.",
            )
            .to_string(),
    };
    let filter_note = filters
        .team
        .as_ref()
        .map(|(_, name)| {
            tformat!(
                t,
                "Alleen de gesprekken van team ‘{name}’. Met een teamfilter rekent Loket de cijfers uit de gesprekken zelf, niet uit de bijgehouden tellingen; bij lange perioden duurt dat langer.",
                "Only the conversations of team ‘{name}’. With a team filter Loket computes the figures from the conversations themselves, not from the running counts; for long periods that takes longer."
            )
        })
        .unwrap_or_default();
    // Other dashboards the user may open: own tenants, their pools, national.
    let all = state.tenants();
    let mut switch: Vec<(String, String)> = user
        .roles
        .keys()
        .filter(|c| *c != &tenant.code && may_view(&user, &state, c))
        .filter_map(|c| all.get(c).map(|t| (c.clone(), t.display_name.clone())))
        .collect();
    if let Some(p) = &tenant.pool_code
        && may_view(&user, &state, p)
        && !switch.iter().any(|s| &s.0 == p)
    {
        switch.push((p.clone(), state.tenant_label(p)));
    }
    switch.sort();
    let period_label = tformat!(
        t,
        "{} t/m {} {}",
        "{} to {} {}",
        day_label(picked.first, t),
        day_label(picked.last, t),
        picked.last.year()
    );
    let status = if error.is_some() && q.periode.as_deref() == Some("aangepast") {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = page(&DashboardPage {
        t,
        nav: Some(Nav::of(&user, "dashboard")),
        title: format!("{kind}: {}", tenant.display_name),
        code: tenant.code.clone(),
        scope_note,
        periods: PERIODS
            .iter()
            .map(|(k, nl, en)| (*k, t.pick(nl, en), *k == picked.key))
            .collect(),
        van: picked.first.to_string(),
        tot: picked.last.to_string(),
        period_label,
        error,
        channels,
        topics,
        teams,
        filter_note,
        tiles: computed.tiles,
        sections,
        query,
        switch,
        insight: if tenant.kind != TenantKind::Nationaal
            && crate::insight::access(&state, &user, &tenant.code).is_ok()
        {
            crate::insight::nav_links(t.is_en())
                .into_iter()
                .map(|(slug, label)| (format!("/admin/{}/{slug}", tenant.code), label))
                .collect()
        } else {
            vec![]
        },
    });
    timing.mark("render");
    *r.status_mut() = status;
    r.headers_mut()
        .insert(HeaderName::from_static("server-timing"), timing.header());
    r
}

/// The weekly summary as the supervisors get it, and who got it when.
async fn weekly(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let q = DashQuery::default();
    let (tenant, _, _, _, _) = match prepare(&state, &headers, &user, &code, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = tr(&headers, &user);
    let week = crate::summary::due_week(Utc::now(), state.config.mail.weekly_hour);
    // The e-mail itself is in Dutch for every recipient: shown as it is sent.
    let s = match crate::summary::build(&state, &tenant, week).await {
        Ok(s) => s,
        Err(e) => return page_error(e, t.0),
    };
    let rows = state
        .store
        .weekly_summaries(&tenant.code, 50)
        .await
        .unwrap_or_default();
    let mut log = Vec::new();
    for r in rows {
        let name = state
            .store
            .user(r.user_id)
            .await
            .map(|u| u.name)
            .unwrap_or_else(|_| tformat!(t, "gebruiker {}", "user {}", r.user_id));
        let st = match r.state.as_str() {
            "verstuurd" => t.pick("verstuurd", "sent"),
            "mislukt" => t.pick("mislukt", "failed"),
            _ => t.pick("bezig", "in progress"),
        };
        log.push((
            r.week_start,
            name,
            st.to_string(),
            crate::ui::when_in(r.updated_at, t),
            r.error.unwrap_or_default(),
        ));
    }
    page(&WeeklyPage {
        t,
        nav: Some(Nav::of(&user, "dashboard")),
        code: tenant.code.clone(),
        title: tenant.display_name.clone(),
        subject: s.subject,
        text: s.text,
        mail_on: !state.config.mail.smtp_host.trim().is_empty(),
        log,
    })
}

/// The query string that reproduces the period and filters.
fn query_of(picked: &Picked, f: &Filters) -> String {
    let (van, tot) = (picked.first.to_string(), picked.last.to_string());
    let team = f.team.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
    let topic = match f.topic.as_deref() {
        Some("") => "-".to_string(),
        Some(t) => t.to_string(),
        None => String::new(),
    };
    let custom = picked.key == "aangepast";
    qs(&[
        ("periode", picked.key),
        ("van", if custom { van.as_str() } else { "" }),
        ("tot", if custom { tot.as_str() } else { "" }),
        ("kanaal", f.channel.as_deref().unwrap_or("")),
        ("onderwerp", &topic),
        ("team", &team),
    ])
}

async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path((code, table)): Path<(String, String)>,
    Query(q): Query<DashQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let (tenant, picked, _error, filters, _teams) =
        match prepare(&state, &headers, &user, &code, &q).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let id = table.strip_suffix(".csv").unwrap_or(&table);
    // The CSV is the table as shown: its headers and labels follow the reader's language.
    let t = tr(&headers, &user);
    let ctx = Ctx {
        state: &state,
        t,
        code: &tenant.code,
        tenant: &tenant,
        picked: &picked,
        filters: &filters,
        show_agents: user.has_role(&tenant.code, Role::Supervisor),
    };
    let table = if id == "gesprekken" {
        match drill_table(&ctx, &user, 0, 100_000).await {
            Ok((table, _)) => table,
            Err(e) => return page_error(e, t.0),
        }
    } else {
        let computed = match compute(&ctx).await {
            Ok(c) => c,
            Err(e) => return page_error(e, t.0),
        };
        match computed.sections.into_iter().find(|s| s.id == id) {
            Some(s) => s.table,
            None => {
                return error_page(
                    StatusCode::NOT_FOUND,
                    t.pick("Deze tabel bestaat niet.", "This table does not exist."),
                    &t.0,
                );
            }
        }
    };
    let heat = id == "uren";
    let body = csv(&table, heat);
    let name = format!(
        "loket-{}-{}-{}-{}.csv",
        tenant.code.to_lowercase(),
        id,
        picked.first,
        picked.last
    );
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// RFC 4180 CSV with a header row; cells that a spreadsheet would run as a formula are
/// prefixed with a quote (CSV injection).
pub fn csv(t: &Table, heat: bool) -> String {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err() {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if s.contains([',', '"', '\n', '\r', ';']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out = String::new();
    out.push_str(&t.head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in &t.rows {
        let cells: Vec<String> = r
            .cells
            .iter()
            .map(|c| {
                let c = if heat {
                    c.split_once('|').map(|x| x.1).unwrap_or(c)
                } else {
                    c
                };
                cell(c)
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

const PAGE_SIZE: i64 = 50;

async fn drill_table(
    ctx: &Ctx<'_>,
    user: &CurrentUser,
    offset: i64,
    limit: i64,
) -> Result<(Table, i64), AppError> {
    let t = ctx.t;
    let tenants = scope_of(ctx.state, ctx.tenant);
    let f = ctx.filter(tenants);
    let (from, to) = (ms(ctx.picked.period.start()), ms(ctx.picked.period.end()));
    let (rows, total) = ctx
        .state
        .store
        .drill_conversations(&f, from, to, limit, offset)
        .await?;
    let all = ctx.state.tenants();
    let rows = rows
        .into_iter()
        .map(|r| {
            // Subjects only for those who may open the conversation (privacy by design).
            let visible = user.can_see(&r.tenant)
                || all
                    .get(&r.tenant)
                    .and_then(|x| x.pool_code.clone())
                    .is_some_and(|p| user.can_see(&p));
            let subject = if visible {
                r.subject.chars().take(80).collect()
            } else {
                t.pick("(afgeschermd)", "(hidden)").to_string()
            };
            TableRow {
                cells: vec![
                    format!("#{}", r.id),
                    crate::ui::when_in(r.created_at, t),
                    all.get(&r.tenant)
                        .map(|x| x.display_name.clone())
                        .unwrap_or(r.tenant.clone()),
                    channel_label(&r.channel),
                    topic_label(&r.topic, t),
                    Some(t.state(&r.state))
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .unwrap_or(r.state.clone()),
                    r.first_response_at
                        .map(|at| dur(Some(((at - r.created_at).max(0) / 1000) as u64), t))
                        .unwrap_or_else(|| "–".into()),
                    subject,
                ],
                href: visible.then(|| format!("/conversations/{}", r.id)),
            }
        })
        .collect();
    Ok((
        Table {
            id: "gesprekken",
            caption: t.pick("Gesprekken", "Conversations").into(),
            head: [
                t.pick("Gesprek", "Conversation"),
                t.pick("Begonnen", "Started"),
                t.pick("Gemeente", "Municipality"),
                t.pick("Kanaal", "Channel"),
                t.pick("Onderwerp", "Topic"),
                t.pick("Status", "State"),
                t.pick("Eerste reactie na", "First response after"),
                t.pick("Onderwerpregel", "Subject line"),
            ]
            .map(String::from)
            .to_vec(),
            rows,
            csv: String::new(),
        },
        total,
    ))
}

async fn drill(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> Response {
    let user = match user {
        Ok(u) => u,
        Err(e) => return page_error(e, lang_of(&headers)),
    };
    let (tenant, picked, error, filters, _teams) =
        match prepare(&state, &headers, &user, &code, &q).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let t = tr(&headers, &user);
    if let Some(e) = error {
        return error_page(StatusCode::BAD_REQUEST, &e, &t.0);
    }
    let ctx = Ctx {
        state: &state,
        t,
        code: &tenant.code,
        tenant: &tenant,
        picked: &picked,
        filters: &filters,
        show_agents: user.has_role(&tenant.code, Role::Supervisor),
    };
    let page_no = q.pagina.unwrap_or(1).clamp(1, 10_000);
    let offset = i64::from(page_no - 1) * PAGE_SIZE;
    let (mut table, total) = match drill_table(&ctx, &user, offset, PAGE_SIZE).await {
        Ok(x) => x,
        Err(e) => return page_error(e, t.0),
    };
    let query = query_of(&picked, &filters);
    table.csv = format!("/dashboard/{}/export/gesprekken.csv{}", tenant.code, query);
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1) as u32;
    let sep = if query.is_empty() { '?' } else { '&' };
    let link = |p: u32| {
        format!(
            "/dashboard/{}/gesprekken{query}{sep}pagina={p}",
            tenant.code
        )
    };
    let mut what = vec![if picked.first == picked.last {
        tformat!(
            t,
            "begonnen op {} {}",
            "started on {} {}",
            day_label(picked.first, t),
            picked.first.year()
        )
    } else {
        tformat!(
            t,
            "begonnen van {} t/m {} {}",
            "started from {} to {} {}",
            day_label(picked.first, t),
            day_label(picked.last, t),
            picked.last.year()
        )
    }];
    if let Some(c) = &filters.channel {
        what.push(tformat!(t, "kanaal {}", "channel {}", channel_label(c)));
    }
    if let Some(topic) = &filters.topic {
        what.push(tformat!(
            t,
            "onderwerp {}",
            "topic {}",
            topic_label(topic, t)
        ));
    }
    if let Some((_, n)) = &filters.team {
        what.push(format!("team {n}"));
    }
    page(&DrillPage {
        t,
        nav: Some(Nav::of(&user, "dashboard")),
        title: tenant.display_name.clone(),
        what: what.join(", "),
        table,
        total,
        page: page_no,
        pages,
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (page_no < pages).then(|| link(page_no + 1)),
        back: format!("/dashboard/{}{}", tenant.code, query),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_numbers_and_durations() {
        assert_eq!(int_nl(0), "0");
        assert_eq!(int_nl(999), "999");
        assert_eq!(int_nl(1000), "1.000");
        assert_eq!(int_nl(1234567), "1.234.567");
        assert_eq!(int_nl(-1234), "-1.234");
        let nl = Tr(Lang::Nl);
        assert_eq!(dur(None, nl), "–");
        assert_eq!(dur(Some(59), nl), "59 s");
        assert_eq!(dur(Some(600), nl), "10 min");
        assert_eq!(dur(Some(3600 + 5 * 60), nl), "1 u 05 min");
        assert_eq!(dur(Some(2 * 86_400 + 4 * 3600), nl), "2 d 4 u");
        assert_eq!(pct(1, 3), "33,3 %");
        assert_eq!(pct(1, 0), "–");
    }

    #[test]
    fn english_durations_and_dates() {
        let en = Tr(Lang::En);
        let nl = Tr(Lang::Nl);
        assert_eq!(dur(Some(3600 + 5 * 60), en), "1 h 05 min");
        assert_eq!(dur(Some(2 * 86_400 + 4 * 3600), en), "2 d 4 h");
        assert_eq!(dur(Some(600), en), "10 min");
        let d = NaiveDate::from_ymd_opt(2026, 10, 3).unwrap();
        assert_eq!(day_label(d, nl), "3 okt");
        assert_eq!(day_label(d, en), "3 Oct");
        assert_eq!(Bucket::Month.label(d, en), "Oct 26");
        assert_eq!(Bucket::Month.long_label(d, nl), "okt 2026");
        assert_eq!(Bucket::Day.unit(en), "day");
        assert_eq!(Bucket::Day.unit(nl), "dag");
        assert_eq!(topic_label("", en), "Unknown topic");
        assert_eq!(topic_label("", nl), "Onbekend onderwerp");
    }

    #[test]
    fn buckets_by_period_length() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(Bucket::for_days(1), Bucket::Day);
        assert_eq!(Bucket::for_days(62), Bucket::Day);
        assert_eq!(Bucket::for_days(63), Bucket::Week);
        assert_eq!(Bucket::for_days(365), Bucket::Month);
        // Sunday 29 November 2026 is in the week of Monday 23 November.
        assert_eq!(Bucket::Week.start(d("2026-11-29")), d("2026-11-23"));
        assert_eq!(Bucket::Week.end(d("2026-11-23")), d("2026-11-29"));
        assert_eq!(Bucket::Month.start(d("2026-02-17")), d("2026-02-01"));
        assert_eq!(Bucket::Month.end(d("2026-02-01")), d("2026-02-28"));
        assert_eq!(Bucket::Month.end(d("2024-02-01")), d("2024-02-29"));
        assert_eq!(Bucket::Month.label(d("2026-10-01"), Tr(Lang::Nl)), "okt 26");
    }

    #[test]
    fn periods() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let pick = |q: &DashQuery, today| pick(q, today, Tr(Lang::Nl));
        let q = |p: &str, van: &str, tot: &str| DashQuery {
            periode: Some(p.into()),
            van: Some(van.into()),
            tot: Some(tot.into()),
            ..Default::default()
        };
        let (p, e) = pick(&q("7d", "", ""), today);
        assert_eq!((p.first.day(), p.last.day(), e), (24, 30, None));
        let (p, e) = pick(&q("vandaag", "", ""), today);
        assert_eq!((p.days(), e), (1, None));
        let (p, e) = pick(&q("aangepast", "2026-10-01", "2026-10-31"), today);
        assert_eq!((p.days(), p.key, e), (31, "aangepast", None));
        let (p, e) = pick(&q("aangepast", "2026-10-31", "2026-10-01"), today);
        assert_eq!(p.key, "30d");
        assert!(e.unwrap().contains("vóór"));
        let (_, e) = pick(&q("aangepast", "2024-01-01", "2026-10-01"), today);
        assert!(e.unwrap().contains("een jaar"));
        let (_, e) = pick(&q("aangepast", "gisteren", ""), today);
        assert!(e.is_some());
        let (p, _) = pick(&q("aangepast", "2026-11-20", "2027-01-01"), today);
        assert_eq!(p.last, today, "the future is cut off");
        // The same message in English.
        let (_, e) = super::pick(
            &q("aangepast", "2026-10-31", "2026-10-01"),
            today,
            Tr(Lang::En),
        );
        assert_eq!(e.as_deref(), Some("The end date is before the start date."));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            id: "x",
            caption: String::new(),
            head: vec!["Naam".into(), "Aantal".into()],
            rows: vec![
                TableRow {
                    cells: vec!["Bergen (NH), \"dorp\"".into(), "1.234".into()],
                    href: None,
                },
                TableRow {
                    cells: vec!["=HYPERLINK(\"x\")".into(), "-3".into()],
                    href: None,
                },
            ],
            csv: String::new(),
        };
        let out = csv(&t, false);
        assert_eq!(
            out,
            "Naam,Aantal\r\n\"Bergen (NH), \"\"dorp\"\"\",1.234\r\n\"'=HYPERLINK(\"\"x\"\")\",-3\r\n"
        );
    }
}
