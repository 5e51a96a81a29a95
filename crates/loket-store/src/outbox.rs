//! The durable outbox: replies wait here until their channel accepted them.

use crate::{BeginWrite, OutboxRow, Result, Store, now_ms, with_pool};

/// Backoff after the n-th failed attempt: 2 s, 4 s, 8 s … capped at 10 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) as u32;
    (1000_i64 << exp).min(600_000)
}

/// After this many attempts a delivery is given up and shown as failed.
pub const MAX_ATTEMPTS: i64 = 8;

impl Store {
    /// Claims up to `limit` due items by pushing their next attempt into the future, so that two
    /// workers (or two nodes) do not deliver the same item at once.
    pub async fn claim_outbox(&self, limit: i64, lease_ms: i64) -> Result<Vec<OutboxRow>> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let rows: Vec<OutboxRow> = sqlx::query_as(
                "SELECT id, message_id, conversation_id, channel, payload, state, attempts, next_attempt_at, last_error FROM outbox
                 WHERE state = 'wachtrij' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2")
                .bind(now).bind(limit).fetch_all(&mut *tx).await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for r in rows {
                let n = sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3")
                    .bind(now + lease_ms).bind(r.id).bind(r.next_attempt_at).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    claimed.push(r);
                }
            }
            tx.commit().await?;
            Ok(claimed)
        })
    }

    /// Records a successful hand-over to the channel.
    pub async fn outbox_delivered(&self, id: i64, message_id: i64, delivered: bool) -> Result<()> {
        let state = if delivered { "afgeleverd" } else { "verzonden" };
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE outbox SET state = 'klaar', attempts = attempts + 1, last_error = NULL WHERE id = $1").bind(id).execute(&mut *tx).await?;
            // A status callback may have moved the message further already (afgeleverd, gelezen).
            sqlx::query("UPDATE messages SET delivery_state = $1 WHERE id = $2 AND (delivery_state IS NULL OR delivery_state IN ('wachtrij', 'verzonden', 'mislukt'))")
                .bind(state).bind(message_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a failed attempt; returns whether the item was given up (`mislukt`).
    pub async fn outbox_failed(
        &self,
        id: i64,
        message_id: i64,
        attempts_before: i64,
        error: &str,
    ) -> Result<bool> {
        let attempts = attempts_before + 1;
        let give_up = attempts >= MAX_ATTEMPTS;
        let error: String = error.chars().take(500).collect();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE outbox SET attempts = $1, last_error = $2, next_attempt_at = $3, state = $4 WHERE id = $5")
                .bind(attempts).bind(&error).bind(now_ms() + backoff_ms(attempts)).bind(if give_up { "mislukt" } else { "wachtrij" }).bind(id)
                .execute(&mut *tx).await?;
            if give_up {
                sqlx::query("UPDATE messages SET delivery_state = 'mislukt' WHERE id = $1").bind(message_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(give_up)
    }

    /// Puts a failed delivery back in the queue (an agent's "opnieuw proberen").
    pub async fn outbox_retry(&self, message_id: i64) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE outbox SET state = 'wachtrij', attempts = 0, next_attempt_at = $1 WHERE message_id = $2").bind(now_ms()).bind(message_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE messages SET delivery_state = 'wachtrij' WHERE id = $1").bind(message_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn outbox_item(&self, message_id: i64) -> Result<OutboxRow> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT id, message_id, conversation_id, channel, payload, state, attempts, next_attempt_at, last_error FROM outbox WHERE message_id = $1")
            .bind(message_id).fetch_one(p).await?))
    }
}
