//! Tenants, teams and answer templates.

use crate::{
    BeginWrite, Result, Store, StoreError, TeamRow, TemplateRow, TenantRow, now_ms, with_pool,
};

impl Store {
    /// Inserts or updates tenants' identity fields in one transaction; settings are only written
    /// on insert so that a re-seed never overwrites what a tenant admin changed.
    pub async fn upsert_tenants(&self, rows: &[TenantRow]) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for t in rows {
                sqlx::query(
                    "INSERT INTO tenants (code, kind, name, display_name, province_code, pool_code, settings, inhabitants, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                       province_code = excluded.province_code, pool_code = excluded.pool_code",
                )
                .bind(&t.code).bind(&t.kind).bind(&t.name).bind(&t.display_name).bind(&t.province_code)
                .bind(&t.pool_code).bind(&t.settings).bind(t.inhabitants).bind(t.created_at)
                .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn upsert_tenant(&self, t: &TenantRow) -> Result<()> {
        self.upsert_tenants(std::slice::from_ref(t)).await
    }

    pub async fn tenant(&self, code: &str) -> Result<TenantRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM tenants WHERE code = $1").bind(code).fetch_one(p).await?))
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM tenants ORDER BY kind, name").fetch_all(p).await?))
    }

    pub async fn tenant_count(&self) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(p).await?))
    }

    pub async fn update_tenant_settings(
        &self,
        code: &str,
        display_name: &str,
        settings: &str,
    ) -> Result<()> {
        let n = with_pool!(self, p => sqlx::query("UPDATE tenants SET display_name = $1, settings = $2 WHERE code = $3")
            .bind(display_name).bind(settings).bind(code).execute(p).await?.rows_affected());
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    pub async fn teams(&self, tenants: &[String]) -> Result<Vec<TeamRow>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT * FROM teams WHERE tenant_code IN ({}) ORDER BY tenant_code, name",
            crate::placeholders(1, tenants.len())
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for t in tenants { q = q.bind(t); }
            Ok(q.fetch_all(p).await?)
        })
    }

    pub async fn create_team(&self, tenant: &str, name: &str) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("INSERT INTO teams (tenant_code, name) VALUES ($1, $2) RETURNING id")
            .bind(tenant).bind(name).fetch_one(p).await?))
    }

    pub async fn delete_team(&self, tenant: &str, id: i64) -> Result<()> {
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE conversations SET team_id = NULL WHERE team_id = $1 AND tenant_code = $2").bind(id).bind(tenant).execute(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM teams WHERE id = $1 AND tenant_code = $2").bind(id).bind(tenant).execute(&mut *tx).await?.rows_affected();
            if n == 0 { return Err(StoreError::NotFound); }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn set_team_member(
        &self,
        tenant: &str,
        team_id: i64,
        user_id: i64,
        member: bool,
    ) -> Result<()> {
        with_pool!(self, p => {
            let ok: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1 AND tenant_code = $2").bind(team_id).bind(tenant).fetch_optional(p).await?;
            if ok.is_none() { return Err(StoreError::NotFound); }
            if member {
                sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(team_id).bind(user_id).execute(p).await?;
            } else {
                sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2").bind(team_id).bind(user_id).execute(p).await?;
            }
        });
        Ok(())
    }

    pub async fn team_members(&self, team_id: i64) -> Result<Vec<i64>> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id").bind(team_id).fetch_all(p).await?))
    }

    /// National templates (tenant NULL) and the tenant's own; the caller applies overrides by key.
    pub async fn templates(&self, tenant: Option<&str>) -> Result<Vec<TemplateRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT * FROM templates WHERE tenant_code IS NULL OR tenant_code = $1 ORDER BY key, tenant_code")
            .bind(tenant).fetch_all(p).await?))
    }

    pub async fn upsert_template(
        &self,
        tenant: Option<&str>,
        key: &str,
        title: &str,
        body: &str,
    ) -> Result<i64> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM templates WHERE COALESCE(tenant_code, '') = COALESCE($1, '') AND key = $2")
                .bind(tenant).bind(key).fetch_optional(&mut *tx).await?;
            let id = match existing {
                Some(id) => {
                    sqlx::query("UPDATE templates SET title = $1, body = $2, updated_at = $3 WHERE id = $4")
                        .bind(title).bind(body).bind(now).bind(id).execute(&mut *tx).await?;
                    id
                }
                None => sqlx::query_scalar("INSERT INTO templates (tenant_code, key, title, body, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(tenant).bind(key).bind(title).bind(body).bind(now).fetch_one(&mut *tx).await?,
            };
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn delete_template(&self, tenant: &str, id: i64) -> Result<()> {
        let n = with_pool!(self, p => sqlx::query("DELETE FROM templates WHERE id = $1 AND tenant_code = $2").bind(id).bind(tenant).execute(p).await?.rows_affected());
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
