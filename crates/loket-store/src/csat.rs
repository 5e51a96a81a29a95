//! Satisfaction surveys (CSAT): one per conversation, created when it is first resolved; the
//! resident answers once with the survey's random token.

use crate::rollups::{RollupDeltas, RollupKey, apply_rollups, hour_of};
use crate::{BeginWrite, Result, Store, StoreError, now_ms, with_pool};
use serde::Serialize;

/// A survey row; `token` is the resident's capability and never leaves the server in a listing.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CsatSurveyRow {
    pub id: i64,
    pub conversation_id: i64,
    pub tenant_code: String,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub topic: Option<String>,
    pub channel: String,
    #[serde(skip)]
    pub token: String,
    pub created_at: i64,
    pub answered_at: Option<i64>,
    pub score: Option<i64>,
    pub comment: Option<String>,
}

/// What a survey records of the conversation at its first resolution.
#[derive(Debug, Clone)]
pub struct NewCsatSurvey {
    pub conversation_id: i64,
    pub tenant_code: String,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub topic: Option<String>,
    pub channel: String,
    pub token: String,
}

/// One answered survey, for the results.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CsatAnswerRow {
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub topic: Option<String>,
    pub score: i64,
}

/// The survey invitation as a message on the conversation (no state change, unlike a reply).
#[derive(Debug, Clone)]
pub struct CsatInvite {
    pub conversation_id: i64,
    pub body: String,
    pub sent_as_tenant: String,
    /// `None` for the web chat (the widget shows the survey itself).
    pub outbox_payload: Option<String>,
}

impl Store {
    /// Creates the survey of a conversation; `None` when it already has one (a reopened and
    /// again resolved conversation is asked once).
    pub async fn create_csat_survey(&self, s: &NewCsatSurvey) -> Result<Option<CsatSurveyRow>> {
        let now = now_ms();
        with_pool!(self, p => Ok(sqlx::query_as(
            "INSERT INTO csat_surveys (conversation_id, tenant_code, team_id, agent_id, topic, channel, token, created_at, behalf_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT behalf_code FROM conversations WHERE id = $1))
             ON CONFLICT (conversation_id) DO NOTHING RETURNING *")
            .bind(s.conversation_id).bind(&s.tenant_code).bind(s.team_id).bind(s.agent_id)
            .bind(&s.topic).bind(&s.channel).bind(&s.token).bind(now)
            .fetch_optional(p).await?))
    }

    pub async fn csat_survey_by_token(&self, token: &str) -> Result<CsatSurveyRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM csat_surveys WHERE token = $1")
            .bind(token).fetch_one(p).await?))
    }

    pub async fn csat_survey_of(&self, conversation_id: i64) -> Result<Option<CsatSurveyRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM csat_surveys WHERE conversation_id = $1")
            .bind(conversation_id).fetch_optional(p).await?))
    }

    /// Stores the answer once: `Conflict` when it was already answered, `NotFound` for an
    /// unknown token, `Invalid` for a score outside 1–5.
    pub async fn answer_csat_survey(
        &self,
        token: &str,
        score: i64,
        comment: Option<&str>,
    ) -> Result<CsatSurveyRow> {
        if !(1..=5).contains(&score) {
            return Err(StoreError::Invalid("de score is 1 tot en met 5".into()));
        }
        let now = now_ms();
        // The answer and its count in the rollups (the survey's attribution, channel, topic and
        // hour of creation) in one transaction.
        let row: Option<CsatSurveyRow> = with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let row: Option<CsatSurveyRow> = sqlx::query_as(
                "UPDATE csat_surveys SET score = $1, comment = $2, answered_at = $3 WHERE token = $4 AND answered_at IS NULL RETURNING *")
                .bind(score).bind(comment).bind(now).bind(token).fetch_optional(&mut *tx).await?;
            if let Some(r) = &row {
                let behalf: Option<String> = sqlx::query_scalar("SELECT behalf_code FROM csat_surveys WHERE id = $1")
                    .bind(r.id).fetch_one(&mut *tx).await?;
                if let Some(behalf) = behalf {
                    let mut deltas = RollupDeltas::default();
                    deltas.at(RollupKey {
                        tenant_code: behalf,
                        hour_start: hour_of(r.created_at),
                        channel: r.channel.clone(),
                        topic: r.topic.clone().unwrap_or_default(),
                    }).count_csat(score);
                    apply_rollups!(tx, deltas);
                }
            }
            tx.commit().await?;
            row
        });
        match row {
            Some(r) => Ok(r),
            None => {
                self.csat_survey_by_token(token).await?;
                Err(StoreError::Conflict("al beantwoord".into()))
            }
        }
    }

    /// Answered surveys of `tenant` whose conversation was first resolved in `[from, to)`.
    pub async fn csat_answers(
        &self,
        tenant: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<CsatAnswerRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT team_id, agent_id, topic, score FROM csat_surveys
             WHERE tenant_code = $1 AND created_at >= $2 AND created_at < $3 AND score IS NOT NULL")
            .bind(tenant).bind(from).bind(to).fetch_all(p).await?))
    }

    /// Adds the survey invitation as an outgoing message (queued in the outbox when a payload is
    /// given) with an event, without changing the conversation's state.
    pub async fn add_csat_invite(&self, invite: &CsatInvite) -> Result<i64> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let (tenant, channel): (String, String) = sqlx::query_as("SELECT tenant_code, channel FROM conversations WHERE id = $1")
                .bind(invite.conversation_id).fetch_one(&mut *tx).await?;
            let delivery = if invite.outbox_payload.is_some() { "wachtrij" } else { "verzonden" };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (conversation_id, direction, channel, author_name, body, sent_as_tenant, delivery_state, created_at)
                 VALUES ($1, 'out', $2, 'Loket', $3, $4, $5, $6) RETURNING id")
                .bind(invite.conversation_id).bind(&channel).bind(&invite.body).bind(&invite.sent_as_tenant)
                .bind(delivery).bind(now).fetch_one(&mut *tx).await?;
            if let Some(payload) = &invite.outbox_payload {
                sqlx::query("INSERT INTO outbox (message_id, conversation_id, channel, payload, state, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'wachtrij', $5, $5)")
                    .bind(id).bind(invite.conversation_id).bind(&channel).bind(payload).bind(now).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO events (conversation_id, tenant_code, actor_user_id, actor_name, kind, detail, created_at) VALUES ($1, $2, NULL, 'Loket', 'tevredenheid', 'Tevredenheidsvraag verstuurd', $3)")
                .bind(invite.conversation_id).bind(&tenant).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Records a system event on a conversation (e.g. why no survey was sent).
    pub async fn add_system_event(
        &self,
        conversation_id: i64,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        let now = now_ms();
        with_pool!(self, p => {
            sqlx::query("INSERT INTO events (conversation_id, tenant_code, actor_user_id, actor_name, kind, detail, created_at)
                         SELECT id, tenant_code, NULL, 'Loket', $2, $3, $4 FROM conversations WHERE id = $1")
                .bind(conversation_id).bind(kind).bind(detail).bind(now).execute(p).await?;
            Ok(())
        })
    }
}
