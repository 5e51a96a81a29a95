//! Klantinteracties (Open Klant): per-tenant connection settings and the registration records
//! that make delivery idempotent across outbox retries.

use crate::{BeginWrite, Result, Store, now_ms, with_pool};
use serde::Serialize;

/// A tenant's connection. `token_enc` is the encrypted token; it never leaves the server.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KiSettingsRow {
    pub tenant_code: String,
    pub enabled: bool,
    pub base_url: String,
    pub token_enc: Option<String>,
    pub redact_pii: bool,
    pub actor_uuid: Option<String>,
}

/// One resolution to register; the uuids fill in as the steps succeed.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct KiRecordRow {
    pub id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub tenant_code: String,
    pub follow_up: Option<String>,
    pub step: String,
    pub klantcontact_uuid: Option<String>,
    pub betrokkene_uuid: Option<String>,
    pub onderwerpobject_uuid: Option<String>,
    pub internetaak_uuid: Option<String>,
    pub created_at: i64,
}

const RECORD_COLS: &str = "id, message_id, conversation_id, tenant_code, follow_up, step, klantcontact_uuid, betrokkene_uuid, onderwerpobject_uuid, internetaak_uuid, created_at";

/// A registration to queue in the same transaction as the change that resolves a conversation.
#[derive(Debug, Clone)]
pub struct KiQueue {
    pub tenant: String,
    pub note: String,
    pub follow_up: Option<String>,
    pub payload: String,
}

/// Inserts the note message (its delivery state is what the agent sees, its retry button is the
/// manual retry), the record and the outbox item of a registration in `$tx`;
/// evaluates to the note's message id.
macro_rules! ki_insert {
    ($tx:ident, $conversation_id:expr, $q:expr, $now:expr) => {{
        let q: &$crate::klantinteracties::KiQueue = $q;
        let (cid, now): (i64, i64) = ($conversation_id, $now);
        let mid: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, direction, channel, author_name, body, delivery_state, created_at)
             VALUES ($1, 'note', 'klantinteracties', 'Loket', $2, 'wachtrij', $3) RETURNING id")
            .bind(cid).bind(&q.note).bind(now).fetch_one(&mut *$tx).await?;
        sqlx::query("INSERT INTO ki_records (message_id, conversation_id, tenant_code, follow_up, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(mid).bind(cid).bind(&q.tenant).bind(&q.follow_up).bind(now).execute(&mut *$tx).await?;
        sqlx::query("INSERT INTO outbox (message_id, conversation_id, channel, payload, state, next_attempt_at, created_at) VALUES ($1, $2, 'klantinteracties', $3, 'wachtrij', $4, $4)")
            .bind(mid).bind(cid).bind(&q.payload).bind(now).execute(&mut *$tx).await?;
        mid
    }};
}
pub(crate) use ki_insert;

/// What to change in the settings; `token: None` keeps the stored token.
#[derive(Debug, Clone)]
pub struct KiSettingsUpdate {
    pub enabled: bool,
    pub base_url: String,
    pub token_enc: Option<String>,
    pub clear_token: bool,
    pub redact_pii: bool,
    pub actor_uuid: Option<String>,
}

impl Store {
    pub async fn ki_settings(&self, tenant: &str) -> Result<Option<KiSettingsRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT tenant_code, enabled, base_url, token_enc, redact_pii, actor_uuid FROM ki_settings WHERE tenant_code = $1")
            .bind(tenant).fetch_optional(p).await?))
    }

    pub async fn save_ki_settings(&self, tenant: &str, u: &KiSettingsUpdate) -> Result<()> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO ki_settings (tenant_code, updated_at) VALUES ($1, $2) ON CONFLICT (tenant_code) DO NOTHING")
                .bind(tenant).bind(now).execute(&mut *tx).await?;
            sqlx::query("UPDATE ki_settings SET enabled = $1, base_url = $2, redact_pii = $3, actor_uuid = $4, updated_at = $5 WHERE tenant_code = $6")
                .bind(u.enabled).bind(&u.base_url).bind(u.redact_pii).bind(&u.actor_uuid).bind(now).bind(tenant)
                .execute(&mut *tx).await?;
            if u.clear_token {
                sqlx::query("UPDATE ki_settings SET token_enc = NULL WHERE tenant_code = $1").bind(tenant).execute(&mut *tx).await?;
            } else if let Some(t) = &u.token_enc {
                sqlx::query("UPDATE ki_settings SET token_enc = $1 WHERE tenant_code = $2").bind(t).bind(tenant).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn ki_record(&self, message_id: i64) -> Result<KiRecordRow> {
        with_pool!(self, p => Ok(sqlx::query_as(&format!("SELECT {RECORD_COLS} FROM ki_records WHERE message_id = $1"))
            .bind(message_id).fetch_one(p).await?))
    }

    pub async fn ki_records(&self, conversation_id: i64) -> Result<Vec<KiRecordRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(&format!("SELECT {RECORD_COLS} FROM ki_records WHERE conversation_id = $1 ORDER BY id"))
            .bind(conversation_id).fetch_all(p).await?))
    }

    /// Stores the uuid a step produced and the next step, right after the call succeeded.
    pub async fn ki_step_done(
        &self,
        id: i64,
        column: KiStep,
        uuid: &str,
        next: &str,
    ) -> Result<()> {
        let col = match column {
            KiStep::Klantcontact => "klantcontact_uuid",
            KiStep::Betrokkene => "betrokkene_uuid",
            KiStep::Onderwerpobject => "onderwerpobject_uuid",
            KiStep::Internetaak => "internetaak_uuid",
        };
        with_pool!(self, p => {
            sqlx::query(&format!("UPDATE ki_records SET {col} = $1, step = $2, updated_at = $3 WHERE id = $4"))
                .bind(uuid).bind(next).bind(now_ms()).bind(id).execute(p).await?;
        });
        Ok(())
    }
}

/// The calls of one registration, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KiStep {
    Klantcontact,
    Betrokkene,
    Onderwerpobject,
    Internetaak,
}
