//! Bookkeeping of the weekly summary mail: claim a (tenant, week, recipient) before sending,
//! record the outcome. The primary key makes the claim atomic across nodes.

use crate::{Result, Store, now_ms, with_pool};

/// A claim older than this is taken to be from a node that died while sending.
const STALE_CLAIM_MS: i64 = 15 * 60 * 1000;
/// A failed summary is tried this many times in all.
pub const MAX_ATTEMPTS: i64 = 5;

/// A recorded summary, for the UI.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub tenant_code: String,
    pub week_start: String,
    pub user_id: i64,
    pub state: String,
    pub attempts: i64,
    pub updated_at: i64,
    pub error: Option<String>,
}

impl Store {
    /// Claims the summary of `week` for `user_id` of `tenant`; `false` when it was sent, is being
    /// sent by another node, or failed too often.
    pub async fn claim_weekly_summary(
        &self,
        tenant: &str,
        week: &str,
        user_id: i64,
    ) -> Result<bool> {
        let now = now_ms();
        with_pool!(self, p => {
            let r = sqlx::query(
                "INSERT INTO weekly_summaries (tenant_code, week_start, user_id, state, attempts, updated_at)
                 VALUES ($1, $2, $3, 'bezig', 1, $4)
                 ON CONFLICT (tenant_code, week_start, user_id) DO UPDATE
                   SET state = 'bezig', attempts = weekly_summaries.attempts + 1, updated_at = $4
                 WHERE (weekly_summaries.state = 'mislukt' AND weekly_summaries.attempts < $5)
                    OR (weekly_summaries.state = 'bezig' AND weekly_summaries.updated_at < $6)")
                .bind(tenant).bind(week).bind(user_id).bind(now).bind(MAX_ATTEMPTS).bind(now - STALE_CLAIM_MS)
                .execute(p).await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Records the outcome of a claimed summary: sent, or failed with a reason (no secrets).
    pub async fn finish_weekly_summary(
        &self,
        tenant: &str,
        week: &str,
        user_id: i64,
        error: Option<&str>,
    ) -> Result<()> {
        let state = if error.is_some() {
            "mislukt"
        } else {
            "verstuurd"
        };
        with_pool!(self, p => {
            sqlx::query(
                "UPDATE weekly_summaries SET state = $1, error = $2, updated_at = $3
                 WHERE tenant_code = $4 AND week_start = $5 AND user_id = $6")
                .bind(state).bind(error).bind(now_ms()).bind(tenant).bind(week).bind(user_id)
                .execute(p).await?;
            Ok(())
        })
    }

    /// The summaries of `tenant`, newest week first.
    pub async fn weekly_summaries(&self, tenant: &str, limit: i64) -> Result<Vec<SummaryRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT * FROM weekly_summaries WHERE tenant_code = $1 ORDER BY week_start DESC, user_id LIMIT $2")
            .bind(tenant).bind(limit).fetch_all(p).await?))
    }
}
