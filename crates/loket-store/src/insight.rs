//! Management insight: a tenant's settings for its figures (cost, opt-in to be named in the
//! benchmark, its number of inhabitants), the roster of shifts behind the staffing grid, the
//! maturity self-assessments, and the per-tenant sums the benchmark needs for all tenants at
//! once.

use crate::{BeginWrite, Result, Store, StoreError, now_ms, placeholders, with_pool};
use serde::Serialize;

/// A tenant's figure settings; a tenant without a row has the defaults (no cost, not named).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow, Serialize)]
pub struct InsightSettingsRow {
    pub tenant_code: String,
    pub hourly_cost_cents: i64,
    pub monthly_tool_cost_cents: i64,
    pub benchmark_named: bool,
    /// When a supervisor last changed the number of inhabitants; `None`: the seeded figure.
    pub inhabitants_edited_at: Option<i64>,
    pub updated_by: Option<i64>,
    pub updated_at: i64,
}

/// What the settings form saves, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightSettingsUpdate {
    pub inhabitants: i64,
    /// Whether `inhabitants` differs from what was stored (records the edit time).
    pub inhabitants_changed: bool,
    pub hourly_cost_cents: i64,
    pub monthly_tool_cost_cents: i64,
    pub benchmark_named: bool,
}

/// One stored shift of the template week.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct ShiftRow {
    pub id: i64,
    pub unit_code: String,
    pub user_id: i64,
    /// 0 = Monday.
    pub weekday: i64,
    pub start_minute: i64,
    pub end_minute: i64,
    pub created_at: i64,
}

/// A new shift, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShift {
    pub unit_code: String,
    pub user_id: i64,
    pub weekday: i64,
    pub start_minute: i64,
    pub end_minute: i64,
}

/// One stored maturity self-assessment; `answers` is JSON (question id → level).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct MaturityRow {
    pub id: i64,
    pub tenant_code: String,
    /// `YYYY-MM-DD`.
    pub assessed_on: String,
    pub answers: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl Store {
    /// The figure settings of `tenant`, or `None` when never saved.
    pub async fn insight_settings(&self, tenant: &str) -> Result<Option<InsightSettingsRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM insight_settings WHERE tenant_code = $1")
            .bind(tenant).fetch_optional(p).await?))
    }

    /// The figure settings of every tenant that saved them (for the benchmark's opt-ins).
    pub async fn all_insight_settings(&self) -> Result<Vec<InsightSettingsRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM insight_settings ORDER BY tenant_code")
            .fetch_all(p).await?))
    }

    /// Saves the settings and the number of inhabitants in one transaction.
    pub async fn save_insight_settings(
        &self,
        tenant: &str,
        u: &InsightSettingsUpdate,
        by: Option<i64>,
    ) -> Result<()> {
        if u.inhabitants <= 0 || u.hourly_cost_cents < 0 || u.monthly_tool_cost_cents < 0 {
            return Err(StoreError::Invalid(
                "inwonertal of kosten buiten bereik".into(),
            ));
        }
        let now = now_ms();
        let edited = u.inhabitants_changed.then_some(now);
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE tenants SET inhabitants = $1 WHERE code = $2")
                .bind(u.inhabitants).bind(tenant).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO insight_settings (tenant_code, hourly_cost_cents, monthly_tool_cost_cents, benchmark_named, inhabitants_edited_at, updated_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant_code) DO UPDATE SET hourly_cost_cents = excluded.hourly_cost_cents,
                   monthly_tool_cost_cents = excluded.monthly_tool_cost_cents, benchmark_named = excluded.benchmark_named,
                   inhabitants_edited_at = COALESCE(excluded.inhabitants_edited_at, insight_settings.inhabitants_edited_at),
                   updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                .bind(tenant).bind(u.hourly_cost_cents).bind(u.monthly_tool_cost_cents).bind(u.benchmark_named)
                .bind(edited).bind(by).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The shifts worked for any of `units` (tenants or pools), by weekday and start.
    pub async fn roster_shifts(&self, units: &[String]) -> Result<Vec<ShiftRow>> {
        if units.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT * FROM roster_shifts WHERE unit_code IN ({}) ORDER BY weekday, start_minute, id",
            placeholders(1, units.len())
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            for u in units { q = q.bind(u); }
            Ok(q.fetch_all(p).await?)
        })
    }

    pub async fn add_shift(&self, s: &NewShift) -> Result<i64> {
        let now = now_ms();
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "INSERT INTO roster_shifts (unit_code, user_id, weekday, start_minute, end_minute, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(&s.unit_code).bind(s.user_id).bind(s.weekday).bind(s.start_minute).bind(s.end_minute).bind(now)
            .fetch_one(p).await?))
    }

    /// Removes shift `id` if it is worked for one of `units`; `NotFound` otherwise.
    pub async fn delete_shift(&self, id: i64, units: &[String]) -> Result<()> {
        if units.is_empty() {
            return Err(StoreError::NotFound);
        }
        let sql = format!(
            "DELETE FROM roster_shifts WHERE id = $1 AND unit_code IN ({})",
            placeholders(2, units.len())
        );
        let n = with_pool!(self, p => {
            let mut q = sqlx::query(&sql).bind(id);
            for u in units { q = q.bind(u); }
            q.execute(p).await?.rows_affected()
        });
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Stores an assessment; a second one for the same tenant and date replaces the first.
    pub async fn save_maturity(
        &self,
        tenant: &str,
        assessed_on: &str,
        answers_json: &str,
        by: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO maturity_assessments (tenant_code, assessed_on, answers, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_code, assessed_on) DO UPDATE SET answers = excluded.answers,
                   created_by = excluded.created_by, created_at = excluded.created_at")
                .bind(tenant).bind(assessed_on).bind(answers_json).bind(by).bind(now)
                .execute(p).await?;
        });
        Ok(())
    }

    /// The assessments of `tenant`, oldest first.
    pub async fn maturity_assessments(&self, tenant: &str) -> Result<Vec<MaturityRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT * FROM maturity_assessments WHERE tenant_code = $1 ORDER BY assessed_on")
            .bind(tenant).fetch_all(p).await?))
    }

    /// The latest assessment of every tenant that has one.
    pub async fn latest_maturity_all(&self) -> Result<Vec<MaturityRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT m.* FROM maturity_assessments m
             WHERE m.assessed_on = (SELECT MAX(x.assessed_on) FROM maturity_assessments x WHERE x.tenant_code = m.tenant_code)
             ORDER BY m.tenant_code")
            .fetch_all(p).await?))
    }
}
