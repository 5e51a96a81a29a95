//! The satisfaction survey (CSAT): asked once per conversation after it is first resolved, on
//! the resident's channel (the widget shows inline stars; other channels get a link to
//! `/tevredenheid/{token}`), and the results per tenant, team, agent and topic.

use crate::auth::CurrentUser;
use crate::error::{ApiJson, AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::outbox::{Payload, Target};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json, Router, routing::get};
use loket_core::Role;
use loket_core::metrics::figures::Csat;
use loket_store::ConversationRow;
use loket_store::csat::{CsatAnswerRow, CsatInvite, NewCsatSurvey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub const MAX_COMMENT_CHARS: usize = 1000;

/// Routes of the resident's survey page.
pub fn page_router() -> Router<AppState> {
    Router::new().route(
        "/tevredenheid/{token}",
        get(survey_page).post(survey_submit),
    )
}

/// Routes under `/api/v1/widget`.
pub fn widget_router() -> Router<AppState> {
    Router::new().route("/{tenant}/survey", get(widget_survey).post(widget_answer))
}

/// Routes under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new().route("/tenants/{code}/csat", get(results))
}

// ---------------------------------------------------------------------------------------
// Asking

/// Called after a change resolved `c` (from another state): creates its survey once and sends
/// the invitation on the conversation's channel. Failures are logged, never returned: the
/// resolution itself has succeeded.
pub async fn on_resolved(state: &AppState, c: &ConversationRow) {
    if let Err(e) = ask(state, c).await {
        tracing::warn!(conversation = c.id, error = %e, "asking the satisfaction survey failed");
    }
}

async fn ask(state: &AppState, c: &ConversationRow) -> AppResult<()> {
    let survey = state
        .store
        .create_csat_survey(&NewCsatSurvey {
            conversation_id: c.id,
            tenant_code: c.tenant_code.clone(),
            team_id: c.team_id,
            agent_id: c.assignee_id,
            topic: c.topic.clone(),
            channel: c.channel.clone(),
            token: crate::auth::random_token(),
        })
        .await?;
    let Some(survey) = survey else {
        return Ok(()); // asked before: at most once per conversation
    };
    let tenant = state.tenant(&c.tenant_code).ok_or(AppError::NotFound)?;
    let link = format!(
        "{}/tevredenheid/{}",
        state.config.base_url.trim_end_matches('/'),
        survey.token
    );
    let text = format!(
        "Bedankt voor uw contact met {}. Wilt u laten weten hoe tevreden u bent? Het kost minder dan een minuut: {link}",
        tenant.display_name
    );
    let target = match (c.channel_account_id, c.api_key_id) {
        (Some(account_id), _) => {
            match crate::channels::reply_for(state, c, account_id, &text, &tenant.display_name)
                .await
            {
                Ok(reply) if reply.template.is_none() => Target::Channel { account_id, reply },
                Ok(_) => {
                    return skip(state, c, "het 24-uursvenster van het kanaal is gesloten").await;
                }
                Err(e) => return skip(state, c, &e.to_string()).await,
            }
        }
        (None, Some(k)) => Target::Webhook { api_key_id: k },
        // The widget shows the stars itself when it sees the conversation resolved (no message,
        // no event: the survey row records that it was asked).
        (None, None) => return Ok(()),
    };
    let payload = Payload {
        target,
        message: crate::service::outgoing(state, c, &tenant, &text, tenant.display_name.clone())
            .await?,
    };
    state
        .store
        .add_csat_invite(&CsatInvite {
            conversation_id: c.id,
            body: text,
            sent_as_tenant: tenant.code.clone(),
            outbox_payload: Some(serde_json::to_string(&payload).map_err(anyhow::Error::from)?),
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(())
}

async fn skip(state: &AppState, c: &ConversationRow, why: &str) -> AppResult<()> {
    state
        .store
        .add_system_event(
            c.id,
            "tevredenheid",
            &format!("Tevredenheidsvraag niet verstuurd: {why}"),
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Answering

fn valid_comment(comment: Option<&str>) -> Result<Option<String>, &'static str> {
    let c = comment.map(str::trim).filter(|c| !c.is_empty());
    match c {
        Some(c) if c.chars().count() > MAX_COMMENT_CHARS => Err("csat_error_comment"),
        c => Ok(c.map(str::to_string)),
    }
}

#[derive(Debug, Deserialize)]
pub struct WidgetTokenQuery {
    /// The widget's conversation token.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetSurvey {
    /// The survey token to answer with.
    pub token: String,
    pub answered: bool,
}

/// The survey of the widget's conversation, once it has been resolved.
#[utoipa::path(get, path = "/api/v1/widget/{tenant}/survey", responses((status = 200, body = WidgetSurvey), (status = 404, body = crate::error::Problem)))]
pub async fn widget_survey(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<WidgetTokenQuery>,
) -> AppResult<Json<WidgetSurvey>> {
    let c = state
        .store
        .conversation_by_widget_token(&q.token)
        .await
        .map_err(|_| AppError::NotFound)?;
    if c.origin_tenant_code != tenant {
        return Err(AppError::NotFound);
    }
    let s = state
        .store
        .csat_survey_of(c.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(WidgetSurvey {
        answered: s.answered_at.is_some(),
        token: s.token,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetAnswer {
    /// The survey token.
    pub token: String,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: i64,
    pub comment: Option<String>,
}

/// Stores the resident's answer from the widget; 409 when already answered.
#[utoipa::path(post, path = "/api/v1/widget/{tenant}/survey", request_body = WidgetAnswer,
    responses((status = 204), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn widget_answer(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    ApiJson(b): ApiJson<WidgetAnswer>,
) -> AppResult<StatusCode> {
    let s = state
        .store
        .csat_survey_by_token(&b.token)
        .await
        .map_err(|_| AppError::NotFound)?;
    let c = state.store.conversation_system(s.conversation_id).await?;
    if c.origin_tenant_code != tenant {
        return Err(AppError::NotFound);
    }
    if !(1..=5).contains(&b.score) {
        return Err(AppError::Invalid("de score is 1 tot en met 5".into()));
    }
    let comment = valid_comment(b.comment.as_deref()).map_err(|_| {
        AppError::Invalid(format!(
            "de toelichting is langer dan {MAX_COMMENT_CHARS} tekens"
        ))
    })?;
    state
        .store
        .answer_csat_survey(&b.token, b.score, comment.as_deref())
        .await
        .map_err(|e| match e {
            loket_store::StoreError::Conflict(_) => {
                AppError::Conflict("deze vraag is al beantwoord".into())
            }
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "csat.html")]
struct SurveyPage<'a> {
    t: Tr,
    nav: Option<crate::ui::Nav>,
    mode: &'a str,
    tenant_name: Option<String>,
    token: &'a str,
    nonce: String,
    errors: Vec<&'static str>,
    score: Option<i64>,
    comment: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

fn lang(q: &LangQuery, headers: &HeaderMap) -> Lang {
    match q.lang.as_deref() {
        Some(l) => Lang::parse(l),
        None => crate::i18n::lang_of(headers),
    }
}

/// The form nonce: derived from the token with the server key, so only a page this server
/// rendered for this survey can post to it.
fn nonce(state: &AppState, token: &str) -> String {
    crate::auth::sha256_hex(&format!("csat-form:{}:{token}", hex::encode(&state.secret)))[..32]
        .to_string()
}

fn render(status: StatusCode, p: &SurveyPage<'_>) -> Response {
    let mut r = crate::ui::page(p);
    *r.status_mut() = status;
    r
}

fn blank<'a>(state: &AppState, lang: Lang, mode: &'a str, token: &'a str) -> SurveyPage<'a> {
    SurveyPage {
        t: Tr(lang),
        nav: None,
        mode,
        tenant_name: None,
        token,
        nonce: nonce(state, token),
        errors: vec![],
        score: None,
        comment: String::new(),
    }
}

#[tracing::instrument(skip(state, headers, token))]
async fn survey_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let Ok(s) = state.store.csat_survey_by_token(&token).await else {
        return render(
            StatusCode::NOT_FOUND,
            &blank(&state, lang, "unknown", &token),
        );
    };
    let mut p = blank(
        &state,
        lang,
        if s.answered_at.is_some() {
            "answered"
        } else {
            "form"
        },
        &token,
    );
    p.tenant_name = state.tenant(&s.tenant_code).map(|t| t.display_name);
    render(StatusCode::OK, &p)
}

#[derive(Debug, Deserialize)]
pub struct SurveyForm {
    #[serde(default)]
    pub nonce: String,
    pub score: Option<String>,
    #[serde(default)]
    pub comment: String,
}

#[tracing::instrument(skip(state, headers, token, f))]
async fn survey_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<SurveyForm>,
) -> Response {
    let lang = lang(&q, &headers);
    let t = Tr(lang);
    let Ok(s) = state.store.csat_survey_by_token(&token).await else {
        return render(
            StatusCode::NOT_FOUND,
            &blank(&state, lang, "unknown", &token),
        );
    };
    let mut p = blank(&state, lang, "form", &token);
    p.tenant_name = state.tenant(&s.tenant_code).map(|t| t.display_name);
    if s.answered_at.is_some() {
        p.mode = "answered";
        return render(StatusCode::CONFLICT, &p);
    }
    if !crate::auth::tokens_equal(&f.nonce, &nonce(&state, &token)) {
        p.errors.push(t.s("csat_error_form"));
        return render(StatusCode::FORBIDDEN, &p);
    }
    let score = f
        .score
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| (1..=5).contains(s));
    if score.is_none() {
        p.errors.push(t.s("csat_error_score"));
    }
    let comment = match valid_comment(Some(&f.comment)) {
        Ok(c) => c,
        Err(key) => {
            p.errors.push(t.s(key));
            None
        }
    };
    if !p.errors.is_empty() {
        p.score = score;
        p.comment = f.comment;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    let Some(score) = score else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
    };
    match state
        .store
        .answer_csat_survey(&token, score, comment.as_deref())
        .await
    {
        Ok(_) => {
            p.mode = "thanks";
            render(StatusCode::OK, &p)
        }
        Err(loket_store::StoreError::Conflict(_)) => {
            p.mode = "answered";
            render(StatusCode::CONFLICT, &p)
        }
        Err(e) => AppError::from(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// Results

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// Start (inclusive), `YYYY-MM-DD` (Europe/Amsterdam) or Unix milliseconds; default 30 days ago.
    pub from: Option<String>,
    /// End (exclusive), same forms; default now.
    pub to: Option<String>,
}

/// One CSAT figure: the count is always shown with the share.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct CsatFigure {
    /// Valid answers (1–5).
    pub responses: u64,
    /// Answers of 4 or 5.
    pub satisfied: u64,
    /// Share of 4–5 in percent; `null` without answers.
    pub share_satisfied: Option<f64>,
    /// Mean score; `null` without answers.
    pub mean: Option<f64>,
}

impl From<&Csat> for CsatFigure {
    fn from(c: &Csat) -> Self {
        Self {
            responses: c.responses,
            satisfied: c.satisfied,
            share_satisfied: (c.responses > 0)
                .then(|| c.satisfied as f64 * 100.0 / c.responses as f64),
            mean: c.mean(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsatResults {
    pub tenant: String,
    pub from: i64,
    pub to: i64,
    pub total: CsatFigure,
    /// Per team id (`"geen"` for no team).
    pub teams: BTreeMap<String, CsatFigure>,
    /// Per topic code (`"geen"` for no topic).
    pub topics: BTreeMap<String, CsatFigure>,
    /// Per agent id; only for supervisors and beheerders of the tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<BTreeMap<String, CsatFigure>>,
}

/// CSAT in total and per team, topic and agent (`"geen"` when not set).
#[derive(Debug, Default)]
pub struct Aggregated {
    pub total: Csat,
    pub teams: BTreeMap<String, Csat>,
    pub topics: BTreeMap<String, Csat>,
    pub agents: BTreeMap<String, Csat>,
}

/// The pure aggregation: answers into total and per-group figures.
pub fn aggregate(answers: &[CsatAnswerRow]) -> Aggregated {
    let key = |v: Option<String>| v.unwrap_or_else(|| "geen".into());
    let mut total = Csat::default();
    let (mut teams, mut topics, mut agents) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for a in answers {
        let Ok(score) = u8::try_from(a.score) else {
            continue;
        };
        total.add(score);
        teams
            .entry(key(a.team_id.map(|t| t.to_string())))
            .or_insert_with(Csat::default)
            .add(score);
        topics
            .entry(key(a.topic.clone()))
            .or_insert_with(Csat::default)
            .add(score);
        agents
            .entry(key(a.agent_id.map(|t| t.to_string())))
            .or_insert_with(Csat::default)
            .add(score);
    }
    Aggregated {
        total,
        teams,
        topics,
        agents,
    }
}

fn parse_instant(s: &str, end: bool) -> AppResult<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::Invalid(format!(
            "ongeldige datum '{s}': gebruik JJJJ-MM-DD of Unix-milliseconden"
        ))
    })?;
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    use chrono::TimeZone;
    chrono_tz::Europe::Amsterdam
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| AppError::Invalid(format!("ongeldige datum '{s}'")))
}

/// CSAT of a tenant for a period (conversations first resolved in it): total, per team and per
/// topic; per agent only for its supervisors and beheerders.
#[utoipa::path(get, path = "/api/v1/tenants/{code}/csat", params(PeriodQuery),
    responses((status = 200, body = CsatResults), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
#[tracing::instrument(skip(state, user), fields(user = user.id))]
pub async fn results(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Json<CsatResults>> {
    // Tenant-scoped: someone who does not work for (or see) this municipality gets a 404.
    if !user.can_see(&code) && !user.roles.contains_key(&code) {
        return Err(AppError::NotFound);
    }
    let now = loket_store::now_ms();
    let to = match q.to.as_deref() {
        Some(s) => parse_instant(s, true)?,
        None => now + 1,
    };
    let from = match q.from.as_deref() {
        Some(s) => parse_instant(s, false)?,
        None => to - 30 * 24 * 3600 * 1000,
    };
    if from >= to {
        return Err(AppError::Invalid("'from' moet voor 'to' liggen".into()));
    }
    let answers = state.store.csat_answers(&code, from, to).await?;
    let Aggregated {
        total,
        teams,
        topics,
        agents,
    } = aggregate(&answers);
    let supervisor =
        user.has_role(&code, Role::Supervisor) || user.has_role(&code, Role::Beheerder);
    let map = |m: BTreeMap<String, Csat>| {
        m.iter()
            .map(|(k, v)| (k.clone(), CsatFigure::from(v)))
            .collect::<BTreeMap<_, _>>()
    };
    Ok(Json(CsatResults {
        tenant: code,
        from,
        to,
        total: CsatFigure::from(&total),
        teams: map(teams),
        topics: map(topics),
        agents: supervisor.then(|| map(agents)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(team: Option<i64>, agent: Option<i64>, topic: &str, score: i64) -> CsatAnswerRow {
        CsatAnswerRow {
            team_id: team,
            agent_id: agent,
            topic: Some(topic.into()),
            score,
        }
    }

    #[test]
    fn aggregates_share_of_four_and_five() {
        let answers = [
            row(Some(1), Some(7), "afval", 5),
            row(Some(1), Some(7), "afval", 4),
            row(None, Some(8), "parkeren", 2),
            row(None, None, "parkeren", 9),
        ];
        let Aggregated {
            total,
            teams,
            topics,
            agents,
        } = aggregate(&answers);
        assert_eq!(total.responses, 3);
        let f = CsatFigure::from(&total);
        assert_eq!(f.satisfied, 2);
        assert!((f.share_satisfied.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        assert!((f.mean.unwrap() - 11.0 / 3.0).abs() < 1e-9);
        assert_eq!(teams["1"].responses, 2);
        assert_eq!(teams["geen"].responses, 1);
        assert_eq!(topics["parkeren"].satisfied, 0);
        assert_eq!(agents["7"].satisfied, 2);
    }

    #[test]
    fn comment_is_limited() {
        assert_eq!(valid_comment(Some("  ")), Ok(None));
        assert!(valid_comment(Some(&"x".repeat(1001))).is_err());
        assert_eq!(valid_comment(Some(" goed ")), Ok(Some("goed".into())));
    }
}
