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
//!   of the resident or by hand.
//!
//! [`Store::rollups_raw`] computes the same rows from the raw tables; the two agree as long as
//! no conversation changed tenant or topic after an event was counted (a transfer or a new
//! topic counts from then on; the raw scan re-attributes history to the current values).

use crate::{Result, Store, StoreError, placeholders, with_pool};
use loket_core::ConversationState;
use loket_core::metrics::Histogram;
use std::collections::BTreeMap;

/// One hour's milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// The start (Unix ms) of the UTC hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Whole seconds from `from` to `to` (ms), negative spans counting 0.
pub fn seconds_between(from: i64, to: i64) -> u64 {
    u64::try_from((to - from).max(0) / 1000).unwrap_or(0)
}

/// The rollup key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub tenant_code: String,
    pub hour_start: i64,
    pub channel: String,
    pub topic: String,
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
}

impl RollupRow {
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
        self.inbound += o.inbound;
        self.outbound += o.outbound;
        self.new_conversations += o.new_conversations;
        self.first_responses += o.first_responses;
        self.first_response_hist.merge(&o.first_response_hist);
        self.resolutions += o.resolutions;
        self.resolution_hist.merge(&o.resolution_hist);
        self.reopens += o.reopens;
        self.pool_handled += o.pool_handled;
        self.sentiment_positive += o.sentiment_positive;
        self.sentiment_neutral += o.sentiment_neutral;
        self.sentiment_negative += o.sentiment_negative;
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

    /// The sum of `rows` (key of the result left empty).
    pub fn total<'a>(rows: impl IntoIterator<Item = &'a RollupRow>) -> RollupRow {
        let mut t = RollupRow::default();
        for r in rows {
            t.add(r);
        }
        t
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.inbound == 0
            && self.outbound == 0
            && self.new_conversations == 0
            && self.first_responses == 0
            && self.resolutions == 0
            && self.reopens == 0
            && self.pool_handled == 0
            && self.sentiment_positive == 0
            && self.sentiment_neutral == 0
            && self.sentiment_negative == 0
    }
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

pub(crate) fn parse_hist(s: Option<String>) -> Result<Histogram> {
    match s.as_deref() {
        None | Some("") => Ok(Histogram::new()),
        Some(s) => serde_json::from_str(s)
            .map_err(|e| StoreError::Invalid(format!("rollup-histogram: {e}"))),
    }
}

pub(crate) fn hist_text(h: &Histogram) -> Option<String> {
    (h.count() > 0).then(|| serde_json::to_string(h).unwrap_or_default())
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

const UPSERT: &str = "INSERT INTO rollups (tenant_code, hour_start, channel, topic, inbound, outbound, new_conversations, first_responses,
       resolutions, reopens, pool_handled, sentiment_positive, sentiment_neutral, sentiment_negative)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (tenant_code, hour_start, channel, topic) DO UPDATE SET
       inbound = rollups.inbound + excluded.inbound,
       outbound = rollups.outbound + excluded.outbound,
       new_conversations = rollups.new_conversations + excluded.new_conversations,
       first_responses = rollups.first_responses + excluded.first_responses,
       resolutions = rollups.resolutions + excluded.resolutions,
       reopens = rollups.reopens + excluded.reopens,
       pool_handled = rollups.pool_handled + excluded.pool_handled,
       sentiment_positive = rollups.sentiment_positive + excluded.sentiment_positive,
       sentiment_neutral = rollups.sentiment_neutral + excluded.sentiment_neutral,
       sentiment_negative = rollups.sentiment_negative + excluded.sentiment_negative";

const KEY_WHERE: &str = "tenant_code = $1 AND hour_start = $2 AND channel = $3 AND topic = $4";

/// Applies `$deltas` ([`RollupDeltas`]) inside transaction `$tx`. Counters are added by an
/// upsert, which also locks the row (PostgreSQL) or runs under the write lock (SQLite), so the
/// read-merge-write of the histograms that follows cannot lose a concurrent update.
macro_rules! apply_rollups {
    ($tx:expr, $deltas:expr) => {
        for d in $deltas.0.values().filter(|d| !d.is_zero()) {
            $crate::rollups::apply_one!($tx, d);
        }
    };
}
pub(crate) use apply_rollups;

macro_rules! apply_one {
    ($tx:expr, $d:expr) => {{
        let d: &$crate::rollups::RollupRow = $d;
        sqlx::query($crate::rollups::UPSERT_SQL)
            .bind(&d.tenant_code)
            .bind(d.hour_start)
            .bind(&d.channel)
            .bind(&d.topic)
            .bind(d.inbound)
            .bind(d.outbound)
            .bind(d.new_conversations)
            .bind(d.first_responses)
            .bind(d.resolutions)
            .bind(d.reopens)
            .bind(d.pool_handled)
            .bind(d.sentiment_positive)
            .bind(d.sentiment_neutral)
            .bind(d.sentiment_negative)
            .execute(&mut *$tx)
            .await?;
        if d.first_response_hist.count() > 0 || d.resolution_hist.count() > 0 {
            let (f, r): (Option<String>, Option<String>) = sqlx::query_as(&format!(
                "SELECT first_response_hist, resolution_hist FROM rollups WHERE {}",
                $crate::rollups::KEY_WHERE_SQL
            ))
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
            sqlx::query(&format!(
                "UPDATE rollups SET first_response_hist = $5, resolution_hist = $6 WHERE {}",
                $crate::rollups::KEY_WHERE_SQL
            ))
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
pub(crate) use apply_one;

pub(crate) const UPSERT_SQL: &str = UPSERT;
pub(crate) const KEY_WHERE_SQL: &str = KEY_WHERE;

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

impl Store {
    /// The stored rollup rows of `tenants` with `hour_start` in `[from, to)` (Unix ms, rounded
    /// down to whole hours), ordered by key.
    pub async fn rollups(&self, tenants: &[String], from: i64, to: i64) -> Result<Vec<RollupRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let n = tenants.len();
        let sql = format!(
            "SELECT * FROM rollups WHERE tenant_code IN ({}) AND hour_start >= ${} AND hour_start < ${}
             ORDER BY tenant_code, hour_start, channel, topic",
            placeholders(1, n),
            n + 1,
            n + 2
        );
        let rows: Vec<StoredRollup> = with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, StoredRollup>(&sql);
            for t in tenants { q = q.bind(t); }
            q.bind(hour_of(from)).bind(hour_of(to)).fetch_all(p).await?
        });
        rows.into_iter().map(RollupRow::try_from).collect()
    }

    /// The same rows as [`Store::rollups`], computed from the raw tables (conversations,
    /// messages, events): the baseline for the benchmark and the consistency check.
    pub async fn rollups_raw(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let (from, to) = (hour_of(from), hour_of(to));
        let n = tenants.len();
        let tl = placeholders(1, n);
        let tl2 = placeholders(n + 1, n);
        let tl3 = placeholders(2 * n + 1, n);
        let (a, b) = (3 * n + 1, 3 * n + 2);
        // Candidate conversations by either tenant column (indexed), then the behalf tenant.
        let scope = format!(
            "(c.tenant_code IN ({tl}) OR c.origin_tenant_code IN ({tl2})) AND {BEHALF} IN ({tl3})"
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
        let (in_sql, out_sql) = (msg_sql("in"), msg_sql("out"));
        let (fr_sql, res_sql) = (dur_sql("first_response_at"), dur_sql("first_resolved_at"));
        let details = reopen_details();
        let reopen_sql = format!(
            "SELECT {key}, {h} AS hour, COUNT(*) AS n FROM events e JOIN conversations c ON c.id = e.conversation_id
             JOIN tenants t ON t.code = c.tenant_code
             WHERE {scope} AND e.created_at >= ${a} AND e.created_at < ${b}
               AND (e.kind = 'heropend' OR (e.kind = 'status' AND e.detail IN ({}))) {group}, {h}",
            placeholders(b + 1, details.len()),
            h = hour("e.created_at")
        );

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
        macro_rules! bind_scope {
            ($q:expr) => {{
                let mut q = $q;
                for _ in 0..3 {
                    for t in tenants {
                        q = q.bind(t);
                    }
                }
                q.bind(from).bind(to)
            }};
        }
        let (inb, outb, contacts, frs, res, reopens) = with_pool!(self, p => {
            let inb: Vec<RawCount> = bind_scope!(sqlx::query_as(&in_sql)).fetch_all(p).await?;
            let outb: Vec<RawCount> = bind_scope!(sqlx::query_as(&out_sql)).fetch_all(p).await?;
            let contacts: Vec<RawContacts> = bind_scope!(sqlx::query_as(&contacts_sql)).fetch_all(p).await?;
            let frs: Vec<RawDuration> = bind_scope!(sqlx::query_as(&fr_sql)).fetch_all(p).await?;
            let res: Vec<RawDuration> = bind_scope!(sqlx::query_as(&res_sql)).fetch_all(p).await?;
            let mut q = bind_scope!(sqlx::query_as::<_, RawCount>(&reopen_sql));
            for d in &details { q = q.bind(d); }
            let reopens: Vec<RawCount> = q.fetch_all(p).await?;
            (inb, outb, contacts, frs, res, reopens)
        });
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
        Ok(out.into_values().filter(|r| !r.is_zero()).collect())
    }
}
