//! Resident channel accounts (e-mail, Mastodon, Meta) per tenant: configuration with sealed
//! secrets, the pull cursor, health counters, attachments and delivery-status updates.

use crate::{BeginWrite, Result, Store, StoreError, now_ms, with_pool};
use serde::Serialize;

/// A configured account. `secrets` holds sealed values only; it never leaves the server.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelAccountRow {
    pub id: i64,
    pub tenant_code: String,
    pub kind: String,
    pub name: String,
    pub webhook_key: String,
    pub settings: String,
    pub secrets: String,
    pub enabled: bool,
    pub cursor: Option<String>,
    pub connected: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_in_at: Option<i64>,
    pub last_out_at: Option<i64>,
    pub errors: i64,
    pub bad_signatures: i64,
    pub ignored: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, tenant_code, kind, name, webhook_key, settings, secrets, enabled, cursor, connected, last_error, last_error_at, last_in_at, last_out_at, errors, bad_signatures, ignored, created_at, updated_at";

/// A new account or a change to one (`secrets` is the complete sealed map to store).
#[derive(Debug, Clone)]
pub struct ChannelAccountUpdate {
    pub name: String,
    pub settings: String,
    pub secrets: String,
    pub enabled: bool,
}

/// A file that came with an inbound message.
#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Option<Vec<u8>>,
    pub reference: Option<String>,
}

/// An attachment as listed next to its message (without the bytes).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub message_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub reference: Option<String>,
}

/// What a channel account adds to an inbound message.
#[derive(Debug, Clone, Default)]
pub struct NewChannelInfo {
    pub account_id: i64,
    /// The conversation the adapter's thread references point at (same origin tenant only).
    pub thread_conversation: Option<i64>,
    pub reply_context: Option<String>,
    pub attachments: Vec<NewAttachment>,
}

/// Outbox backlog per account: (account id, queued, failed for good).
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize)]
pub struct ChannelBacklog {
    pub account_id: i64,
    pub queued: i64,
    pub failed: i64,
}

/// An attachment row with its bytes and its conversation's channel account.
type AttachmentData = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// Delivery states in the order a message moves through them; status callbacks never move a
/// message backwards (a late `delivered` after `read`).
fn state_rank(s: &str) -> i32 {
    match s {
        "wachtrij" => 0,
        "verzonden" => 1,
        "afgeleverd" => 2,
        "gelezen" => 3,
        "mislukt" => 4,
        _ => -1,
    }
}

/// How stale `last_in_at` may get before an inbound message writes it again.
pub const SEEN_IN_EVERY_MS: i64 = 60_000;

impl Store {
    pub async fn channel_accounts(&self, tenant: Option<&str>) -> Result<Vec<ChannelAccountRow>> {
        with_pool!(self, p => Ok(match tenant {
            Some(t) => sqlx::query_as(&format!("SELECT {COLS} FROM channel_accounts WHERE tenant_code = $1 ORDER BY id"))
                .bind(t).fetch_all(p).await?,
            None => sqlx::query_as(&format!("SELECT {COLS} FROM channel_accounts ORDER BY id"))
                .fetch_all(p).await?,
        }))
    }

    pub async fn channel_account(&self, id: i64) -> Result<ChannelAccountRow> {
        with_pool!(self, p => sqlx::query_as(&format!("SELECT {COLS} FROM channel_accounts WHERE id = $1"))
            .bind(id).fetch_optional(p).await?.ok_or(StoreError::NotFound))
    }

    pub async fn channel_account_by_webhook(&self, key: &str) -> Result<ChannelAccountRow> {
        with_pool!(self, p => sqlx::query_as(&format!("SELECT {COLS} FROM channel_accounts WHERE webhook_key = $1"))
            .bind(key).fetch_optional(p).await?.ok_or(StoreError::NotFound))
    }

    pub async fn create_channel_account(
        &self,
        tenant: &str,
        kind: &str,
        webhook_key: &str,
        u: &ChannelAccountUpdate,
    ) -> Result<i64> {
        let now = now_ms();
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "INSERT INTO channel_accounts (tenant_code, kind, name, webhook_key, settings, secrets, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
            .bind(tenant).bind(kind).bind(&u.name).bind(webhook_key).bind(&u.settings).bind(&u.secrets).bind(u.enabled).bind(now)
            .fetch_one(p).await?))
    }

    /// Changes an account's configuration; the tenant must match (scoping).
    pub async fn update_channel_account(
        &self,
        tenant: &str,
        id: i64,
        u: &ChannelAccountUpdate,
    ) -> Result<()> {
        let now = now_ms();
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE channel_accounts SET name = $1, settings = $2, secrets = $3, enabled = $4, updated_at = $5,
               connected = CASE WHEN $4 THEN connected ELSE FALSE END
             WHERE id = $6 AND tenant_code = $7")
            .bind(&u.name).bind(&u.settings).bind(&u.secrets).bind(u.enabled).bind(now).bind(id).bind(tenant)
            .execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Stores a pull channel's position after what it covers has been ingested.
    pub async fn set_channel_cursor(&self, id: i64, cursor: &str) -> Result<()> {
        with_pool!(self, p => { sqlx::query("UPDATE channel_accounts SET cursor = $1 WHERE id = $2")
            .bind(cursor).bind(id).execute(p).await?; });
        Ok(())
    }

    /// Health: the account is connected (clears the last error).
    pub async fn channel_ok(&self, id: i64) -> Result<()> {
        with_pool!(self, p => { sqlx::query("UPDATE channel_accounts SET connected = TRUE WHERE id = $1")
            .bind(id).execute(p).await?; });
        Ok(())
    }

    /// Health: an error on the account (kept short; never contains secrets).
    pub async fn channel_error(&self, id: i64, error: &str, disconnected: bool) -> Result<()> {
        let error: String = error.chars().take(300).collect();
        with_pool!(self, p => { sqlx::query(
            "UPDATE channel_accounts SET last_error = $1, last_error_at = $2, errors = errors + 1,
               connected = CASE WHEN $3 THEN FALSE ELSE connected END WHERE id = $4")
            .bind(&error).bind(now_ms()).bind(disconnected).bind(id).execute(p).await?; });
        Ok(())
    }

    /// Health counters: `what` is `in`, `out`, `bad_signature` or `ignored`. An `in` on a
    /// connected account seen in the last [`SEEN_IN_EVERY_MS`] only reads, so webhook intake
    /// does not pay a second commit (on SQLite under the write lock) per message.
    pub async fn channel_seen(&self, id: i64, what: &str) -> Result<()> {
        if what == "in" {
            let recent: i64 = with_pool!(self, p => sqlx::query_scalar(
                "SELECT COUNT(*) FROM channel_accounts WHERE id = $1 AND connected AND last_in_at >= $2")
                .bind(id).bind(now_ms() - SEEN_IN_EVERY_MS).fetch_one(p).await?);
            if recent > 0 {
                return Ok(());
            }
        }
        let sql = match what {
            "in" => "UPDATE channel_accounts SET last_in_at = $1, connected = TRUE WHERE id = $2",
            "out" => "UPDATE channel_accounts SET last_out_at = $1 WHERE id = $2",
            "bad_signature" => {
                "UPDATE channel_accounts SET bad_signatures = bad_signatures + 1, last_error = 'ongeldige handtekening op een webhook-aanroep', last_error_at = $1 WHERE id = $2"
            }
            _ => "UPDATE channel_accounts SET ignored = ignored + 1, last_in_at = $1 WHERE id = $2",
        };
        with_pool!(self, p => { sqlx::query(sql).bind(now_ms()).bind(id).execute(p).await?; });
        Ok(())
    }

    /// Outbox items waiting or given up, per channel account.
    pub async fn channel_backlog(&self, tenant: &str) -> Result<Vec<ChannelBacklog>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT c.channel_account_id AS account_id,
                    SUM(CASE WHEN o.state = 'wachtrij' THEN 1 ELSE 0 END) AS queued,
                    SUM(CASE WHEN o.state = 'mislukt' THEN 1 ELSE 0 END) AS failed
             FROM outbox o JOIN conversations c ON c.id = o.conversation_id
             WHERE c.tenant_code = $1 AND c.channel_account_id IS NOT NULL AND o.channel = c.channel
             GROUP BY c.channel_account_id")
            .bind(tenant).fetch_all(p).await?))
    }

    /// The conversation (of `origin_tenant`) holding one of these messages, newest first.
    pub async fn conversation_by_external(
        &self,
        channel: &str,
        origin_tenant: &str,
        external_ids: &[String],
    ) -> Result<Option<i64>> {
        if external_ids.is_empty() {
            return Ok(None);
        }
        let ph = crate::placeholders(3, external_ids.len());
        let sql = format!(
            "SELECT m.conversation_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.channel = $1 AND c.origin_tenant_code = $2 AND m.external_id IN ({ph}) ORDER BY m.id DESC LIMIT 1"
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_scalar(&sql).bind(channel).bind(origin_tenant);
            for e in external_ids {
                q = q.bind(e);
            }
            Ok(q.fetch_optional(p).await?)
        })
    }

    /// Records the platform id of a sent reply, so status callbacks can find it.
    pub async fn set_message_external_id(&self, message_id: i64, external_id: &str) -> Result<()> {
        with_pool!(self, p => { sqlx::query("UPDATE messages SET external_id = $1 WHERE id = $2 AND external_id IS NULL")
            .bind(external_id).bind(message_id).execute(p).await?; });
        Ok(())
    }

    /// Applies a platform status callback; returns (conversation, message, tenant) when a message
    /// moved forward. Unknown ids and backward moves change nothing.
    pub async fn apply_delivery_status(
        &self,
        channel: &str,
        external_id: &str,
        state: &str,
    ) -> Result<Option<(i64, i64, String)>> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let row: Option<(i64, i64, Option<String>, String)> = sqlx::query_as(
                "SELECT m.id, m.conversation_id, m.delivery_state, c.tenant_code FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.channel = $1 AND m.external_id = $2 AND m.direction = 'out'")
                .bind(channel).bind(external_id).fetch_optional(&mut *tx).await?;
            let Some((mid, cid, current, tenant)) = row else { return Ok(None) };
            if state_rank(state) <= state_rank(current.as_deref().unwrap_or("")) {
                return Ok(None);
            }
            sqlx::query("UPDATE messages SET delivery_state = $1 WHERE id = $2").bind(state).bind(mid).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some((cid, mid, tenant)))
        })
    }

    /// When the resident sent their latest message (the platform's time, not our intake time):
    /// the start of a platform's customer-service window.
    pub async fn last_inbound_message_at(&self, conversation_id: i64) -> Result<Option<i64>> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "SELECT MAX(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'in'")
            .bind(conversation_id).fetch_one(p).await?))
    }

    /// A read (or delivery) watermark: every reply on this account to `recipient` created at or
    /// before `up_to_ms` moves forward to `state`. Returns what moved.
    pub async fn apply_watermark(
        &self,
        account_id: i64,
        channel: &str,
        recipient: &str,
        up_to_ms: i64,
        state: &str,
    ) -> Result<Vec<(i64, i64, String)>> {
        let rows: Vec<(i64, i64, Option<String>, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT m.id, m.conversation_id, m.delivery_state, c.tenant_code FROM messages m
             JOIN conversations c ON c.id = m.conversation_id JOIN identities i ON i.id = c.identity_id
             WHERE c.channel_account_id = $1 AND i.channel = $2 AND i.external_id = $3
               AND m.direction = 'out' AND m.created_at <= $4")
            .bind(account_id).bind(channel).bind(recipient).bind(up_to_ms).fetch_all(p).await?);
        let mut moved = Vec::new();
        for (mid, cid, current, tenant) in rows {
            if state_rank(state) > state_rank(current.as_deref().unwrap_or(""))
                && current.as_deref() != Some("mislukt")
            {
                with_pool!(self, p => { sqlx::query("UPDATE messages SET delivery_state = $1 WHERE id = $2").bind(state).bind(mid).execute(p).await?; });
                moved.push((cid, mid, tenant));
            }
        }
        Ok(moved)
    }

    /// The reply context of the resident's latest message in a conversation.
    pub async fn latest_reply_context(&self, conversation_id: i64) -> Result<Option<String>> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "SELECT reply_context FROM messages WHERE conversation_id = $1 AND direction = 'in' AND reply_context IS NOT NULL ORDER BY id DESC LIMIT 1")
            .bind(conversation_id).fetch_optional(p).await?.flatten()))
    }

    /// Platform ids of a conversation's messages on `channel`, oldest first (e-mail References).
    pub async fn thread_external_ids(
        &self,
        conversation_id: i64,
        channel: &str,
    ) -> Result<Vec<String>> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "SELECT external_id FROM messages WHERE conversation_id = $1 AND channel = $2 AND external_id IS NOT NULL ORDER BY id")
            .bind(conversation_id).bind(channel).fetch_all(p).await?))
    }

    pub async fn attachments(&self, conversation_id: i64) -> Result<Vec<AttachmentRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.reference FROM attachments a
             JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 ORDER BY a.id")
            .bind(conversation_id).fetch_all(p).await?))
    }

    /// One attachment's bytes (`None` while only the platform has them) and the channel account
    /// its conversation came in on, scoped to the tenants the caller may see.
    pub async fn attachment_data(
        &self,
        id: i64,
        visible: &[String],
    ) -> Result<(AttachmentRow, Option<Vec<u8>>, Option<i64>)> {
        if visible.is_empty() {
            return Err(StoreError::NotFound);
        }
        let sql = format!(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.reference, a.data, c.channel_account_id FROM attachments a
             JOIN messages m ON m.id = a.message_id JOIN conversations c ON c.id = m.conversation_id
             WHERE a.id = $1 AND c.tenant_code IN ({})",
            crate::placeholders(2, visible.len())
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, AttachmentData>(&sql).bind(id);
            for v in visible {
                q = q.bind(v);
            }
            let (id, message_id, filename, content_type, size, reference, data, account) =
                q.fetch_optional(p).await?.ok_or(StoreError::NotFound)?;
            Ok((AttachmentRow { id, message_id, filename, content_type, size, reference }, data, account))
        })
    }

    /// Keeps the bytes of an attachment fetched from the platform, so it is fetched once.
    pub async fn set_attachment_data(
        &self,
        id: i64,
        content_type: &str,
        data: &[u8],
    ) -> Result<()> {
        with_pool!(self, p => { sqlx::query("UPDATE attachments SET data = $1, size = $2, content_type = $3 WHERE id = $4")
            .bind(data).bind(data.len() as i64).bind(content_type).bind(id).execute(p).await?; });
        Ok(())
    }

    /// Keeps a public mention that is not for the inbox (monitoring); duplicates are ignored.
    pub async fn add_mention(
        &self,
        tenant: &str,
        channel: &str,
        external_id: &str,
        author_id: &str,
        author_name: &str,
        body: &str,
    ) -> Result<()> {
        with_pool!(self, p => { sqlx::query(
            "INSERT INTO monitoring_mentions (tenant_code, channel, external_id, author_id, author_name, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel, external_id) DO NOTHING")
            .bind(tenant).bind(channel).bind(external_id).bind(author_id).bind(author_name).bind(body).bind(now_ms())
            .execute(p).await?; });
        Ok(())
    }

    pub async fn mention_count(&self, tenant: &str) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM monitoring_mentions WHERE tenant_code = $1")
            .bind(tenant).fetch_one(p).await?))
    }

    /// Marks sent messages as bounced (a delivery failure report named them).
    pub async fn mark_bounced(
        &self,
        channel: &str,
        external_ids: &[String],
    ) -> Result<Vec<(i64, i64, String)>> {
        let mut out = Vec::new();
        for e in external_ids {
            if let Some(x) = self.apply_delivery_status(channel, e, "mislukt").await? {
                out.push(x);
            }
        }
        Ok(out)
    }
}
