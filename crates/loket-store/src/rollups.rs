//! Management-information rollups: per tenant, UTC hour, channel and topic, the counters and
//! duration histograms the dashboards need, kept up to date in the same transaction as the event
//! that changes them (intake, a reply, a resolution, a reopen), so a dashboard reads a few
//! thousand rows instead of scanning messages and conversations.
//!
//! # What is counted where
//! The tenant is the one on whose behalf the conversation is held: the conversation's tenant,
//! or, while a pool holds it, the tenant it came in for. Channel and topic are the
//! conversation's at the moment of the event ('' = no topic). The hour is the UTC hour of:
//! - `inbound`: the resident's message (its stored time);
//! - `new_conversations` and the sentiment counters: the start of the conversation;
//! - `outbound`: the agent's reply (not notes);
//! - `first_responses`, `first_response_hist` (clock seconds since the start) and
//!   `pool_handled` (the first response was sent while a pool held the conversation): the first
//!   reply;
//! - `resolutions`, `resolution_hist`: the first time the conversation became `opgelost` or
//!   `gesloten` (a later resolution after a reopen is not counted again);
//! - `reopens`: every move from `opgelost`/`gesloten` back to an active state, by a new message
//!   of the resident or by hand;
//! - `sla_first_due` / `sla_resolution_due` and their `_in_time`: the deadline (set when the
//!   conversation starts, so these rows can lie in the future), and whether it was met;
//!   `sla_first_met` / `sla_resolution_met`: the response or first resolution that met it
//!   ([`SlaCounts`] turns them into the service level of a period);
//! - `csat` (`csat_1` … `csat_5`): the creation of the answered survey, for the survey's own
//!   attribution, channel and topic.
//!
//! # Projections
//! Each day and month is also kept summed over all tenants (per channel and topic) and over all
//! channels and topics (per tenant): [`Table`], [`Projection`] (ADR 0008). The national view and
//! the benchmark read those; [`source`] picks the table for each piece of a read.
//!
//! [`Store::rollups_raw`] computes the same rows from the raw tables; the two agree as long as
//! no conversation changed tenant or topic after an event was counted (a transfer or a new
//! topic counts from then on; the raw scan re-attributes history to the current values).
//!
//! # Tiers
//! The same rows are kept at three grains ([`Tier`]): the UTC hour (`rollups`), the local
//! Europe/Amsterdam day (`rollups_daily`) and the local month (`rollups_monthly`), all changed
//! in the same transaction. Amsterdam offsets are whole hours, so each hour lies in exactly one
//! day and one month, and a coarser row is exactly the sum of its hours. A year of a large
//! municipality is ~260,000 hourly rows, ~78,000 daily and ~5,000 monthly ones.
//! [`Store::rollups`] reads daily rows for the whole days of a period and hourly rows only at
//! its edges; [`Store::rollups_totals`] also takes whole months as one row; the read plan is
//! [`plan`]. Each transaction applies its deltas once, table by table ([`Table::ALL`]) and in
//! key order within a table, so concurrent transactions take the row locks in the same order
//! (PostgreSQL cannot deadlock on them).

use crate::{BeginWrite, Result, Store, StoreError, placeholders, with_pool};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Europe::Amsterdam;
use loket_core::ConversationState;
use loket_core::metrics::Histogram;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One hour's milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// The start (Unix ms) of the UTC hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// The Amsterdam calendar date of the instant `ms`.
fn local_date(ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&Amsterdam)
        .date_naive()
}

/// Amsterdam midnight of `date` in Unix ms. Midnight always exists there (clocks change at
/// 02:00 and 03:00); the fallback is never taken.
fn midnight_ms(date: NaiveDate) -> i64 {
    Amsterdam
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map_or_else(
            || date.and_time(NaiveTime::MIN).and_utc().timestamp_millis(),
            |t| t.timestamp_millis(),
        )
}

/// The start (Unix ms) of the Amsterdam day holding `ms`.
pub fn day_of(ms: i64) -> i64 {
    midnight_ms(local_date(ms))
}

/// The start (Unix ms) of the Amsterdam month holding `ms`.
pub fn month_of(ms: i64) -> i64 {
    let d = local_date(ms);
    midnight_ms(d.with_day(1).unwrap_or(d))
}

/// A grain of the rollups; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// UTC hour (`rollups.hour_start`).
    Hour,
    /// Amsterdam day (`rollups_daily.day_start`).
    Day,
    /// Amsterdam month (`rollups_monthly.month_start`).
    Month,
}

impl Tier {
    /// Finest first: the order in which deltas are applied.
    pub const ALL: [Tier; 3] = [Tier::Hour, Tier::Day, Tier::Month];

    pub fn table(self) -> &'static str {
        match self {
            Tier::Hour => "rollups",
            Tier::Day => "rollups_daily",
            Tier::Month => "rollups_monthly",
        }
    }

    /// The key column holding the start of the hour, day or month.
    pub fn column(self) -> &'static str {
        match self {
            Tier::Hour => "hour_start",
            Tier::Day => "day_start",
            Tier::Month => "month_start",
        }
    }

    /// The start of the hour, day or month holding `ms`.
    pub fn start_of(self, ms: i64) -> i64 {
        match self {
            Tier::Hour => hour_of(ms),
            Tier::Day => day_of(ms),
            Tier::Month => month_of(ms),
        }
    }

    /// The start after the one at `start`.
    pub fn next(self, start: i64) -> i64 {
        let d = local_date(start);
        match self {
            Tier::Hour => start + HOUR_MS,
            Tier::Day => midnight_ms(d.succ_opt().unwrap_or(d)),
            Tier::Month => midnight_ms(
                d.checked_add_months(chrono::Months::new(1))
                    .unwrap_or(d)
                    .with_day(1)
                    .unwrap_or(d),
            ),
        }
    }

    /// The first start at or after `ms`.
    pub fn ceil(self, ms: i64) -> i64 {
        let s = self.start_of(ms);
        if s == ms { s } else { self.next(s) }
    }

    fn finer(self) -> Option<Tier> {
        match self {
            Tier::Hour => None,
            Tier::Day => Some(Tier::Hour),
            Tier::Month => Some(Tier::Day),
        }
    }
}

/// Which key columns a rollup table keeps (ADR 0008). The projections are sums of the full
/// rows, kept in the same transaction, so the national view and the figures per municipality
/// read a few thousand rows for a year instead of millions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Projection {
    /// Tenant, channel and topic: what every other table is summed from.
    Full,
    /// Every tenant summed per channel and topic (`tenant_code` '').
    National,
    /// Every channel and topic summed per tenant (`channel` and `topic` '').
    PerTenant,
}

/// One rollup table: a grain and what it keeps of the key. Only the full rows have an hourly
/// grain; the projections are daily and monthly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Table {
    pub tier: Tier,
    pub projection: Projection,
}

impl Table {
    /// Every table, in the order deltas are applied (the lock order of a transaction).
    pub const ALL: [Table; 7] = [
        Table::full(Tier::Hour),
        Table::full(Tier::Day),
        Table::full(Tier::Month),
        Table::national(Tier::Day),
        Table::national(Tier::Month),
        Table::per_tenant(Tier::Day),
        Table::per_tenant(Tier::Month),
    ];

    /// The projections, rebuilt from the full daily rows by `rebuild_projections!`.
    pub const PROJECTIONS: [Table; 4] = [
        Table::national(Tier::Day),
        Table::national(Tier::Month),
        Table::per_tenant(Tier::Day),
        Table::per_tenant(Tier::Month),
    ];

    pub const fn full(tier: Tier) -> Self {
        Table {
            tier,
            projection: Projection::Full,
        }
    }

    pub const fn national(tier: Tier) -> Self {
        Table {
            tier,
            projection: Projection::National,
        }
    }

    pub const fn per_tenant(tier: Tier) -> Self {
        Table {
            tier,
            projection: Projection::PerTenant,
        }
    }

    pub fn name(self) -> &'static str {
        match (self.projection, self.tier) {
            (Projection::Full, t) => t.table(),
            (Projection::National, Tier::Month) => "rollups_national_monthly",
            (Projection::National, _) => "rollups_national_daily",
            (Projection::PerTenant, Tier::Month) => "rollups_tenant_monthly",
            (Projection::PerTenant, _) => "rollups_tenant_daily",
        }
    }

    /// `key` as this table keeps it: the start of its unit, the dropped columns ''.
    pub fn project(self, key: &RollupKey) -> RollupKey {
        let blank = |keep: bool, v: &str| if keep { v.to_string() } else { String::new() };
        RollupKey {
            tenant_code: blank(self.projection != Projection::National, &key.tenant_code),
            hour_start: self.tier.start_of(key.hour_start),
            channel: blank(self.projection != Projection::PerTenant, &key.channel),
            topic: blank(self.projection != Projection::PerTenant, &key.topic),
        }
    }

    fn index(self) -> usize {
        Table::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub(crate) fn sql(self) -> &'static TierSql {
        &TABLE_SQL[self.index()]
    }
}

/// The statements of one table, built once.
pub(crate) struct TierSql {
    pub upsert: String,
    pub get_hist: String,
    pub set_hist: String,
    pub insert: String,
    pub select: String,
}

static TABLE_SQL: LazyLock<[TierSql; 7]> = LazyLock::new(|| Table::ALL.map(TierSql::new));

impl TierSql {
    fn new(t: Table) -> Self {
        let (table, col) = (t.name(), t.tier.column());
        let key_where = format!("tenant_code = $1 AND {col} = $2 AND channel = $3 AND topic = $4");
        TierSql {
            upsert: format!(
                "INSERT INTO {table} (tenant_code, {col}, channel, topic, {names})
                 VALUES ($1, $2, $3, $4, {values})
                 ON CONFLICT (tenant_code, {col}, channel, topic) DO UPDATE SET {sets}",
                names = COUNTERS.join(", "),
                values = placeholders(5, COUNTERS.len()),
                sets = COUNTERS
                    .iter()
                    .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            get_hist: format!(
                "SELECT first_response_hist, resolution_hist FROM {table} WHERE {key_where}"
            ),
            set_hist: format!(
                "UPDATE {table} SET first_response_hist = $5, resolution_hist = $6 WHERE {key_where}"
            ),
            insert: format!(
                "INSERT INTO {table} (tenant_code, {col}, channel, topic, first_response_hist, resolution_hist, {}) ",
                COUNTERS.join(", ")
            ),
            select: format!(
                "SELECT tenant_code, {col} AS hour_start, channel, topic, first_response_hist, resolution_hist, {}
                 FROM {table}",
                COUNTERS.join(", ")
            ),
        }
    }
}

/// `rows` summed per key of `table` ([`Table::project`]).
pub fn project<'a>(
    rows: impl IntoIterator<Item = &'a RollupRow>,
    table: Table,
) -> BTreeMap<RollupKey, RollupRow> {
    let mut out: BTreeMap<RollupKey, RollupRow> = BTreeMap::new();
    for r in rows {
        out.entry(table.project(&r.key()))
            .or_insert_with_key(RollupRow::at)
            .add(r);
    }
    out
}

/// `rows` summed per key of `tier` (their `hour_start` mapped to the tier's start).
pub fn coarsen<'a>(
    rows: impl IntoIterator<Item = &'a RollupRow>,
    tier: Tier,
) -> BTreeMap<RollupKey, RollupRow> {
    project(rows, Table::full(tier))
}

/// The pieces `[from, to)` (whole hours) is read from: the coarsest tier up to `coarsest`
/// whose whole units fit, finer ones at the edges. In time order.
pub fn plan(from: i64, to: i64, coarsest: Tier) -> Vec<(Tier, i64, i64)> {
    let mut out = vec![];
    plan_into(&mut out, from, to, coarsest);
    out
}

fn plan_into(out: &mut Vec<(Tier, i64, i64)>, from: i64, to: i64, tier: Tier) {
    if from >= to {
        return;
    }
    let Some(finer) = tier.finer() else {
        out.push((Tier::Hour, from, to));
        return;
    };
    let (a, b) = (tier.ceil(from), tier.start_of(to));
    if a < b {
        plan_into(out, from, a, finer);
        out.push((tier, a, b));
        plan_into(out, b, to, finer);
    } else {
        plan_into(out, from, to, finer);
    }
}

/// Whole seconds from `from` to `to` (ms), negative spans counting 0.
pub fn seconds_between(from: i64, to: i64) -> u64 {
    u64::try_from((to - from).max(0) / 1000).unwrap_or(0)
}

/// Which key columns [`Store::rollups_grouped`] keeps (the others are summed over), and which
/// histograms it merges.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupBy {
    pub tenant: bool,
    /// The tier's own start (hour, day or month), as `hour_start`.
    pub time: bool,
    pub channel: bool,
    pub topic: bool,
    pub first_response_hist: bool,
    pub resolution_hist: bool,
    /// Only the volume counters (inbound, outbound, new conversations); the others read 0.
    /// Hour-level reads (staffing, hour of the week) skip summing the rest.
    pub volume_only: bool,
}

/// The counters a [`GroupBy::volume_only`] read sums.
const VOLUME: [&str; 3] = ["inbound", "outbound", "new_conversations"];

/// The rollup key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub tenant_code: String,
    pub hour_start: i64,
    pub channel: String,
    pub topic: String,
}

/// Arrivals of one tenant in one hour, for staffing advice ([`Store::arrivals_hourly`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct HourlyArrivals {
    pub tenant_code: String,
    pub hour_start: i64,
    /// New conversations on the real-time channels.
    pub realtime: i64,
    /// Inbound messages on the other channels.
    pub other: i64,
}

/// One rollup row, or a change to one (the same shape: counters add, histograms merge).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupRow {
    pub tenant_code: String,
    pub hour_start: i64,
    pub channel: String,
    pub topic: String,
    pub inbound: i64,
    pub outbound: i64,
    pub new_conversations: i64,
    pub first_responses: i64,
    pub first_response_hist: Histogram,
    pub resolutions: i64,
    pub resolution_hist: Histogram,
    pub reopens: i64,
    pub pool_handled: i64,
    pub sentiment_positive: i64,
    pub sentiment_neutral: i64,
    pub sentiment_negative: i64,
    /// First-response deadlines falling in this hour, and of those the ones answered no later
    /// than the deadline (see [`SlaCounts`]).
    pub sla_first_due: i64,
    pub sla_first_in_time: i64,
    /// First responses in this hour no later than their deadline.
    pub sla_first_met: i64,
    /// The same for the first resolution and the deadline set at the start.
    pub sla_resolution_due: i64,
    pub sla_resolution_in_time: i64,
    pub sla_resolution_met: i64,
    /// Satisfaction answers per score 1–5 (at the survey's creation).
    pub csat: [i64; 5],
}

/// The counter columns of every rollup table, in the order of [`RollupRow::counters`].
pub const COUNTERS: [&str; 21] = [
    "inbound",
    "outbound",
    "new_conversations",
    "first_responses",
    "resolutions",
    "reopens",
    "pool_handled",
    "sentiment_positive",
    "sentiment_neutral",
    "sentiment_negative",
    "sla_first_due",
    "sla_first_in_time",
    "sla_first_met",
    "sla_resolution_due",
    "sla_resolution_in_time",
    "sla_resolution_met",
    "csat_1",
    "csat_2",
    "csat_3",
    "csat_4",
    "csat_5",
];

impl RollupRow {
    /// The counters in the order of [`COUNTERS`].
    pub fn counters(&self) -> [i64; 21] {
        let c = &self.csat;
        [
            self.inbound,
            self.outbound,
            self.new_conversations,
            self.first_responses,
            self.resolutions,
            self.reopens,
            self.pool_handled,
            self.sentiment_positive,
            self.sentiment_neutral,
            self.sentiment_negative,
            self.sla_first_due,
            self.sla_first_in_time,
            self.sla_first_met,
            self.sla_resolution_due,
            self.sla_resolution_in_time,
            self.sla_resolution_met,
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
        ]
    }

    fn counters_mut(&mut self) -> [&mut i64; 21] {
        let [c1, c2, c3, c4, c5] = &mut self.csat;
        [
            &mut self.inbound,
            &mut self.outbound,
            &mut self.new_conversations,
            &mut self.first_responses,
            &mut self.resolutions,
            &mut self.reopens,
            &mut self.pool_handled,
            &mut self.sentiment_positive,
            &mut self.sentiment_neutral,
            &mut self.sentiment_negative,
            &mut self.sla_first_due,
            &mut self.sla_first_in_time,
            &mut self.sla_first_met,
            &mut self.sla_resolution_due,
            &mut self.sla_resolution_in_time,
            &mut self.sla_resolution_met,
            c1,
            c2,
            c3,
            c4,
            c5,
        ]
    }

    /// Satisfaction answers: count, sum of the scores, and scores of 4 or 5.
    pub fn csat_counts(&self) -> (i64, i64, i64) {
        let c = &self.csat;
        (
            c.iter().sum(),
            c.iter().zip(1..).map(|(n, k)| n * k).sum(),
            c[3] + c[4],
        )
    }

    /// An empty change for `key`.
    pub fn at(key: &RollupKey) -> Self {
        Self {
            tenant_code: key.tenant_code.clone(),
            hour_start: key.hour_start,
            channel: key.channel.clone(),
            topic: key.topic.clone(),
            ..Self::default()
        }
    }

    pub fn key(&self) -> RollupKey {
        RollupKey {
            tenant_code: self.tenant_code.clone(),
            hour_start: self.hour_start,
            channel: self.channel.clone(),
            topic: self.topic.clone(),
        }
    }

    /// Adds the counters and histograms of `o` (its key is ignored).
    pub fn add(&mut self, o: &RollupRow) {
        for (a, b) in self.counters_mut().into_iter().zip(o.counters()) {
            *a += b;
        }
        self.first_response_hist.merge(&o.first_response_hist);
        self.resolution_hist.merge(&o.resolution_hist);
    }

    /// Counts a new conversation with the sentiment of its first message.
    pub fn count_sentiment(&mut self, sentiment: Option<&str>) {
        match sentiment {
            Some("positief") => self.sentiment_positive += 1,
            Some("neutraal") => self.sentiment_neutral += 1,
            Some("negatief") => self.sentiment_negative += 1,
            _ => {}
        }
    }

    /// Counts one satisfaction answer (scores outside 1–5 are never stored).
    pub fn count_csat(&mut self, score: i64) {
        if let Some(k) = usize::try_from(score - 1).ok().filter(|k| *k < 5) {
            self.csat[k] += 1;
        }
    }

    /// The sum of `rows` (key of the result left empty).
    pub fn total<'a>(rows: impl IntoIterator<Item = &'a RollupRow>) -> RollupRow {
        let mut t = RollupRow::default();
        for r in rows {
            t.add(r);
        }
        t
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.counters().iter().all(|c| *c == 0)
    }
}

/// Service-level attainment of a period from the rollups' counters, by the definition of
/// `loket_core::metrics::figures::sla_attainment`: each conversation with a deadline counts
/// once, in the period its outcome was decided. Met counts at the response (or first
/// resolution); breached at the deadline, which is every deadline of the period less those
/// done in time and those still running (not done, not passed: [`Store::deadlines_running`]
/// reads them). Deadlines after now that were done in time count in both and cancel.
///
/// [`Store::deadlines_running`]: crate::Store::deadlines_running
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaCounts {
    pub first_met: i64,
    pub first_breached: i64,
    pub resolution_met: i64,
    pub resolution_breached: i64,
}

impl SlaCounts {
    /// From the summed rows of a period and the deadlines in it still running.
    pub fn of(total: &RollupRow, running: &crate::dashboard::RunningDeadlines) -> Self {
        SlaCounts {
            first_met: total.sla_first_met,
            first_breached: total.sla_first_due - total.sla_first_in_time - running.first,
            resolution_met: total.sla_resolution_met,
            resolution_breached: total.sla_resolution_due
                - total.sla_resolution_in_time
                - running.resolution,
        }
    }
}

/// Whether `done_at` is no later than `due` (the service level is met).
pub fn in_time(due: Option<i64>, done_at: i64) -> Option<i64> {
    due.filter(|d| done_at <= *d)
}

/// Changes to apply in one transaction, merged per key.
#[derive(Debug, Default)]
pub struct RollupDeltas(pub BTreeMap<RollupKey, RollupRow>);

impl RollupDeltas {
    /// The change for `key`, created empty on first use.
    pub fn at(&mut self, key: RollupKey) -> &mut RollupRow {
        self.0.entry(key).or_insert_with_key(RollupRow::at)
    }
}

/// The sentiment label of a stored text analysis (`{"sentiment": "negatief", …}`).
pub fn sentiment_of_analysis(analysis: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(analysis?).ok()?;
    let s = v.get("sentiment")?.as_str()?;
    loket_core::metrics::Sentiment::parse(s).map(|s| s.as_str().to_string())
}

/// A stored histogram, compact or the old JSON form.
pub(crate) fn parse_hist(s: Option<String>) -> Result<Histogram> {
    match s.as_deref() {
        None | Some("") => Ok(Histogram::new()),
        Some(s) => {
            Histogram::decode(s).map_err(|e| StoreError::Invalid(format!("rollup-histogram: {e}")))
        }
    }
}

/// A concatenation of stored histograms (`|` between them, as `rollups_grouped` reads them),
/// merged into one.
fn parse_hists(s: Option<&str>) -> Result<Histogram> {
    let s = s.unwrap_or("");
    if !s.contains('|') {
        return parse_hist(Some(s.to_string()));
    }
    let mut h = loket_core::metrics::HistogramSum::default();
    for piece in s.split('|').filter(|p| !p.is_empty()) {
        h.add_encoded(piece)
            .map_err(|e| StoreError::Invalid(format!("rollup-histogram: {e}")))?;
    }
    Ok(h.finish())
}

pub(crate) fn hist_text(h: &Histogram) -> Option<String> {
    (h.count() > 0).then(|| h.encode())
}

/// Where a conversation's events count, read inside the event's transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ConvKey {
    pub tenant: String,
    pub channel: String,
    pub topic: String,
    pub created_at: i64,
    pub by_pool: bool,
}

impl ConvKey {
    pub fn key(&self, at_ms: i64) -> RollupKey {
        RollupKey {
            tenant_code: self.tenant.clone(),
            hour_start: hour_of(at_ms),
            channel: self.channel.clone(),
            topic: self.topic.clone(),
        }
    }
}

/// The tenant on whose behalf a conversation counts (`c` joined with its tenant `t`).
pub(crate) const BEHALF: &str = "CASE WHEN t.kind = 'regio' AND c.origin_tenant_code LIKE 'GM%' THEN c.origin_tenant_code ELSE c.tenant_code END";

pub(crate) fn conv_key_sql() -> String {
    format!(
        "SELECT {BEHALF} AS tenant, c.channel, COALESCE(c.topic, '') AS topic, c.created_at,
                COALESCE(t.kind = 'regio', FALSE) AS by_pool
         FROM conversations c JOIN tenants t ON t.code = c.tenant_code WHERE c.id = $1"
    )
}

/// Reads the rollup key facts of conversation `$id` inside transaction `$tx`.
macro_rules! conv_key {
    ($tx:expr, $id:expr) => {
        sqlx::query_as::<_, $crate::rollups::ConvKey>(&$crate::rollups::conv_key_sql())
            .bind($id)
            .fetch_one(&mut *$tx)
            .await?
    };
}
pub(crate) use conv_key;

/// Applies `$deltas` ([`RollupDeltas`]) inside transaction `$tx` to every table
/// ([`Table::ALL`]: the full hours, days and months, then the projections), each in key order.
macro_rules! apply_rollups {
    ($tx:expr, $deltas:expr) => {
        for table in $crate::rollups::Table::ALL {
            let rows = $crate::rollups::project($deltas.0.values().filter(|d| !d.is_zero()), table);
            for d in rows.values() {
                $crate::rollups::apply_at!($tx, table, d);
            }
        }
    };
}
pub(crate) use apply_rollups;

/// Adds one row `$d` (its key already projected for `$table`) to `$table`.
/// Counters are added by an upsert, which also locks the row (PostgreSQL) or runs under the
/// write lock (SQLite), so the read-merge-write of the histograms that follows cannot lose a
/// concurrent update.
macro_rules! apply_at {
    ($tx:expr, $table:expr, $d:expr) => {{
        let d: &$crate::rollups::RollupRow = $d;
        let sql = $crate::rollups::Table::sql($table);
        let mut q = sqlx::query(&sql.upsert)
            .bind(&d.tenant_code)
            .bind(d.hour_start)
            .bind(&d.channel)
            .bind(&d.topic);
        for c in d.counters() {
            q = q.bind(c);
        }
        q.execute(&mut *$tx).await?;
        if d.first_response_hist.count() > 0 || d.resolution_hist.count() > 0 {
            let (f, r): (Option<String>, Option<String>) = sqlx::query_as(&sql.get_hist)
                .bind(&d.tenant_code)
                .bind(d.hour_start)
                .bind(&d.channel)
                .bind(&d.topic)
                .fetch_one(&mut *$tx)
                .await?;
            let mut f = $crate::rollups::parse_hist(f)?;
            let mut r = $crate::rollups::parse_hist(r)?;
            f.merge(&d.first_response_hist);
            r.merge(&d.resolution_hist);
            sqlx::query(&sql.set_hist)
                .bind(&d.tenant_code)
                .bind(d.hour_start)
                .bind(&d.channel)
                .bind(&d.topic)
                .bind($crate::rollups::hist_text(&f))
                .bind($crate::rollups::hist_text(&r))
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use apply_at;

/// Writes `$rows` (`&[&RollupRow]`, keys projected for `$table`) into `$table` inside `$tx`
/// with multi-row inserts; rows whose key already exists (live traffic, an earlier load) are
/// merged one by one.
macro_rules! insert_tier {
    ($tx:expr, $table:expr, $rows:expr) => {{
        let tier: $crate::rollups::Table = $table;
        let rows: &[&$crate::rollups::RollupRow] = $rows;
        let mut inserted = std::collections::BTreeSet::new();
        for chunk in rows.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(&tier.sql().insert);
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(&d.tenant_code).push_bind(d.hour_start).push_bind(&d.channel).push_bind(&d.topic)
                    .push_bind($crate::rollups::hist_text(&d.first_response_hist))
                    .push_bind($crate::rollups::hist_text(&d.resolution_hist));
                for c in d.counters() {
                    b.push_bind(c);
                }
            });
            qb.push(format!(
                " ON CONFLICT (tenant_code, {c}, channel, topic) DO NOTHING RETURNING tenant_code, {c}, channel, topic",
                c = tier.tier.column()
            ));
            let keys: Vec<(String, i64, String, String)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            inserted.extend(keys.into_iter().map(|(tenant_code, hour_start, channel, topic)| {
                $crate::rollups::RollupKey { tenant_code, hour_start, channel, topic }
            }));
        }
        for d in rows.iter().filter(|d| !inserted.contains(&d.key())) {
            $crate::rollups::apply_at!($tx, tier, *d);
        }
    }};
}
pub(crate) use insert_tier;

#[derive(sqlx::FromRow)]
struct StoredRollup {
    tenant_code: String,
    hour_start: i64,
    channel: String,
    topic: String,
    inbound: i64,
    outbound: i64,
    new_conversations: i64,
    first_responses: i64,
    first_response_hist: Option<String>,
    resolutions: i64,
    resolution_hist: Option<String>,
    reopens: i64,
    pool_handled: i64,
    sentiment_positive: i64,
    sentiment_neutral: i64,
    sentiment_negative: i64,
    sla_first_due: i64,
    sla_first_in_time: i64,
    sla_first_met: i64,
    sla_resolution_due: i64,
    sla_resolution_in_time: i64,
    sla_resolution_met: i64,
    csat_1: i64,
    csat_2: i64,
    csat_3: i64,
    csat_4: i64,
    csat_5: i64,
}

impl TryFrom<StoredRollup> for RollupRow {
    type Error = StoreError;
    fn try_from(s: StoredRollup) -> Result<Self> {
        Ok(RollupRow {
            tenant_code: s.tenant_code,
            hour_start: s.hour_start,
            channel: s.channel,
            topic: s.topic,
            inbound: s.inbound,
            outbound: s.outbound,
            new_conversations: s.new_conversations,
            first_responses: s.first_responses,
            first_response_hist: parse_hist(s.first_response_hist)?,
            resolutions: s.resolutions,
            resolution_hist: parse_hist(s.resolution_hist)?,
            reopens: s.reopens,
            pool_handled: s.pool_handled,
            sentiment_positive: s.sentiment_positive,
            sentiment_neutral: s.sentiment_neutral,
            sentiment_negative: s.sentiment_negative,
            sla_first_due: s.sla_first_due,
            sla_first_in_time: s.sla_first_in_time,
            sla_first_met: s.sla_first_met,
            sla_resolution_due: s.sla_resolution_due,
            sla_resolution_in_time: s.sla_resolution_in_time,
            sla_resolution_met: s.sla_resolution_met,
            csat: [s.csat_1, s.csat_2, s.csat_3, s.csat_4, s.csat_5],
        })
    }
}

/// The event details `change` writes when an agent reopens a conversation by hand.
fn reopen_details() -> Vec<String> {
    use ConversationState::*;
    let mut v = vec![];
    for from in [Opgelost, Gesloten] {
        for to in [Nieuw, Open, Wachtend] {
            v.push(format!("Status: {} → {}", from.label_nl(), to.label_nl()));
        }
    }
    v
}

#[derive(sqlx::FromRow)]
struct RawCount {
    tenant: String,
    hour: i64,
    channel: String,
    topic: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct RawDuration {
    tenant: String,
    channel: String,
    topic: String,
    created_at: i64,
    at: i64,
    by_pool: bool,
}

#[derive(sqlx::FromRow)]
struct RawContacts {
    tenant: String,
    hour: i64,
    channel: String,
    topic: String,
    n: i64,
    pos: i64,
    neu: i64,
    neg: i64,
}

/// Deadlines per hour of the deadline, and how many of them were done in time.
#[derive(sqlx::FromRow)]
struct RawDue {
    tenant: String,
    hour: i64,
    channel: String,
    topic: String,
    n: i64,
    in_time: i64,
}

#[derive(sqlx::FromRow)]
struct RawCsat {
    tenant: String,
    hour: i64,
    channel: String,
    topic: String,
    score: i64,
    n: i64,
}

/// The eleven grouped scans behind [`Store::rollups_raw`] and [`Store::rebuild_rollups`].
struct RawScan {
    tenants: Vec<String>,
    from: i64,
    to: i64,
    details: Vec<String>,
    in_sql: String,
    out_sql: String,
    contacts_sql: String,
    fr_sql: String,
    res_sql: String,
    reopen_sql: String,
    csat_sql: String,
    /// Deadlines and met, first response then resolution.
    due_sql: [String; 2],
    met_sql: [String; 2],
}

type RawParts = (
    Vec<RawCount>,
    Vec<RawCount>,
    Vec<RawContacts>,
    Vec<RawDuration>,
    Vec<RawDuration>,
    Vec<RawCount>,
    Vec<RawCsat>,
    [Vec<RawDue>; 2],
    [Vec<RawCount>; 2],
);

/// Binds the tenant lists and the period of `$scan` to query `$q`.
macro_rules! bind_scope {
    ($scan:expr, $q:expr) => {{
        let mut q = $q;
        for _ in 0..3 {
            for t in &$scan.tenants {
                q = q.bind(t);
            }
        }
        q.bind($scan.from).bind($scan.to)
    }};
}

/// Runs the scans of `$scan` ([`RawScan`]) on `$e` (a pool or `&mut *tx`).
macro_rules! raw_fetch {
    ($scan:expr, $e:expr) => {{
        let scan: &RawScan = $scan;
        let inb: Vec<RawCount> = bind_scope!(scan, sqlx::query_as(&scan.in_sql))
            .fetch_all($e)
            .await?;
        let outb: Vec<RawCount> = bind_scope!(scan, sqlx::query_as(&scan.out_sql))
            .fetch_all($e)
            .await?;
        let contacts: Vec<RawContacts> = bind_scope!(scan, sqlx::query_as(&scan.contacts_sql))
            .fetch_all($e)
            .await?;
        let frs: Vec<RawDuration> = bind_scope!(scan, sqlx::query_as(&scan.fr_sql))
            .fetch_all($e)
            .await?;
        let res: Vec<RawDuration> = bind_scope!(scan, sqlx::query_as(&scan.res_sql))
            .fetch_all($e)
            .await?;
        let mut q = bind_scope!(scan, sqlx::query_as::<_, RawCount>(&scan.reopen_sql));
        for d in &scan.details {
            q = q.bind(d);
        }
        let reopens: Vec<RawCount> = q.fetch_all($e).await?;
        let csat: Vec<RawCsat> = bind_scope!(scan, sqlx::query_as(&scan.csat_sql))
            .fetch_all($e)
            .await?;
        let mut due: [Vec<RawDue>; 2] = Default::default();
        let mut met: [Vec<RawCount>; 2] = Default::default();
        for k in 0..2 {
            due[k] = bind_scope!(scan, sqlx::query_as(&scan.due_sql[k]))
                .fetch_all($e)
                .await?;
            met[k] = bind_scope!(scan, sqlx::query_as(&scan.met_sql[k]))
                .fetch_all($e)
                .await?;
        }
        (inb, outb, contacts, frs, res, reopens, csat, due, met)
    }};
}

impl RawScan {
    /// The scans of `tenants` over `[from, to)`, only conversations of team `team` when given.
    fn new(tenants: &[String], team: Option<i64>, from: i64, to: i64) -> Self {
        let (from, to) = (hour_of(from), hour_of(to));
        let n = tenants.len();
        let tl = placeholders(1, n);
        let tl2 = placeholders(n + 1, n);
        let tl3 = placeholders(2 * n + 1, n);
        let (a, b) = (3 * n + 1, 3 * n + 2);
        // Candidate conversations by either tenant column (indexed), then the behalf tenant.
        // The team id is a number, written into the SQL as one.
        let team = team
            .map(|t| format!(" AND c.team_id = {t}"))
            .unwrap_or_default();
        let scope = format!(
            "(c.tenant_code IN ({tl}) OR c.origin_tenant_code IN ({tl2})) AND {BEHALF} IN ({tl3}){team}"
        );
        let key =
            format!("{BEHALF} AS tenant, c.channel AS channel, COALESCE(c.topic, '') AS topic");
        let group = format!("GROUP BY {BEHALF}, c.channel, COALESCE(c.topic, '')");
        let hour = |col: &str| format!("({col} / {HOUR_MS}) * {HOUR_MS}");
        let msg_sql = |dir: &str| {
            format!(
                "SELECT {key}, {h} AS hour, COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 JOIN tenants t ON t.code = c.tenant_code
                 WHERE {scope} AND m.direction = '{dir}' AND m.created_at >= ${a} AND m.created_at < ${b} {group}, {h}",
                h = hour("m.created_at")
            )
        };
        let contacts_sql = format!(
            "SELECT {key}, {h} AS hour, COUNT(*) AS n,
               COALESCE(SUM(CASE WHEN c.sentiment = 'positief' THEN 1 ELSE 0 END), 0) AS pos,
               COALESCE(SUM(CASE WHEN c.sentiment = 'neutraal' THEN 1 ELSE 0 END), 0) AS neu,
               COALESCE(SUM(CASE WHEN c.sentiment = 'negatief' THEN 1 ELSE 0 END), 0) AS neg
             FROM conversations c JOIN tenants t ON t.code = c.tenant_code
             WHERE {scope} AND c.created_at >= ${a} AND c.created_at < ${b} {group}, {h}",
            h = hour("c.created_at")
        );
        let dur_sql = |col: &str| {
            format!(
                "SELECT {key}, c.created_at, c.{col} AS at, c.handled_by_pool AS by_pool
                 FROM conversations c JOIN tenants t ON t.code = c.tenant_code
                 WHERE {scope} AND c.{col} >= ${a} AND c.{col} < ${b}"
            )
        };
        let details = reopen_details();
        let reopen_sql = format!(
            "SELECT {key}, {h} AS hour, COUNT(*) AS n FROM events e JOIN conversations c ON c.id = e.conversation_id
             JOIN tenants t ON t.code = c.tenant_code
             WHERE {scope} AND e.created_at >= ${a} AND e.created_at < ${b}
               AND (e.kind = 'heropend' OR (e.kind = 'status' AND e.detail IN ({}))) {group}, {h}",
            placeholders(b + 1, details.len()),
            h = hour("e.created_at")
        );
        // Surveys count for their own attribution, channel and topic (copied from the
        // conversation when created); the first two lists only keep the binds the same.
        let team_s = team.replace("c.team_id", "s.team_id");
        let csat_sql = format!(
            "SELECT s.behalf_code AS tenant, {h} AS hour, s.channel AS channel, COALESCE(s.topic, '') AS topic, s.score AS score, COUNT(*) AS n
             FROM csat_surveys s
             WHERE (s.tenant_code IN ({tl}) OR s.behalf_code IN ({tl2})) AND s.behalf_code IN ({tl3}){team_s}
               AND s.score IS NOT NULL AND s.created_at >= ${a} AND s.created_at < ${b}
             GROUP BY s.behalf_code, s.channel, COALESCE(s.topic, ''), s.score, {h}",
            h = hour("s.created_at")
        );
        // Service level: deadlines per hour of the deadline (and done in time), met per hour
        // of the response or first resolution.
        let sla = |done: &str, due: &str| {
            let (h_due, h_done) = (hour(&format!("c.{due}")), hour(&format!("c.{done}")));
            (
                format!(
                    "SELECT {key}, {h_due} AS hour, COUNT(*) AS n,
                       COALESCE(SUM(CASE WHEN c.{done} IS NOT NULL AND c.{done} <= c.{due} THEN 1 ELSE 0 END), 0) AS in_time
                     FROM conversations c JOIN tenants t ON t.code = c.tenant_code
                     WHERE {scope} AND c.{due} >= ${a} AND c.{due} < ${b} {group}, {h_due}"
                ),
                format!(
                    "SELECT {key}, {h_done} AS hour, COUNT(*) AS n
                     FROM conversations c JOIN tenants t ON t.code = c.tenant_code
                     WHERE {scope} AND c.{done} >= ${a} AND c.{done} < ${b} AND c.{done} <= c.{due} {group}, {h_done}"
                ),
            )
        };
        let (first_due, first_met) = sla("first_response_at", "first_response_due");
        let (res_due, res_met) = sla("first_resolved_at", "initial_resolution_due");
        RawScan {
            tenants: tenants.to_vec(),
            csat_sql,
            due_sql: [first_due, res_due],
            met_sql: [first_met, res_met],
            from,
            to,
            in_sql: msg_sql("in"),
            out_sql: msg_sql("out"),
            contacts_sql,
            fr_sql: dur_sql("first_response_at"),
            res_sql: dur_sql("first_resolved_at"),
            reopen_sql,
            details,
        }
    }

    /// The hourly rows from the scans' results, ordered by key.
    fn assemble(parts: RawParts) -> Vec<RollupRow> {
        let (inb, outb, contacts, frs, res, reopens, csat, due, met) = parts;
        let mut out: BTreeMap<RollupKey, RollupRow> = BTreeMap::new();
        fn at(
            out: &mut BTreeMap<RollupKey, RollupRow>,
            tenant: String,
            hour: i64,
            channel: String,
            topic: String,
        ) -> &mut RollupRow {
            let k = RollupKey {
                tenant_code: tenant,
                hour_start: hour,
                channel,
                topic,
            };
            out.entry(k).or_insert_with_key(RollupRow::at)
        }
        for r in inb {
            at(&mut out, r.tenant, r.hour, r.channel, r.topic).inbound += r.n;
        }
        for r in outb {
            at(&mut out, r.tenant, r.hour, r.channel, r.topic).outbound += r.n;
        }
        for r in reopens {
            at(&mut out, r.tenant, r.hour, r.channel, r.topic).reopens += r.n;
        }
        for r in contacts {
            let row = at(&mut out, r.tenant, r.hour, r.channel, r.topic);
            row.new_conversations += r.n;
            row.sentiment_positive += r.pos;
            row.sentiment_neutral += r.neu;
            row.sentiment_negative += r.neg;
        }
        let [first_due, res_due] = due;
        let [first_met, res_met] = met;
        for r in first_due {
            let row = at(&mut out, r.tenant, r.hour, r.channel, r.topic);
            row.sla_first_due += r.n;
            row.sla_first_in_time += r.in_time;
        }
        for r in res_due {
            let row = at(&mut out, r.tenant, r.hour, r.channel, r.topic);
            row.sla_resolution_due += r.n;
            row.sla_resolution_in_time += r.in_time;
        }
        for r in first_met {
            at(&mut out, r.tenant, r.hour, r.channel, r.topic).sla_first_met += r.n;
        }
        for r in res_met {
            at(&mut out, r.tenant, r.hour, r.channel, r.topic).sla_resolution_met += r.n;
        }
        for r in csat {
            if let Some(k) = usize::try_from(r.score - 1).ok().filter(|k| *k < 5) {
                at(&mut out, r.tenant, r.hour, r.channel, r.topic).csat[k] += r.n;
            }
        }
        for r in frs {
            let row = at(&mut out, r.tenant, hour_of(r.at), r.channel, r.topic);
            row.first_responses += 1;
            row.pool_handled += i64::from(r.by_pool);
            row.first_response_hist
                .record(seconds_between(r.created_at, r.at));
        }
        for r in res {
            let row = at(&mut out, r.tenant, hour_of(r.at), r.channel, r.topic);
            row.resolutions += 1;
            row.resolution_hist
                .record(seconds_between(r.created_at, r.at));
        }
        out.into_values().filter(|r| !r.is_zero()).collect()
    }
}

/// Whose rollups a grouped read sums.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Tenants(&'a [String]),
    /// Every tenant (the national view): no list to bind, and the national projection answers
    /// whenever the tenant is not a key column.
    All,
}

/// The table a piece of tier `tier` is read from: hours only exist in full; otherwise the
/// national projection when every tenant is summed, the per-tenant one when channel and topic
/// are neither kept nor filtered on, else the full rows.
pub fn source(tier: Tier, scope: Scope<'_>, by: GroupBy, filtered: bool) -> Table {
    if tier == Tier::Hour {
        Table::full(tier)
    } else if matches!(scope, Scope::All) && !by.tenant {
        Table::national(tier)
    } else if !by.channel && !by.topic && !filtered {
        Table::per_tenant(tier)
    } else {
        Table::full(tier)
    }
}

/// The grouped read of one table over `[$a, $b)`: tenants (for [`Scope::Tenants`]) from `$1`,
/// then the period, then the channel and topic when filtered on.
fn grouped_sql(
    backend: crate::Backend,
    table: Table,
    scope: Scope<'_>,
    by: GroupBy,
    channel: bool,
    topic: bool,
) -> String {
    let agg = match backend {
        crate::Backend::Sqlite => "group_concat",
        crate::Backend::Postgres => "string_agg",
    };
    let hist = |on: bool, col: &str| {
        if on {
            format!("{agg}({col}, '|')")
        } else {
            "CAST(NULL AS TEXT)".to_string()
        }
    };
    let col = table.tier.column();
    let key = |on: bool, c: &str, empty: &str| {
        if on { c.to_string() } else { empty.to_string() }
    };
    let (scope_sql, mut next) = match (scope, table.projection) {
        (Scope::Tenants(t), _) => (
            format!("tenant_code IN ({})", placeholders(1, t.len())),
            t.len() + 1,
        ),
        (Scope::All, Projection::National) => ("tenant_code = ''".to_string(), 1),
        (Scope::All, Projection::PerTenant) => ("1 = 1".to_string(), 1),
        // Probes per tenant on the primary key rather than a scan of the whole table.
        (Scope::All, Projection::Full) => {
            ("tenant_code IN (SELECT code FROM tenants)".to_string(), 1)
        }
    };
    let group: Vec<&str> = [
        (by.tenant, "tenant_code"),
        (by.time, col),
        (by.channel, "channel"),
        (by.topic, "topic"),
    ]
    .into_iter()
    .filter_map(|(on, c)| on.then_some(c))
    .collect();
    let mut sql = format!(
        "SELECT {} AS tenant_code, {} AS hour_start, {} AS channel, {} AS topic,
           {} AS first_response_hist, {} AS resolution_hist, {sums}
         FROM {} WHERE {scope_sql} AND {col} >= ${} AND {col} < ${}",
        key(by.tenant, "tenant_code", "''"),
        key(by.time, col, "CAST(0 AS BIGINT)"),
        key(by.channel, "channel", "''"),
        key(by.topic, "topic", "''"),
        hist(by.first_response_hist, "first_response_hist"),
        hist(by.resolution_hist, "resolution_hist"),
        table.name(),
        next,
        next + 1,
        sums = COUNTERS
            .iter()
            .map(|c| if by.volume_only && !VOLUME.contains(c) {
                format!("CAST(0 AS BIGINT) AS {c}")
            } else {
                format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    next += 2;
    if channel {
        sql += &format!(" AND channel = ${next}");
        next += 1;
    }
    if topic {
        sql += &format!(" AND topic = ${next}");
    }
    if !group.is_empty() {
        sql += &format!(" GROUP BY {}", group.join(", "));
    }
    sql
}

/// Binds the parameters of [`grouped_sql`] to query `$q`.
macro_rules! bind_grouped {
    ($q:expr, $scope:expr, $a:expr, $b:expr, $channel:expr, $topic:expr) => {{
        let mut q = $q;
        if let Scope::Tenants(t) = $scope {
            for t in t {
                q = q.bind(t);
            }
        }
        q = q.bind($a).bind($b);
        if let Some(c) = $channel {
            q = q.bind(c);
        }
        if let Some(t) = $topic {
            q = q.bind(t);
        }
        q
    }};
}

/// A row of [`grouped_sql`], its histogram concatenations merged.
fn decode_grouped(r: StoredRollup) -> Result<RollupRow> {
    Ok(RollupRow {
        first_response_hist: parse_hists(r.first_response_hist.as_deref())?,
        resolution_hist: parse_hists(r.resolution_hist.as_deref())?,
        ..RollupRow::try_from(StoredRollup {
            first_response_hist: None,
            resolution_hist: None,
            ..r
        })?
    })
}

/// Every rollup table, for PostgreSQL's `LOCK TABLE` while one is rebuilt or filled.
const ALL_TABLES: &str = "rollups, rollups_daily, rollups_monthly, rollups_national_daily, rollups_national_monthly, rollups_tenant_daily, rollups_tenant_monthly";

/// Empties the projections and sums them again from the full daily rows inside write
/// transaction `$tx` (of backend `$backend`): after a bulk load, a rebuild, or the migration
/// that added them. The daily projections are summed in the database; the monthly ones from
/// those (days sum exactly into months).
macro_rules! rebuild_projections {
    ($tx:expr, $backend:expr) => {{
        for t in Table::PROJECTIONS {
            sqlx::query(&format!("DELETE FROM {}", t.name()))
                .execute(&mut *$tx)
                .await?;
        }
        for projection in [Projection::National, Projection::PerTenant] {
            let national = projection == Projection::National;
            let by = GroupBy {
                tenant: !national,
                time: true,
                channel: national,
                topic: national,
                first_response_hist: true,
                resolution_hist: true,
                volume_only: false,
            };
            let sql = grouped_sql(
                $backend,
                Table::full(Tier::Day),
                Scope::All,
                by,
                false,
                false,
            );
            let none: Option<&str> = None;
            let stored: Vec<StoredRollup> = bind_grouped!(
                sqlx::query_as::<_, StoredRollup>(&sql),
                Scope::All,
                -END_OF_TIME,
                END_OF_TIME,
                none,
                none
            )
            .fetch_all(&mut *$tx)
            .await?;
            let days = stored
                .into_iter()
                .map(decode_grouped)
                .collect::<Result<Vec<_>>>()?;
            let days: Vec<&RollupRow> = days.iter().filter(|r| !r.is_zero()).collect();
            let table = Table {
                tier: Tier::Day,
                projection,
            };
            insert_tier!($tx, table, &days);
            let months = project(
                days.iter().copied(),
                Table {
                    tier: Tier::Month,
                    projection,
                },
            );
            let months: Vec<&RollupRow> = months.values().collect();
            insert_tier!(
                $tx,
                Table {
                    tier: Tier::Month,
                    projection
                },
                &months
            );
        }
    }};
}

/// Far enough in the future for "all time" (hour-aligned, no overflow when rounded).
const END_OF_TIME: i64 = i64::MAX / 4 / HOUR_MS * HOUR_MS;

/// What [`Store::rebuild_rollups`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub tenants: usize,
    pub hourly_rows: usize,
    pub daily_rows: usize,
    pub monthly_rows: usize,
}

impl Store {
    /// Rollup rows of `tenants` for `[from, to)` (Unix ms, rounded down to whole hours), ordered
    /// by key: hourly rows for the partial days at the edges and daily rows for the whole
    /// Amsterdam days in between. A daily row's `hour_start` is the start of its local day, so
    /// sums over any set of keys, and breakdowns by local day, equal those of the hourly rows;
    /// use [`Store::rollups_hourly`] for hour-level breakdowns (hour of the week).
    pub async fn rollups(&self, tenants: &[String], from: i64, to: i64) -> Result<Vec<RollupRow>> {
        self.rollups_up_to(tenants, from, to, Tier::Day).await
    }

    /// Like [`Store::rollups`], but whole Amsterdam months come as one row each (its
    /// `hour_start` the start of the month): for totals over long periods, where a year is a
    /// few thousand rows instead of tens of thousands. Not for day-level breakdowns.
    pub async fn rollups_totals(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>> {
        self.rollups_up_to(tenants, from, to, Tier::Month).await
    }

    /// The hourly rows of `tenants` with `hour_start` in `[from, to)` (rounded down to whole
    /// hours), ordered by key: for hour-of-week charts over short periods.
    pub async fn rollups_hourly(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>> {
        self.rollups_up_to(tenants, from, to, Tier::Hour).await
    }

    /// The rows of `[from, to)` from the coarsest tier up to `coarsest` whose whole units fit,
    /// finer tiers at the edges (the benchmark compares the tiers).
    pub async fn rollups_up_to(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
        coarsest: Tier,
    ) -> Result<Vec<RollupRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let n = tenants.len();
        let mut out = Vec::new();
        for (tier, a, b) in plan(hour_of(from), hour_of(to), coarsest) {
            let col = tier.column();
            let sql = format!(
                "{} WHERE tenant_code IN ({}) AND {col} >= ${} AND {col} < ${}",
                Table::full(tier).sql().select,
                placeholders(1, n),
                n + 1,
                n + 2
            );
            let rows: Vec<StoredRollup> = with_pool!(self, p => {
                let mut q = sqlx::query_as::<_, StoredRollup>(&sql);
                for t in tenants { q = q.bind(t); }
                q.bind(a).bind(b).fetch_all(p).await?
            });
            for r in rows {
                out.push(RollupRow::try_from(r)?);
            }
        }
        out.sort_by(|x, y| {
            (&x.tenant_code, x.hour_start, &x.channel, &x.topic).cmp(&(
                &y.tenant_code,
                y.hour_start,
                &y.channel,
                &y.topic,
            ))
        });
        Ok(out)
    }

    /// Every row of `table` with a start in `[from, to)`, ordered by key: to check the
    /// projections against the rows they sum.
    pub async fn rollup_rows(&self, table: Table, from: i64, to: i64) -> Result<Vec<RollupRow>> {
        let col = table.tier.column();
        let sql = format!(
            "{} WHERE {col} >= $1 AND {col} < $2 ORDER BY tenant_code, {col}, channel, topic",
            table.sql().select
        );
        let rows: Vec<StoredRollup> =
            with_pool!(self, p => sqlx::query_as(&sql).bind(from).bind(to).fetch_all(p).await?);
        rows.into_iter().map(RollupRow::try_from).collect()
    }

    /// The rollups of `tenants` over `[from, to)` (tiers as [`Store::rollups_up_to`]), summed
    /// in the database per the key columns `by` keeps, optionally of one channel and topic
    /// (`""`: no topic). The key columns not kept are empty (`hour_start` 0). Histograms come
    /// as one concatenation per group (only those `by` asks for; the others are empty), so a
    /// year of a city or a week of the whole country is a few hundred rows to decode instead
    /// of tens of thousands.
    #[allow(clippy::too_many_arguments)]
    pub async fn rollups_grouped(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
        coarsest: Tier,
        by: GroupBy,
        channel: Option<&str>,
        topic: Option<&str>,
    ) -> Result<Vec<RollupRow>> {
        self.rollups_grouped_in(
            Scope::Tenants(tenants),
            from,
            to,
            coarsest,
            by,
            channel,
            topic,
        )
        .await
    }

    /// [`Store::rollups_grouped`] for a [`Scope`]: whole days and months come from the
    /// projection that still has the key columns asked for ([`source`]), so every tenant over
    /// a year is a few thousand rows.
    #[allow(clippy::too_many_arguments)]
    pub async fn rollups_grouped_in(
        &self,
        scope: Scope<'_>,
        from: i64,
        to: i64,
        coarsest: Tier,
        by: GroupBy,
        channel: Option<&str>,
        topic: Option<&str>,
    ) -> Result<Vec<RollupRow>> {
        if matches!(scope, Scope::Tenants(t) if t.is_empty()) {
            return Ok(vec![]);
        }
        let filtered = channel.is_some() || topic.is_some();
        let mut out: BTreeMap<RollupKey, RollupRow> = BTreeMap::new();
        for (tier, a, b) in plan(hour_of(from), hour_of(to), coarsest) {
            let table = source(tier, scope, by, filtered);
            let sql = grouped_sql(
                self.backend(),
                table,
                scope,
                by,
                channel.is_some(),
                topic.is_some(),
            );
            let rows: Vec<StoredRollup> = with_pool!(self, p => {
                bind_grouped!(sqlx::query_as::<_, StoredRollup>(&sql), scope, a, b, channel, topic)
                    .fetch_all(p).await?
            });
            for r in rows {
                let row = decode_grouped(r)?;
                if row.is_zero() {
                    continue;
                }
                out.entry(row.key())
                    .or_insert_with_key(RollupRow::at)
                    .add(&row);
            }
        }
        Ok(out.into_values().collect())
    }

    /// Arrivals per tenant and hour of `[from, to)` (rounded down to whole hours) for staffing
    /// advice, summed in the database over channels and topics: `realtime` counts the new
    /// conversations on `realtime_channels` (one chat is one piece of work), `other` the
    /// inbound messages on every other channel (each wants an answer). One row per tenant and
    /// hour with arrivals, ordered by both: a pool's four weeks are a few ten thousand rows
    /// instead of one per channel as well.
    pub async fn arrivals_hourly(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
        realtime_channels: &[&str],
    ) -> Result<Vec<HourlyArrivals>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let n = tenants.len();
        let (a, b) = (n + 1, n + 2);
        let rt = if realtime_channels.is_empty() {
            "FALSE".to_string()
        } else {
            format!(
                "channel IN ({})",
                placeholders(n + 3, realtime_channels.len())
            )
        };
        let sql = format!(
            "SELECT tenant_code, hour_start,
                    CAST(COALESCE(SUM(CASE WHEN {rt} THEN new_conversations ELSE 0 END), 0) AS BIGINT) AS realtime,
                    CAST(COALESCE(SUM(CASE WHEN {rt} THEN 0 ELSE inbound END), 0) AS BIGINT) AS other
             FROM {} WHERE tenant_code IN ({}) AND hour_start >= ${a} AND hour_start < ${b}
             GROUP BY tenant_code, hour_start ORDER BY tenant_code, hour_start",
            Table::full(Tier::Hour).name(),
            placeholders(1, n),
        );
        let rows: Vec<HourlyArrivals> = with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, HourlyArrivals>(&sql);
            for t in tenants { q = q.bind(t); }
            q = q.bind(hour_of(from)).bind(hour_of(to));
            for c in realtime_channels { q = q.bind(*c); }
            q.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .filter(|r| r.realtime != 0 || r.other != 0)
            .collect())
    }

    /// The same rows as [`Store::rollups_hourly`], computed from the raw tables
    /// (conversations, messages, events): the baseline for the benchmark and the consistency
    /// check.
    pub async fn rollups_raw(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        self.rollups_raw_team(tenants, None, from, to).await
    }

    /// [`Store::rollups_raw`] for the conversations of one team (the rollups do not keep
    /// teams): the dashboard's team filter.
    pub async fn rollups_raw_team(
        &self,
        tenants: &[String],
        team: Option<i64>,
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let scan = RawScan::new(tenants, team, from, to);
        let parts = with_pool!(self, p => raw_fetch!(&scan, p));
        Ok(RawScan::assemble(parts))
    }

    /// Run after the migrations: a database from before 0009 gets its daily and monthly rows
    /// summed from the hourly ones, one from before 0015 its projections, and one from before
    /// 0007 (conversations but no rollups at all) a [`Store::rebuild_rollups`]. A few one-row
    /// reads when there is nothing to do.
    pub(crate) async fn fill_rollup_tiers(&self) -> Result<()> {
        let any = |table: &'static str| async move {
            let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) x");
            let n: i64 = with_pool!(self, p => sqlx::query_scalar(&sql).fetch_one(p).await?);
            Ok::<bool, StoreError>(n > 0)
        };
        if any("rollups_daily").await? {
            if !any("rollups_tenant_daily").await? {
                self.rebuild_rollup_projections().await?;
                tracing::info!("rollup projections summed from the daily rows");
            }
            return Ok(());
        }
        if !any("rollups").await? {
            if any("conversations").await? {
                let r = self.rebuild_rollups(None).await?;
                tracing::info!(?r, "rollups rebuilt from the raw tables");
            }
            return Ok(());
        }
        let backend = self.backend();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            if backend == crate::Backend::Postgres {
                sqlx::query(&format!("LOCK TABLE {ALL_TABLES} IN EXCLUSIVE MODE"))
                    .execute(&mut *tx).await?;
            }
            let codes: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tenant_code FROM rollups ORDER BY tenant_code")
                .fetch_all(&mut *tx).await?;
            let sql = format!("{} WHERE tenant_code = $1", Table::full(Tier::Hour).sql().select);
            for code in codes {
                let stored: Vec<StoredRollup> = sqlx::query_as(&sql).bind(&code).fetch_all(&mut *tx).await?;
                let hourly = stored.into_iter().map(RollupRow::try_from).collect::<Result<Vec<_>>>()?;
                for tier in [Tier::Day, Tier::Month] {
                    let rows = coarsen(&hourly, tier);
                    let rows: Vec<&RollupRow> = rows.values().collect();
                    insert_tier!(tx, Table::full(tier), &rows);
                }
            }
            rebuild_projections!(tx, backend);
            tx.commit().await?;
        });
        tracing::info!("daily and monthly rollups filled from the hourly rows");
        Ok(())
    }

    /// Sums the projections (national, per tenant) again from the full daily rows, in one
    /// transaction that holds intake's writes back (PostgreSQL: table locks; SQLite: the write
    /// lock): after a bulk load of history, or for a database from before 0015.
    pub async fn rebuild_rollup_projections(&self) -> Result<()> {
        let backend = self.backend();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            if backend == crate::Backend::Postgres {
                sqlx::query(&format!("LOCK TABLE {ALL_TABLES} IN EXCLUSIVE MODE"))
                    .execute(&mut *tx).await?;
            }
            rebuild_projections!(tx, backend);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Recomputes all tiers of the rollups of `tenant` (or of every tenant) from the raw
    /// tables, for databases that had conversations before the rollups (0007) or their tiers
    /// (0009) existed. One transaction: on PostgreSQL the rollup tables are locked against
    /// writes for its duration (intake waits), so no event is lost or counted twice; on
    /// SQLite the write lock does the same. Conversations resolved before 0007 get
    /// `first_resolved_at` from `resolved_at` (the last resolution, the best fact left).
    pub async fn rebuild_rollups(&self, tenant: Option<&str>) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        let backend = self.backend();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            if backend == crate::Backend::Postgres {
                sqlx::query(&format!("LOCK TABLE {ALL_TABLES} IN EXCLUSIVE MODE"))
                    .execute(&mut *tx).await?;
            }
            let codes: Vec<String> = match tenant {
                Some(t) => vec![t.to_string()],
                None => sqlx::query_scalar("SELECT code FROM tenants ORDER BY code").fetch_all(&mut *tx).await?,
            };
            sqlx::query("UPDATE conversations SET first_resolved_at = resolved_at WHERE first_resolved_at IS NULL AND resolved_at IS NOT NULL")
                .execute(&mut *tx).await?;
            for tier in Tier::ALL {
                match tenant {
                    Some(t) => sqlx::query(&format!("DELETE FROM {} WHERE tenant_code = $1", tier.table()))
                        .bind(t).execute(&mut *tx).await?,
                    None => sqlx::query(&format!("DELETE FROM {}", tier.table())).execute(&mut *tx).await?,
                };
            }
            for code in codes {
                let scan = RawScan::new(std::slice::from_ref(&code), None, 0, END_OF_TIME);
                let hourly = RawScan::assemble(raw_fetch!(&scan, &mut *tx));
                for tier in Tier::ALL {
                    let rows = coarsen(&hourly, tier);
                    let rows: Vec<&RollupRow> = rows.values().collect();
                    match tier {
                        Tier::Hour => report.hourly_rows += rows.len(),
                        Tier::Day => report.daily_rows += rows.len(),
                        Tier::Month => report.monthly_rows += rows.len(),
                    }
                    insert_tier!(tx, Table::full(tier), &rows);
                }
                report.tenants += 1;
            }
            rebuild_projections!(tx, backend);
            tx.commit().await?;
        });
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn local_days_and_months_across_dst() {
        // Summer time: the day starts at 22:00 UTC the day before.
        assert_eq!(
            day_of(utc("2025-07-01T21:59:00Z")),
            utc("2025-06-30T22:00:00Z")
        );
        assert_eq!(
            day_of(utc("2025-07-01T22:00:00Z")),
            utc("2025-07-01T22:00:00Z")
        );
        // 30 March 2025 (clocks forward) has 23 hours, 26 October 2025 (back) has 25.
        let spring = day_of(utc("2025-03-30T12:00:00Z"));
        assert_eq!(spring, utc("2025-03-29T23:00:00Z"));
        assert_eq!(Tier::Day.next(spring) - spring, 23 * HOUR_MS);
        let autumn = day_of(utc("2025-10-26T12:00:00Z"));
        assert_eq!(autumn, utc("2025-10-25T22:00:00Z"));
        assert_eq!(Tier::Day.next(autumn) - autumn, 25 * HOUR_MS);
        assert_eq!(
            month_of(utc("2025-10-31T22:59:00Z")),
            utc("2025-09-30T22:00:00Z")
        );
        assert_eq!(
            month_of(utc("2025-10-31T23:00:00Z")),
            utc("2025-10-31T23:00:00Z")
        );
        assert_eq!(
            Tier::Month.next(utc("2025-12-31T23:00:00Z")),
            utc("2026-01-31T23:00:00Z")
        );
        assert_eq!(Tier::Day.ceil(spring), spring);
        assert_eq!(Tier::Day.ceil(spring + HOUR_MS), Tier::Day.next(spring));
    }

    #[test]
    fn plan_uses_coarse_rows_inside_and_hours_at_the_edges() {
        let (from, to) = (utc("2025-01-25T07:00:00Z"), utc("2025-04-03T15:00:00Z"));
        let p = plan(from, to, Tier::Month);
        let tiers: Vec<Tier> = p.iter().map(|x| x.0).collect();
        assert_eq!(
            tiers,
            [Tier::Hour, Tier::Day, Tier::Month, Tier::Day, Tier::Hour]
        );
        // Contiguous, covering exactly [from, to).
        assert_eq!(p[0].1, from);
        assert_eq!(p[4].2, to);
        for w in p.windows(2) {
            assert_eq!(w[0].2, w[1].1);
        }
        assert_eq!(
            p[2],
            (
                Tier::Month,
                utc("2025-01-31T23:00:00Z"),
                utc("2025-03-31T22:00:00Z")
            )
        );
        // Less than a day: hours only; day-aligned: no hours.
        assert_eq!(
            plan(from, from + 5 * HOUR_MS, Tier::Month),
            [(Tier::Hour, from, from + 5 * HOUR_MS)]
        );
        let d = day_of(from);
        assert_eq!(
            plan(d, Tier::Day.next(d), Tier::Month),
            [(Tier::Day, d, Tier::Day.next(d))]
        );
        assert!(plan(to, from, Tier::Month).is_empty());
        assert_eq!(plan(from, to, Tier::Hour), [(Tier::Hour, from, to)]);
    }
}
