//! Bulk loading of generated history (`loket demo --history-days`): conversations, their
//! messages, reopen events and the matching rollups (every tier), written with multi-row inserts in one
//! transaction per batch, not through intake. Only for an otherwise idle database.

use crate::rollups::{RollupKey, RollupRow, Tier, coarsen, hour_of, seconds_between};
use crate::{BeginWrite, Result, Store, now_ms, with_pool};
use std::collections::BTreeMap;

/// One generated conversation, with everything that happened in it.
#[derive(Debug, Clone)]
pub struct HistoryConversation {
    pub tenant_code: String,
    pub channel: String,
    pub topic: Option<String>,
    pub priority: String,
    /// Final state.
    pub state: String,
    pub subject: String,
    pub sentiment: Option<String>,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    /// The first resolution.
    pub first_resolved_at: Option<i64>,
    /// The current resolution (`None` when open again).
    pub resolved_at: Option<i64>,
    pub reopened_at: Vec<i64>,
    pub handled_by_pool: bool,
    /// Messages as (direction `in`/`out`, body, time).
    pub messages: Vec<(&'static str, String, i64)>,
    /// Service-level deadlines, as intake sets them.
    pub first_response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    /// Measured agent handle time.
    pub handle_seconds: i64,
    /// The resident's answer to the satisfaction survey (1–5), asked at the first resolution.
    pub csat_score: Option<i64>,
}

/// A batch of history, written in one transaction.
#[derive(Debug, Default)]
pub struct HistoryBatch {
    pub conversations: Vec<HistoryConversation>,
}

impl HistoryBatch {
    /// The rollup changes of this batch (the same rules as at intake).
    pub fn rollups(&self) -> BTreeMap<RollupKey, RollupRow> {
        let mut out: BTreeMap<RollupKey, RollupRow> = BTreeMap::new();
        for c in &self.conversations {
            let key = |ms: i64| RollupKey {
                tenant_code: c.tenant_code.clone(),
                hour_start: hour_of(ms),
                channel: c.channel.clone(),
                topic: c.topic.clone().unwrap_or_default(),
            };
            macro_rules! at {
                ($ms:expr) => {
                    out.entry(key($ms)).or_insert_with_key(RollupRow::at)
                };
            }
            let r = at!(c.created_at);
            r.new_conversations += 1;
            r.count_sentiment(c.sentiment.as_deref());
            // Service level: each deadline in its hour, met in the hour it was met.
            for (due, done, kind) in [
                (c.first_response_due, c.first_response_at, 0),
                (c.resolution_due, c.first_resolved_at, 1),
            ] {
                let Some(due) = due else { continue };
                let r = at!(due);
                let in_time = done.is_some_and(|t| t <= due);
                if kind == 0 {
                    r.sla_first_due += 1;
                    r.sla_first_in_time += i64::from(in_time);
                } else {
                    r.sla_resolution_due += 1;
                    r.sla_resolution_in_time += i64::from(in_time);
                }
                if let Some(t) = done.filter(|_| in_time) {
                    let r = at!(t);
                    if kind == 0 {
                        r.sla_first_met += 1;
                    } else {
                        r.sla_resolution_met += 1;
                    }
                }
            }
            for (dir, _, t) in &c.messages {
                match *dir {
                    "in" => at!(*t).inbound += 1,
                    _ => at!(*t).outbound += 1,
                }
            }
            if let Some(t) = c.first_response_at {
                let r = at!(t);
                r.first_responses += 1;
                r.pool_handled += i64::from(c.handled_by_pool);
                r.first_response_hist
                    .record(seconds_between(c.created_at, t));
            }
            if let Some(t) = c.first_resolved_at {
                let r = at!(t);
                r.resolutions += 1;
                r.resolution_hist.record(seconds_between(c.created_at, t));
                // The survey is created at the first resolution (see `insert_history`).
                if let Some(score) = c.csat_score {
                    at!(t).count_csat(score);
                }
            }
            for &t in &c.reopened_at {
                at!(t).reopens += 1;
            }
        }
        out
    }
}

/// Rows per multi-row insert (well under both backends' parameter limits).
const CHUNK: usize = 1000;

impl Store {
    /// Writes a batch of generated history and its rollups in one transaction. Each tenant in the
    /// batch gets one demo resident (contact and identity) that all its history belongs to.
    /// The rollup projections follow in [`Store::after_history`], once for all batches.
    pub async fn insert_history(&self, batch: &HistoryBatch) -> Result<()> {
        let now = now_ms();
        let rollups = batch.rollups();
        let mut tenants: Vec<&str> = batch
            .conversations
            .iter()
            .map(|c| c.tenant_code.as_str())
            .collect();
        tenants.sort_unstable();
        tenants.dedup();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut identity: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for t in &tenants {
                let contact: i64 = sqlx::query_scalar("INSERT INTO contacts (name, created_at) VALUES ('Demo-inwoner (historie)', $1) RETURNING id")
                    .bind(now).fetch_one(&mut *tx).await?;
                let ident: i64 = sqlx::query_scalar(
                    "INSERT INTO identities (contact_id, channel, external_id, display_name, created_at) VALUES ($1, 'historie', $2, 'Demo-inwoner', $3)
                     ON CONFLICT (channel, external_id) DO UPDATE SET display_name = excluded.display_name RETURNING id")
                    .bind(contact).bind(format!("historie-{t}")).bind(now).fetch_one(&mut *tx).await?;
                identity.insert(t, (contact, ident));
            }
            let base: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM conversations").fetch_one(&mut *tx).await?;
            let ids: Vec<i64> = (1..=batch.conversations.len() as i64).map(|i| base + i).collect();
            let convs: Vec<(i64, &HistoryConversation)> = ids.iter().copied().zip(&batch.conversations).collect();
            for chunk in convs.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO conversations (id, tenant_code, origin_tenant_code, channel, contact_id, identity_id, subject, state, priority, topic, language,
                       created_at, updated_at, last_inbound_at, first_response_at, resolved_at, first_resolved_at, sentiment, handled_by_pool,
                       first_response_due, resolution_due, handle_seconds, initial_resolution_due) ");
                qb.push_values(chunk, |mut b, (id, c)| {
                    let (contact, ident) = identity[c.tenant_code.as_str()];
                    let last = c.messages.iter().map(|m| m.2).max().unwrap_or(c.created_at);
                    let last_in = c.messages.iter().filter(|m| m.0 == "in").map(|m| m.2).max().unwrap_or(c.created_at);
                    b.push_bind(*id).push_bind(&c.tenant_code).push_bind(&c.tenant_code).push_bind(&c.channel)
                        .push_bind(contact).push_bind(ident).push_bind(&c.subject).push_bind(&c.state).push_bind(&c.priority)
                        .push_bind(&c.topic).push_bind("nl").push_bind(c.created_at).push_bind(last.max(c.resolved_at.unwrap_or(0)))
                        .push_bind(last_in).push_bind(c.first_response_at).push_bind(c.resolved_at).push_bind(c.first_resolved_at)
                        .push_bind(&c.sentiment).push_bind(c.handled_by_pool)
                        .push_bind(c.first_response_due).push_bind(c.resolution_due).push_bind(c.handle_seconds)
                        .push_bind(c.resolution_due);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let surveys: Vec<(i64, &HistoryConversation, i64, i64)> = convs
                .iter()
                .filter_map(|(id, c)| Some((*id, *c, c.first_resolved_at?, c.csat_score?)))
                .collect();
            for chunk in surveys.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO csat_surveys (conversation_id, tenant_code, behalf_code, topic, channel, token, created_at, answered_at, score) ");
                // History is held by the municipality itself, so it is also the attribution.
                qb.push_values(chunk, |mut b, (id, c, at, score)| {
                    b.push_bind(*id).push_bind(&c.tenant_code).push_bind(&c.tenant_code).push_bind(&c.topic).push_bind(&c.channel)
                        .push_bind(format!("historie-{id}")).push_bind(*at).push_bind(*at + 3_600_000).push_bind(*score);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let msgs: Vec<(i64, &HistoryConversation, &(&'static str, String, i64))> =
                convs.iter().flat_map(|(id, c)| c.messages.iter().map(move |m| (*id, *c, m))).collect();
            for chunk in msgs.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO messages (conversation_id, direction, channel, author_name, body, sent_as_tenant, delivery_state, created_at) ");
                qb.push_values(chunk, |mut b, (id, c, (dir, body, at))| {
                    let out = *dir == "out";
                    b.push_bind(*id).push_bind(*dir).push_bind(&c.channel)
                        .push_bind(if out { "Webcare" } else { "Demo-inwoner" }).push_bind(body)
                        .push_bind(out.then_some(&c.tenant_code)).push_bind(out.then_some("verzonden")).push_bind(*at);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let reopens: Vec<(i64, &HistoryConversation, i64)> =
                convs.iter().flat_map(|(id, c)| c.reopened_at.iter().map(move |t| (*id, *c, *t))).collect();
            for chunk in reopens.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (conversation_id, tenant_code, actor_name, kind, detail, created_at) ");
                qb.push_values(chunk, |mut b, (id, c, at)| {
                    b.push_bind(*id).push_bind(&c.tenant_code).push_bind("Demo-inwoner").push_bind("heropend")
                        .push_bind("Nieuw bericht van de inwoner").push_bind(*at);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let hourly: Vec<&RollupRow> = rollups.values().filter(|r| !r.is_zero()).collect();
            for tier in Tier::ALL {
                let rows = coarsen(hourly.iter().copied(), tier);
                let rows: Vec<&RollupRow> = rows.values().collect();
                crate::rollups::insert_tier!(tx, crate::rollups::Table::full(tier), &rows);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// After a bulk load: sums the rollup projections, which [`Store::insert_history`] leaves
    /// alone (a national row would be merged once per batch), moves PostgreSQL's id sequence
    /// past the explicit ids and has PostgreSQL vacuum and analyse the loaded tables.
    pub async fn after_history(&self) -> Result<()> {
        self.rebuild_rollup_projections().await?;
        if let crate::Pool::Postgres(p) = &self.pool {
            sqlx::query("SELECT setval(pg_get_serial_sequence('conversations', 'id'), (SELECT COALESCE(MAX(id), 1) FROM conversations))")
                .execute(p)
                .await?;
            // A bulk load leaves no statistics and no visibility map: without them PostgreSQL
            // plans the dashboard's reads blind and cannot answer them from the indexes alone
            // until autovacuum comes by.
            sqlx::query("VACUUM (ANALYZE)").execute(p).await?;
        }
        Ok(())
    }

    /// Spreads the resolved history of `tenant` over `members` (team, agent), by a
    /// multiplicative hash of the conversation id (plain `id % n` would follow the generator's
    /// patterns): the conversations get that team and assignee, their surveys that team and agent,
    /// so a demo shows satisfaction per team and agent. Open history stays unassigned (it
    /// would fill the demo agents' own inboxes). Returns the conversations changed.
    pub async fn assign_history(&self, tenant: &str, members: &[(i64, i64)]) -> Result<u64> {
        let n = members.len() as i64;
        let mut changed = 0;
        for (k, (team, agent)) in members.iter().enumerate() {
            let k = k as i64;
            changed += with_pool!(self, p => {
                let mut tx = p.begin().await?;
                let r = sqlx::query(
                    "UPDATE conversations SET team_id = $1, assignee_id = $2
                     WHERE tenant_code = $3 AND state IN ('opgelost', 'gesloten') AND (((id * 2654435761) % 4294967296) / 65536) % $4 = $5
                       AND identity_id IN (SELECT id FROM identities WHERE channel = 'historie')")
                    .bind(team).bind(agent).bind(tenant).bind(n).bind(k)
                    .execute(&mut *tx).await?.rows_affected();
                sqlx::query(
                    "UPDATE csat_surveys SET team_id = $1, agent_id = $2
                     WHERE behalf_code = $3 AND token LIKE 'historie-%' AND (((conversation_id * 2654435761) % 4294967296) / 65536) % $4 = $5")
                    .bind(team).bind(agent).bind(tenant).bind(n).bind(k)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                r
            });
        }
        Ok(changed)
    }
}
