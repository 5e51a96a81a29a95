//! Handle time from agent activity. Opening a conversation starts the clock for that agent;
//! every action on it (typing, a reply or note, a change of state, team or assignee) adds the
//! time since the agent's previous activity there, at most [`MAX_STEP_MS`], to the
//! conversation's `handle_seconds`. Reading without acting counts nothing; a long break counts
//! as at most one step.

use crate::{BeginWrite, Result, Store, now_ms, with_pool};

/// The longest single step that counts as work (reading a long thread, looking something up).
pub const MAX_STEP_MS: i64 = 10 * 60 * 1000;

/// Seconds one action adds: the time since the previous activity (none: nothing), at most
/// [`MAX_STEP_MS`], whole seconds.
pub fn step_seconds(last_at: Option<i64>, now: i64) -> i64 {
    last_at.map_or(0, |t| (now - t).clamp(0, MAX_STEP_MS) / 1000)
}

impl Store {
    /// `user` opened conversation `id`: the clock starts now.
    pub async fn activity_view(&self, id: i64, user: i64) -> Result<()> {
        let now = now_ms();
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO agent_activity (conversation_id, user_id, last_at) VALUES ($1, $2, $3)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_at = $3")
                .bind(id).bind(user).bind(now).execute(p).await?;
            Ok(())
        })
    }

    /// `user` acted on conversation `id`: adds the time since their previous activity (at most
    /// [`MAX_STEP_MS`]) to its handle time and returns the seconds added.
    pub async fn activity_act(&self, id: i64, user: i64) -> Result<i64> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let last: Option<(i64,)> = sqlx::query_as(
                "SELECT last_at FROM agent_activity WHERE conversation_id = $1 AND user_id = $2")
                .bind(id).bind(user).fetch_optional(&mut *tx).await?;
            let secs = step_seconds(last.map(|(t,)| t), now);
            sqlx::query(
                "INSERT INTO agent_activity (conversation_id, user_id, last_at) VALUES ($1, $2, $3)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_at = $3")
                .bind(id).bind(user).bind(now).execute(&mut *tx).await?;
            if secs > 0 {
                sqlx::query("UPDATE conversations SET handle_seconds = handle_seconds + $1 WHERE id = $2")
                    .bind(secs).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(secs)
        })
    }

    /// Handle seconds of conversation `id`.
    pub async fn handle_seconds(&self, id: i64) -> Result<i64> {
        with_pool!(self, p => {
            let (n,): (i64,) = sqlx::query_as("SELECT handle_seconds FROM conversations WHERE id = $1")
                .bind(id).fetch_one(p).await?;
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_capped_and_never_negative() {
        assert_eq!(
            step_seconds(None, 1_000_000),
            0,
            "no opening, nothing measured"
        );
        assert_eq!(step_seconds(Some(1_000), 91_999), 90);
        assert_eq!(
            step_seconds(Some(0), 3 * 3_600_000),
            600,
            "a break counts ten minutes"
        );
        assert_eq!(
            step_seconds(Some(5_000), 1_000),
            0,
            "clock skew between nodes"
        );
    }
}
