//! Intake: validate → analyse → route → store durably → tell the screens → assign.
//! The caller acknowledges only after [`accept`] returned, i.e. after the commit.

use crate::error::{AppError, AppResult};
use crate::hub::{HubEvent, WireMessage};
use crate::state::AppState;
use loket_core::sla::{SlaKind, deadline};
use loket_core::{Priority, TenantKind};
use loket_store::{Ingested, NewInbound};

/// Longest message text accepted from a resident, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

#[derive(Debug, Clone)]
pub struct InboundRequest {
    pub tenant: String,
    pub channel: String,
    pub external_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub sent_at: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub api_key_id: Option<i64>,
    pub widget_token: Option<String>,
    /// An Open311 service request: a conversation of its own, on the topic the client chose.
    pub open311: Option<loket_store::NewOpen311>,
    /// Came in on a configured channel account (e-mail, Mastodon, Meta).
    pub channel_info: Option<loket_store::NewChannelInfo>,
}

/// Checks what any channel hands in; returns a Dutch reason on failure.
pub fn validate(req: &InboundRequest) -> AppResult<()> {
    let text = req.text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid("het bericht is leeg".into()));
    }
    if req.text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::Invalid(format!(
            "het bericht is langer dan {MAX_TEXT_CHARS} tekens"
        )));
    }
    if req.external_id.is_empty() || req.external_id.len() > 200 {
        return Err(AppError::Invalid(
            "external_id moet 1 tot 200 tekens lang zijn".into(),
        ));
    }
    if req.author_id.is_empty()
        || req.author_id.len() > 200
        || req.author_name.chars().count() > 200
    {
        return Err(AppError::Invalid(
            "author.id (1–200 tekens) en author.name (hoogstens 200) zijn verplicht".into(),
        ));
    }
    let ok_channel = !req.channel.is_empty()
        && req.channel.len() <= 32
        && req
            .channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok_channel {
        return Err(AppError::Invalid(
            "channel moet 1–32 kleine letters, cijfers, - of _ zijn".into(),
        ));
    }
    if let (Some(lat), Some(lon)) = (req.lat, req.lon)
        && (!(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon))
    {
        return Err(AppError::Invalid(
            "lat/lon liggen buiten het geldige bereik".into(),
        ));
    }
    Ok(())
}

/// Stores an inbound message and does everything that follows from it.
pub async fn accept(state: &AppState, req: InboundRequest) -> AppResult<Ingested> {
    validate(&req)?;
    let entry = state
        .tenant(&req.tenant)
        .ok_or_else(|| AppError::UnknownTenant(format!("onbekende gemeente '{}'", req.tenant)))?;
    // The sender's earlier municipalities decide ambiguous place names ("Hengelo").
    let history = state
        .store
        .sender_history(&req.channel, &req.author_id, 10)
        .await
        .unwrap_or_default();
    let analysis = loket_text::engine().analyse(&loket_text::Input {
        text: &req.text,
        lat: req.lat,
        lon: req.lon,
        history: &history,
    });

    let mut events: Vec<(String, String)> = Vec::new();
    // On the national entry a confident municipality takes the conversation; anything less stays
    // in triage with the candidates on screen. A wrong municipality is worse than none.
    let mut target = entry.clone();
    if entry.kind == TenantKind::Nationaal {
        match &analysis.gemeente {
            Some(g) if state.tenant(&g.code).is_some() => {
                target = state.tenant(&g.code).expect("checked");
                events.push((
                    "routering".into(),
                    format!(
                        "Automatisch naar {} — op basis van ‘{}’, {:.0}%",
                        target.display_name,
                        g.evidence.join("’, ‘"),
                        g.confidence * 100.0
                    ),
                ));
            }
            _ => {
                let cands: Vec<String> = analysis
                    .candidates
                    .iter()
                    .map(|c| format!("{} ({}, {:.0}%)", c.naam, c.code, c.confidence * 100.0))
                    .collect();
                events.push((
                    "triage".into(),
                    if cands.is_empty() {
                        "Geen gemeente herkend: blijft in de landelijke triage".into()
                    } else {
                        format!("Gemeente onzeker; kandidaten: {}", cands.join(", "))
                    },
                ));
            }
        }
    }
    // An Open311 client chose the service (a `melding` topic) itself: that is the topic.
    let topic_code = match &req.open311 {
        Some(o) => Some(o.service_code.clone()),
        None => analysis.topic.as_ref().map(|t| t.code.clone()),
    };
    let mut priority = topic_code
        .as_deref()
        .and_then(loket_text::topics::get)
        .and_then(|t| Priority::parse(t.priority))
        .unwrap_or(Priority::Normaal);
    if analysis.urgent {
        priority = Priority::Spoed;
        events.push((
            "spoed".into(),
            format!("Spoed herkend: {}", analysis.urgency_evidence.join(", ")),
        ));
    }
    if analysis.pii.iter().any(|p| p.kind == "bsn")
        && !matches!(req.channel.as_str(), "webchat" | "email")
    {
        events.push((
            "privacy".into(),
            "Let op: de inwoner heeft mogelijk een BSN openbaar gedeeld".into(),
        ));
    }
    // The SLA clock starts when the resident sent the message (bounded to the past year), not
    // when a delayed channel delivered it.
    let now_ms = loket_store::now_ms();
    let sent_at = req.sent_at.clamp(now_ms - 366 * 86_400_000, now_ms);
    let now = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(sent_at)
        .unwrap_or_else(chrono::Utc::now);
    let s = &target.settings;
    let inbound = NewInbound {
        tenant_code: target.code.clone(),
        channel: req.channel.clone(),
        external_id: req.external_id.clone(),
        author_id: req.author_id.clone(),
        author_name: if req.author_name.trim().is_empty() {
            "Inwoner".into()
        } else {
            req.author_name.trim().to_string()
        },
        text: req.text.clone(),
        sent_at: req.sent_at,
        api_key_id: req.api_key_id,
        widget_token: req.widget_token.clone(),
        priority: priority.as_str().into(),
        topic: topic_code,
        language: Some(analysis.language.clone()),
        first_response_due: Some(
            deadline(&s.hours, &s.sla, priority, SlaKind::FirstResponse, now).timestamp_millis(),
        ),
        resolution_due: Some(
            deadline(&s.hours, &s.sla, priority, SlaKind::Resolution, now).timestamp_millis(),
        ),
        events,
        open311: req.open311.clone(),
        channel_info: req.channel_info.clone(),
        analysis: Some(
            serde_json::json!({
                "gemeente": analysis.gemeente,
                "candidates": analysis.candidates,
                "topic": analysis.topic,
                "sentiment": analysis.sentiment,
                "urgent": analysis.urgent,
                "urgency_evidence": analysis.urgency_evidence,
                "language": analysis.language,
                "pii": analysis.pii.iter().map(|p| p.kind.clone()).collect::<Vec<_>>(),
            })
            .to_string(),
        ),
    };
    // The analysis decides where a *new* conversation goes; an existing one stays where it is,
    // which the store handles by looking up the resident's open conversation at the entry.
    let inbound = NewInbound {
        tenant_code: entry.code.clone(),
        ..inbound
    };
    let ingested = state.store.ingest(&inbound).await?;
    metrics::counter!("loket_intake_messages_total", "channel" => req.channel.clone(), "duplicate" => (!ingested.created).to_string()).increment(1);
    if !ingested.created {
        return Ok(ingested);
    }
    // Route a new national conversation to the municipality found (recorded as a transfer).
    let mut tenant_now = entry.code.clone();
    if ingested.new_conversation && target.code != entry.code {
        let actor = loket_store::conversations::Actor::system();
        let change = loket_store::conversations::Change::Transfer {
            to: target.code.clone(),
            to_name: target.display_name.clone(),
        };
        state
            .store
            .change(
                ingested.conversation_id,
                std::slice::from_ref(&entry.code),
                None,
                &actor,
                &change,
            )
            .await?;
        tenant_now = target.code.clone();
    } else if !ingested.new_conversation
        && let Ok(c) = state
            .store
            .conversation_system(ingested.conversation_id)
            .await
    {
        tenant_now = c.tenant_code;
    }
    if let (Some(lat), Some(lon)) = (req.lat, req.lon)
        && let Err(e) = state
            .store
            .set_location(ingested.conversation_id, lat, lon)
            .await
    {
        tracing::warn!(error = %e, "recording the location failed");
    }
    let message = state.store.message(ingested.message_id).await?;
    state.hub.publish(HubEvent::Message {
        tenant: tenant_now.clone(),
        conversation_id: ingested.conversation_id,
        message: WireMessage {
            id: message.id,
            direction: "in".into(),
            author: message.author_name,
            body: message.body,
            created_at: message.created_at,
            delivery: None,
        },
    });
    state.hub.publish(HubEvent::Conversation {
        tenant: tenant_now.clone(),
        conversation_id: ingested.conversation_id,
        change: if ingested.new_conversation {
            "created".into()
        } else {
            "message".into()
        },
        previous_tenant: None,
    });
    if analysis.urgent {
        state.hub.publish(HubEvent::Alert {
            tenant: tenant_now.clone(),
            conversation_id: ingested.conversation_id,
            text: format!("Spoedbericht: {}", analysis.urgency_evidence.join(", ")),
        });
    }
    if ingested.new_conversation
        && let Err(e) = crate::assign::auto_assign(state, ingested.conversation_id).await
    {
        tracing::warn!(error = %e, "automatic assignment failed");
    }
    if ingested.new_conversation {
        // An Open311 client chose the topic itself; otherwise the classifier's confidence counts.
        let confidence = if req.open311.is_some() {
            1.0
        } else {
            analysis.topic.as_ref().map(|t| t.confidence).unwrap_or(0.0)
        };
        crate::signalen::auto_forward(state, ingested.conversation_id, confidence).await;
    }
    Ok(ingested)
}
