//! Users, memberships (roles per tenant), sessions and API keys.

use crate::{
    ApiKeyRow, MembershipRow, Result, SessionRow, Store, StoreError, UserRow, now_ms, with_pool,
};

impl Store {
    pub async fn create_user(&self, email: &str, name: &str, password_hash: &str) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(email).bind(name).bind(password_hash).bind(now_ms()).fetch_one(p).await?))
    }

    pub async fn user(&self, id: i64) -> Result<UserRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(id).fetch_one(p).await?))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<UserRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM users WHERE email = $1").bind(email).fetch_one(p).await?))
    }

    pub async fn set_password(&self, user_id: i64, hash: &str) -> Result<()> {
        let n = with_pool!(self, p => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id).execute(p).await?.rows_affected());
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    pub async fn set_user_prefs(&self, user_id: i64, language: &str, max_open: i64) -> Result<()> {
        with_pool!(self, p => sqlx::query("UPDATE users SET language = $1, max_open = $2 WHERE id = $3").bind(language).bind(max_open).bind(user_id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn set_online(&self, user_id: i64, online: bool) -> Result<()> {
        with_pool!(self, p => sqlx::query("UPDATE users SET online = $1 WHERE id = $2").bind(online).bind(user_id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn grant(&self, user_id: i64, tenant: &str, role: &str) -> Result<()> {
        with_pool!(self, p => sqlx::query("INSERT INTO memberships (user_id, tenant_code, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(user_id).bind(tenant).bind(role).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn revoke(&self, user_id: i64, tenant: &str, role: &str) -> Result<()> {
        with_pool!(self, p => sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND tenant_code = $2 AND role = $3")
            .bind(user_id).bind(tenant).bind(role).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn memberships(&self, user_id: i64) -> Result<Vec<MembershipRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM memberships WHERE user_id = $1 ORDER BY tenant_code, role").bind(user_id).fetch_all(p).await?))
    }

    /// Users holding any role in one of `tenants`, with their memberships there.
    pub async fn tenant_users(
        &self,
        tenants: &[String],
    ) -> Result<Vec<(UserRow, Vec<MembershipRow>)>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT * FROM memberships WHERE tenant_code IN ({}) ORDER BY user_id",
            crate::placeholders(1, tenants.len())
        );
        let ms: Vec<MembershipRow> = with_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for t in tenants { q = q.bind(t); }
            q.fetch_all(p).await?
        });
        let mut out: Vec<(UserRow, Vec<MembershipRow>)> = Vec::new();
        for m in ms {
            match out.last_mut() {
                Some((u, v)) if u.id == m.user_id => v.push(m),
                _ => out.push((self.user(m.user_id).await?, vec![m])),
            }
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(out)
    }

    pub async fn user_count(&self) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await?))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        ttl_ms: i64,
    ) -> Result<()> {
        let now = now_ms();
        with_pool!(self, p => sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(user_id).bind(csrf).bind(now).bind(now + ttl_ms).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// The live session for a token hash; expired sessions count as absent.
    pub async fn session(&self, token_hash: &str) -> Result<SessionRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash).bind(now_ms()).fetch_one(p).await?))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        with_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2").bind(token_hash).bind(now_ms()).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn create_api_key(
        &self,
        key_hash: &str,
        tenant: &str,
        channel: &str,
        name: &str,
        webhook_url: Option<&str>,
        webhook_secret: Option<&str>,
    ) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "INSERT INTO api_keys (key_hash, tenant_code, channel, name, webhook_url, webhook_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(key_hash).bind(tenant).bind(channel).bind(name).bind(webhook_url).bind(webhook_secret).bind(now_ms()).fetch_one(p).await?))
    }

    pub async fn api_key(&self, key_hash: &str) -> Result<ApiKeyRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT id, tenant_code, channel, name, webhook_url, webhook_secret FROM api_keys WHERE key_hash = $1")
            .bind(key_hash).fetch_one(p).await?))
    }

    pub async fn api_key_by_id(&self, id: i64) -> Result<ApiKeyRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT id, tenant_code, channel, name, webhook_url, webhook_secret FROM api_keys WHERE id = $1")
            .bind(id).fetch_one(p).await?))
    }
}
