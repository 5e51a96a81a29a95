//! The dashboard's reads that the rollups cannot answer: the conversations behind a chart
//! (drill-down), the open backlog by age, service-level attainment and satisfaction. Each is
//! scoped to the tenants on whose behalf the conversations are held (`behalf_code`, migration
//! 0014: the attribution of `rollups::BEHALF`),
//! the same attribution the rollups use, so a drill-down lists what a bar counted.

use crate::{Result, Store, placeholders, with_pool};

/// How far before a period a conversation may have started for its first response or
/// resolution in the period to be in the business-time sample (keeps the scan on the index).
pub const SAMPLE_LOOKBACK_MS: i64 = 31 * 86_400_000;

/// The stride of the partial sample index (`conversations_sample64`, migration 0016).
pub const SAMPLE_STRIDE: i64 = 64;

/// The fewest conversations a sample at [`SAMPLE_STRIDE`] may hold: nearest-rank percentiles
/// of 500 are within about three percentile points of the whole.
pub const MIN_STRIDED_SAMPLE: i64 = 500;

/// One in how many of `count` conversations a timing sample of about `target` takes: one in
/// [`SAMPLE_STRIDE`] or more as soon as that still leaves [`MIN_STRIDED_SAMPLE`], so the scan
/// walks the partial sample index (a week of the whole country: 40,000 conversations, 600
/// index entries instead of 200,000).
pub fn sample_every(count: i64, target: i64) -> i64 {
    let every = (count.max(1) + target.max(1) - 1) / target.max(1);
    if count >= SAMPLE_STRIDE * MIN_STRIDED_SAMPLE {
        every.max(SAMPLE_STRIDE)
    } else {
        every
    }
}

/// Filters shared by the dashboard's raw reads; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct DashFilter {
    pub tenants: Vec<String>,
    /// Every tenant (the national view): no tenant condition at all, which lets the period
    /// bound the scan instead of hundreds of index probes.
    pub all_tenants: bool,
    pub channel: Option<String>,
    /// `Some("")` selects conversations without a topic.
    pub topic: Option<String>,
    pub team_id: Option<i64>,
}

/// A conversation as the drill-down lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DrillRow {
    pub id: i64,
    pub tenant: String,
    pub channel: String,
    pub topic: String,
    pub state: String,
    pub subject: String,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub first_resolved_at: Option<i64>,
}

/// Counts over the conversations that started in a period (the service level comes from the
/// rollups: [`crate::rollups::SlaCounts`]).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct StartedCounts {
    /// Conversations that started in the period.
    pub started: i64,
    /// Summed agent handle time (see `activity`), for the cost per contact.
    pub handle_seconds: i64,
}

/// Deadlines still running (see [`Store::deadlines_running`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunningDeadlines {
    /// First-response and resolution deadlines in the period, not passed and not met yet.
    pub first: i64,
    pub resolution: i64,
    /// Conversations started in the period whose deadline is still running: not decided yet.
    pub first_pending: i64,
    pub resolution_pending: i64,
}

/// A conversation in the timing sample (see [`Store::timing_sample`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimingRow {
    pub tenant: String,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub first_resolved_at: Option<i64>,
    pub handle_seconds: i64,
}

/// Satisfaction answers in a period: count, sum of scores, and scores of 4 or 5.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct CsatCounts {
    pub answers: i64,
    pub score_sum: i64,
    pub satisfied: i64,
}

/// The WHERE clause for `f` on table alias `a` (conversations `c`, or surveys `s`, which keep
/// the same columns) starting at placeholder `$start`, and the number of binds used.
fn scope_sql(f: &DashFilter, a: &str, start: usize) -> (String, usize) {
    let n = f.tenants.len();
    let (mut sql, mut next) = if f.all_tenants {
        ("1 = 1".to_string(), start)
    } else {
        (
            format!("{a}.behalf_code IN ({})", placeholders(start, n)),
            start + n,
        )
    };
    if f.channel.is_some() {
        sql += &format!(" AND {a}.channel = ${next}");
        next += 1;
    }
    if f.topic.is_some() {
        sql += &format!(" AND COALESCE({a}.topic, '') = ${next}");
        next += 1;
    }
    if f.team_id.is_some() {
        sql += &format!(" AND {a}.team_id = ${next}");
        next += 1;
    }
    (sql, next - start)
}

macro_rules! bind_filter {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        for _ in 0..(if $f.all_tenants { 0 } else { 1 }) {
            for t in &$f.tenants {
                q = q.bind(t);
            }
        }
        if let Some(c) = &$f.channel {
            q = q.bind(c);
        }
        if let Some(t) = &$f.topic {
            q = q.bind(t);
        }
        if let Some(t) = $f.team_id {
            q = q.bind(t);
        }
        q
    }};
}

impl Store {
    /// Conversations that started in `[from, to)` matching `f`, newest first, `limit` from
    /// `offset`, plus the total count.
    pub async fn drill_conversations(
        &self,
        f: &DashFilter,
        from: i64,
        to: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<DrillRow>, i64)> {
        if f.tenants.is_empty() {
            return Ok((vec![], 0));
        }
        let (scope, used) = scope_sql(f, "c", 1);
        let (a, b) = (used + 1, used + 2);
        let from_sql = format!(
            "FROM conversations c
             WHERE {scope} AND c.created_at >= ${a} AND c.created_at < ${b}"
        );
        let list_sql = format!(
            "SELECT c.id, c.behalf_code AS tenant, c.channel, COALESCE(c.topic, '') AS topic, c.state,
                    c.subject, c.created_at, c.first_response_at, c.first_resolved_at
             {from_sql} ORDER BY c.created_at DESC, c.id DESC LIMIT ${} OFFSET ${}",
            b + 1,
            b + 2
        );
        let count_sql = format!("SELECT COUNT(*) {from_sql}");
        with_pool!(self, p => {
            let rows: Vec<DrillRow> = bind_filter!(sqlx::query_as(&list_sql), f)
                .bind(from).bind(to).bind(limit).bind(offset).fetch_all(p).await?;
            let (n,): (i64,) = bind_filter!(sqlx::query_as(&count_sql), f)
                .bind(from).bind(to).fetch_one(p).await?;
            Ok((rows, n))
        })
    }

    /// Start times (Unix ms) of the conversations matching `f` that are open now
    /// (`nieuw` or `open`: waiting for an agent): the backlog, to be bucketed by age.
    pub async fn open_conversation_starts(&self, f: &DashFilter) -> Result<Vec<i64>> {
        if f.tenants.is_empty() {
            return Ok(vec![]);
        }
        let (scope, _) = scope_sql(f, "c", 1);
        let sql = format!(
            "SELECT c.created_at FROM conversations c
             WHERE {scope} AND c.state IN ('nieuw', 'open')"
        );
        with_pool!(self, p => {
            let rows: Vec<(i64,)> = bind_filter!(sqlx::query_as(&sql), f).fetch_all(p).await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
    }

    /// How many conversations matching `f` started in `[from, to)`, and their handle time.
    pub async fn started_counts(
        &self,
        f: &DashFilter,
        from: i64,
        to: i64,
    ) -> Result<StartedCounts> {
        if f.tenants.is_empty() {
            return Ok(StartedCounts::default());
        }
        let (scope, used) = scope_sql(f, "c", 1);
        let (a, b) = (used + 1, used + 2);
        let sql = format!(
            "SELECT COUNT(*) AS started, CAST(COALESCE(SUM(c.handle_seconds), 0) AS BIGINT) AS handle_seconds
             FROM conversations c
             WHERE {scope} AND c.created_at >= ${a} AND c.created_at < ${b}"
        );
        with_pool!(self, p => Ok(bind_filter!(sqlx::query_as(&sql), f)
            .bind(from).bind(to).fetch_one(p).await?))
    }

    /// The deadlines of conversations matching `f` that are still running at `now` (not
    /// answered, resp. not resolved for the first time, and not passed): those in `[from, to)`,
    /// which the service level does not count yet ([`crate::rollups::SlaCounts`]), and those
    /// of conversations that started in `[from, to)` (not decided yet, shown apart). Few rows,
    /// read from partial indexes (migration 0016).
    pub async fn deadlines_running(
        &self,
        f: &DashFilter,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<RunningDeadlines> {
        if f.tenants.is_empty() {
            return Ok(RunningDeadlines::default());
        }
        let (scope, used) = scope_sql(f, "c", 1);
        let (n, a, b) = (used + 1, used + 2, used + 3);
        let count = |waiting: &str, due: &str| {
            format!(
                "SELECT COALESCE(SUM(CASE WHEN c.{due} >= ${a} AND c.{due} < ${b} THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(CASE WHEN c.created_at >= ${a} AND c.created_at < ${b} THEN 1 ELSE 0 END), 0)
                 FROM conversations c
                 WHERE c.{waiting} IS NULL AND c.{due} >= ${n} AND {scope}"
            )
        };
        let first = count("first_response_at", "first_response_due");
        // Before the first resolution the deadline is still the one set at the start.
        let resolution = count("first_resolved_at", "resolution_due");
        with_pool!(self, p => {
            let (x, xp): (i64, i64) = bind_filter!(sqlx::query_as(&first), f).bind(now).bind(from).bind(to).fetch_one(p).await?;
            let (y, yp): (i64, i64) = bind_filter!(sqlx::query_as(&resolution), f).bind(now).bind(from).bind(to).fetch_one(p).await?;
            Ok(RunningDeadlines { first: x, resolution: y, first_pending: xp, resolution_pending: yp })
        })
    }

    /// The conversations matching `f` whose first response or first resolution fell in
    /// `[from, to)` and that started at most [`SAMPLE_LOOKBACK_MS`] before it, only ids
    /// divisible by `every` (a deterministic sample for long periods; 1 = all): one scan for
    /// the business-time and handle-time percentiles.
    pub async fn timing_sample(
        &self,
        f: &DashFilter,
        from: i64,
        to: i64,
        every: i64,
    ) -> Result<Vec<TimingRow>> {
        if f.tenants.is_empty() {
            return Ok(vec![]);
        }
        let (scope, used) = scope_sql(f, "c", 1);
        let (a, b, e) = (used + 1, used + 2, used + 3);
        // From one in 64 on, a multiple of 64, read from the partial index of every 64th
        // conversation (migration 0016; the literal term lets the planner use it).
        let every = if every >= SAMPLE_STRIDE {
            every / SAMPLE_STRIDE * SAMPLE_STRIDE
        } else {
            every.max(1)
        };
        let stride = if every >= SAMPLE_STRIDE {
            format!(" AND c.id % {SAMPLE_STRIDE} = 0")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT c.behalf_code AS tenant, c.created_at, c.first_response_at, c.first_resolved_at, c.handle_seconds
             FROM conversations c
             WHERE {scope}{stride} AND c.created_at >= ${w} AND c.created_at < ${b} AND c.id % ${e} = 0
               AND ((c.first_response_at >= ${a} AND c.first_response_at < ${b})
                 OR (c.first_resolved_at >= ${a} AND c.first_resolved_at < ${b}))",
            w = e + 1
        );
        with_pool!(self, p => Ok(bind_filter!(sqlx::query_as(&sql), f)
            .bind(from).bind(to).bind(every.max(1)).bind(from - SAMPLE_LOOKBACK_MS).fetch_all(p).await?))
    }

    /// `(team, agent, topic, score, answers)` of the answered surveys created in `[from, to)`
    /// matching `f`, grouped: satisfaction per team, agent and topic. Channel, topic, team and
    /// attribution are the survey's own, copied from its conversation when it was created.
    pub async fn csat_rows(
        &self,
        f: &DashFilter,
        from: i64,
        to: i64,
    ) -> Result<Vec<(Option<i64>, Option<i64>, String, i64, i64)>> {
        if f.tenants.is_empty() {
            return Ok(vec![]);
        }
        let (scope, used) = scope_sql(f, "s", 1);
        let (a, b) = (used + 1, used + 2);
        let sql = format!(
            "SELECT s.team_id, s.agent_id, COALESCE(s.topic, '') AS topic, s.score, COUNT(*) AS n
             FROM csat_surveys s
             WHERE {scope} AND s.score IS NOT NULL AND s.created_at >= ${a} AND s.created_at < ${b}
             GROUP BY s.team_id, s.agent_id, COALESCE(s.topic, ''), s.score"
        );
        with_pool!(self, p => Ok(bind_filter!(sqlx::query_as(&sql), f)
            .bind(from).bind(to).fetch_all(p).await?))
    }

    /// Per channel: how many conversations of `tenants` resolved in `[from, to)` had measured
    /// handle time, and its sum in seconds: the average handle time for staffing advice.
    pub async fn handle_by_channel(
        &self,
        tenants: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, i64)>> {
        let f = DashFilter {
            tenants: tenants.to_vec(),
            ..Default::default()
        };
        if f.tenants.is_empty() {
            return Ok(vec![]);
        }
        let (scope, used) = scope_sql(&f, "c", 1);
        let (a, b) = (used + 1, used + 2);
        let sql = format!(
            "SELECT c.channel, COUNT(*), CAST(COALESCE(SUM(c.handle_seconds), 0) AS BIGINT)
             FROM conversations c
             WHERE {scope} AND c.first_resolved_at >= ${a} AND c.first_resolved_at < ${b}
               AND c.handle_seconds > 0 AND c.created_at >= ${w} AND c.created_at < ${b}
             GROUP BY c.channel",
            w = b + 1
        );
        with_pool!(self, p => Ok(bind_filter!(sqlx::query_as(&sql), f)
            .bind(from).bind(to).bind(from - SAMPLE_LOOKBACK_MS).fetch_all(p).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_strides() {
        // Small periods: everything, then about 2,000.
        assert_eq!(sample_every(0, 2_000), 1);
        assert_eq!(sample_every(1_999, 2_000), 1);
        assert_eq!(sample_every(2_001, 2_000), 2);
        assert_eq!(sample_every(31_999, 2_000), 16);
        // From 64 × 500 on the partial index's stride, which still leaves 500 or more.
        assert_eq!(sample_every(32_000, 2_000), SAMPLE_STRIDE);
        assert!(32_000 / sample_every(32_000, 2_000) >= MIN_STRIDED_SAMPLE);
        assert_eq!(sample_every(128_000, 2_000), 64);
        assert_eq!(sample_every(2_000_000, 2_000), 1_000);
    }
}
