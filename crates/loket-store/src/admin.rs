//! What the tenant admin screens need beyond the everyday queries: API keys listed and revoked
//! per tenant, roles revoked without ever leaving a tenant without a beheerder, templates
//! edited by id within one tenant, and the per-agent capacity.

use crate::{BeginWrite, Result, Store, StoreError, now_ms, with_pool};
use serde::Serialize;

/// Prefix of the `key_hash` of a revoked key: no SHA-256 hex digest starts with it, so a revoked
/// key can never authenticate, while conversations that came in through it keep their reference
/// (and replies to them still reach the webhook).
const REVOKED: &str = "ingetrokken:";

/// An API key as the admin screen lists it: never the key itself, never the webhook secret.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub tenant_code: String,
    pub channel: String,
    pub name: String,
    pub webhook_url: Option<String>,
    /// Whether a webhook secret is set (the secret itself is only shown once, at creation).
    pub has_webhook_secret: bool,
    pub created_at: i64,
}

impl Store {
    /// The tenant's live (not revoked) API keys, newest first.
    pub async fn api_keys_of(&self, tenant: &str) -> Result<Vec<ApiKeyInfo>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT id, tenant_code, channel, name, webhook_url,
                    (webhook_secret IS NOT NULL AND webhook_secret <> '') AS has_webhook_secret, created_at
             FROM api_keys WHERE tenant_code = $1 AND key_hash NOT LIKE 'ingetrokken:%'
             ORDER BY created_at DESC, id DESC")
            .bind(tenant).fetch_all(p).await?))
    }

    /// Deletes one of the tenant's API keys. A key that conversations came in through is revoked
    /// instead (it stops authenticating and disappears from the list) so their history stays whole.
    pub async fn delete_api_key(&self, tenant: &str, id: i64) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM api_keys WHERE id = $1 AND tenant_code = $2 AND key_hash NOT LIKE 'ingetrokken:%'")
                .bind(id).bind(tenant).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE api_key_id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            if used == 0 {
                sqlx::query("DELETE FROM api_keys WHERE id = $1").bind(id).execute(&mut *tx).await?;
            } else {
                sqlx::query("UPDATE api_keys SET key_hash = $1 WHERE id = $2")
                    .bind(format!("{REVOKED}{id}:{}", now_ms())).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Revokes a role in a tenant. Refuses (`Conflict`) to remove the tenant's last beheerder, and
    /// takes the user off the tenant's teams once they hold no role there any more.
    pub async fn revoke_role(&self, tenant: &str, user_id: i64, role: &str) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let held: Option<String> = sqlx::query_scalar(
                "SELECT role FROM memberships WHERE user_id = $1 AND tenant_code = $2 AND role = $3")
                .bind(user_id).bind(tenant).bind(role).fetch_optional(&mut *tx).await?;
            if held.is_none() {
                return Err(StoreError::NotFound);
            }
            if role == "beheerder" {
                let admins: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM memberships WHERE tenant_code = $1 AND role = 'beheerder'")
                    .bind(tenant).fetch_one(&mut *tx).await?;
                if admins <= 1 {
                    return Err(StoreError::Conflict(
                        "de laatste beheerder van een gemeente kan niet worden verwijderd".into(),
                    ));
                }
            }
            sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND tenant_code = $2 AND role = $3")
                .bind(user_id).bind(tenant).bind(role).execute(&mut *tx).await?;
            let left: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND tenant_code = $2")
                .bind(user_id).bind(tenant).fetch_one(&mut *tx).await?;
            if left == 0 {
                sqlx::query("DELETE FROM team_members WHERE user_id = $1 AND team_id IN (SELECT id FROM teams WHERE tenant_code = $2)")
                    .bind(user_id).bind(tenant).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Updates one of the tenant's own templates; national templates (and other tenants') are
    /// `NotFound` here. A key already used by another of the tenant's templates is a `Conflict`.
    pub async fn update_template(
        &self,
        tenant: &str,
        id: i64,
        key: &str,
        title: &str,
        body: &str,
    ) -> Result<()> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE templates SET key = $1, title = $2, body = $3, updated_at = $4 WHERE id = $5 AND tenant_code = $6")
            .bind(key).bind(title).bind(body).bind(now_ms()).bind(id).bind(tenant)
            .execute(p).await?.rows_affected());
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Creates a template for a tenant; a key the tenant already uses is a `Conflict`.
    pub async fn create_template(
        &self,
        tenant: &str,
        key: &str,
        title: &str,
        body: &str,
    ) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "INSERT INTO templates (tenant_code, key, title, body, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(tenant).bind(key).bind(title).bind(body).bind(now_ms()).fetch_one(p).await?))
    }

    /// The maximum number of open conversations automatic assignment gives this user.
    pub async fn set_max_open(&self, user_id: i64, max_open: i64) -> Result<()> {
        let n = with_pool!(self, p => sqlx::query("UPDATE users SET max_open = $1 WHERE id = $2")
            .bind(max_open).bind(user_id).execute(p).await?.rows_affected());
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
