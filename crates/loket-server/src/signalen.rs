//! Forwarding a report (a conversation whose topic is a `melding`) to the municipality's
//! Signalen installation. The forward is queued in the outbox, so failures are retried with
//! backoff and shown next to the note that records it; the id Signalen returns is stored on the
//! conversation.
//!
//! The payload is built by a pure function ([`signal_payload`]) from plain data.

use crate::error::{AppError, AppResult};
use crate::hub::HubEvent;
use crate::outbox::{Payload, Target};
use crate::state::{AppState, Tenant};
use loket_channels::{Outgoing, OutgoingTenant};
use loket_store::conversations::Actor;
use loket_store::{ConversationRow, IdentityRow, MessageRow};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Longest text Signalen accepts in a signal.
const MAX_TEXT_CHARS: usize = 3000;

/// `https://…` (or `http://` on a loopback host, for tests and local installs), no query, no
/// fragment; the path is kept (a Signalen API may live under a prefix).
pub fn valid_base_url(u: &str) -> bool {
    let Ok(p) = url::Url::parse(u) else {
        return false;
    };
    let loopback = matches!(p.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    u.len() <= 300
        && p.host_str().is_some_and(|h| !h.is_empty())
        && (p.scheme() == "https" || (p.scheme() == "http" && loopback))
        && p.query().is_none()
        && p.fragment().is_none()
        && p.username().is_empty()
}

/// Sub-category slug → main category slug, from Signalen's category list.
fn main_categories() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        include_str!("../data/signalen-categories.csv")
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (main, rest) = line.split_once(',')?;
                // Skip the main category's name, which may be quoted and contain commas.
                let rest = if let Some(q) = rest.strip_prefix('"') {
                    q.split_once("\",")?.1
                } else {
                    rest.split_once(',')?.1
                };
                let sub = rest.split(',').next()?;
                Some((sub, main))
            })
            .collect()
    })
}

/// The Signalen sub-category slug of a topic, when the topic is a report that has one.
pub fn sub_category(topic: Option<&str>) -> Option<&'static str> {
    let t = loket_text::topics::get(topic?)?;
    if t.kind != "melding" {
        return None;
    }
    t.signalen_category
}

/// `<base>/signals/v1/public/terms/categories/<main>/sub_categories/<sub>`.
pub fn sub_category_url(base: &str, sub: &str) -> Option<String> {
    let main = main_categories().get(sub)?;
    Some(format!(
        "{}/signals/v1/public/terms/categories/{main}/sub_categories/{sub}",
        base.trim_end_matches('/')
    ))
}

/// What a signal is made of, gathered from the conversation.
#[derive(Debug, Clone, Default)]
pub struct SignalInput {
    pub base_url: String,
    pub sub_category: String,
    /// The resident's messages, oldest first, as written.
    pub texts: Vec<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at_ms: i64,
}

/// The JSON body of `POST /signals/v1/public/signals`. Without coordinates no geometry is sent
/// (never the municipality's centre): the address text, or the fact that the location is
/// unknown, goes into `location.address_text` and the text.
pub fn signal_payload(i: &SignalInput) -> Option<serde_json::Value> {
    let category = sub_category_url(&i.base_url, &i.sub_category)?;
    let mut text = i.texts.join("\n\n");
    let mut location = serde_json::Map::new();
    match (i.lat, i.lon) {
        (Some(lat), Some(lon)) => {
            location.insert(
                "geometrie".into(),
                serde_json::json!({"type": "Point", "coordinates": [lon, lat]}),
            );
            if let Some(a) = &i.address {
                location.insert("address_text".into(), a.clone().into());
            }
        }
        _ => {
            let where_ = match &i.address {
                Some(a) => format!("Locatie volgens de inwoner: {a} (geen coördinaten bekend)"),
                None => "Locatie onbekend: de inwoner gaf geen coördinaten of adres door; staat de plek in de tekst hierboven, dan is dat de enige aanwijzing.".to_string(),
            };
            location.insert(
                "address_text".into(),
                i.address
                    .clone()
                    .unwrap_or_else(|| "onbekend".into())
                    .into(),
            );
            text = format!("{text}\n\n{where_}");
        }
    }
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let started = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(i.created_at_ms)
        .unwrap_or_else(chrono::Utc::now);
    Some(serde_json::json!({
        "text": text,
        "location": location,
        "category": {"sub_category": category},
        "reporter": {"email": i.email, "phone": i.phone, "sharing_allowed": false},
        "incident_date_start": started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "source": "Loket",
    }))
}

/// Contact details the resident gave themselves: the address they e-mailed from, the number
/// they texted from. Nothing else (a chat pseudonym or a social media handle) is sent.
fn reporter(identity: Option<&IdentityRow>) -> (Option<String>, Option<String>) {
    let Some(i) = identity else {
        return (None, None);
    };
    let id = i.external_id.trim();
    match i.channel.as_str() {
        "email" if id.contains('@') => (Some(id.to_string()), None),
        "sms" | "whatsapp" | "telefoon"
            if !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-')) =>
        {
            (None, Some(id.to_string()))
        }
        _ => (None, None),
    }
}

/// Queues the forward of conversation `c` (already scoped to the caller). 409 when it is not a
/// report or was forwarded before; 422 when the municipality has no Signalen address.
pub async fn forward(
    state: &AppState,
    c: &ConversationRow,
    tenants: &[String],
    actor: &Actor,
) -> AppResult<MessageRow> {
    let Some(sub) = sub_category(c.topic.as_deref()) else {
        return Err(AppError::Conflict(
            "alleen een melding over de openbare ruimte kan naar Signalen".into(),
        ));
    };
    let tenant: Tenant = state.tenant(&c.tenant_code).ok_or(AppError::NotFound)?;
    let Some(base) = tenant.settings.signalen_url.clone() else {
        return Err(AppError::Invalid(format!(
            "{} heeft geen Signalen-adres ingesteld",
            tenant.display_name
        )));
    };
    if state.store.signalen_status(c.id).await?.is_some() {
        return Err(AppError::Conflict(
            "dit gesprek is al doorgestuurd naar Signalen".into(),
        ));
    }
    let texts: Vec<String> = state
        .store
        .messages(c.id)
        .await?
        .into_iter()
        .filter(|m| m.direction == "in")
        .map(|m| m.body)
        .collect();
    let (lat, lon, address) = state.store.location(c.id).await?;
    let identity = state
        .store
        .identities(c.contact_id)
        .await?
        .into_iter()
        .find(|i| i.id == c.identity_id);
    let (email, phone) = reporter(identity.as_ref());
    let input = SignalInput {
        base_url: base.clone(),
        sub_category: sub.to_string(),
        texts,
        lat,
        lon,
        address,
        email,
        phone,
        created_at_ms: c.created_at,
    };
    let signal = signal_payload(&input)
        .ok_or_else(|| AppError::Conflict(format!("onbekende Signalen-categorie '{sub}'")))?;
    let payload = Payload {
        target: Target::Signalen {
            endpoint: format!(
                "{}{}",
                base.trim_end_matches('/'),
                loket_channels::signalen::PUBLIC_SIGNALS_PATH
            ),
            signal,
        },
        message: Outgoing {
            conversation_id: c.id,
            message_id: 0,
            recipient: String::new(),
            text: String::new(),
            tenant: OutgoingTenant {
                code: tenant.code.clone(),
                name: tenant.name.clone(),
                display_name: tenant.display_name.clone(),
                primary_color: tenant.settings.primary_color.clone(),
                logo_url: tenant.settings.logo_url.clone(),
            },
            agent: actor.name.clone(),
            sent_at_ms: loket_store::now_ms(),
        },
    };
    let located = if lat.is_some() && lon.is_some() {
        "met coördinaten"
    } else {
        "zonder coördinaten: de locatie staat als tekst in de melding"
    };
    let note = format!("Doorgestuurd naar Signalen (categorie {sub}), {located}.");
    let m = state
        .store
        .add_signalen_forward(
            c.id,
            tenants,
            actor,
            &note,
            &serde_json::to_string(&payload).map_err(anyhow::Error::from)?,
        )
        .await?;
    state.outbox_wake.notify_one();
    state.hub.publish(HubEvent::Message {
        tenant: c.tenant_code.clone(),
        conversation_id: c.id,
        message: crate::service::wire(state, &m),
    });
    state.hub.publish(HubEvent::Conversation {
        tenant: c.tenant_code.clone(),
        conversation_id: c.id,
        change: "signalen".into(),
        previous_tenant: None,
    });
    Ok(m)
}

/// The tenant rule: forward a new report automatically when its topic was recognised with at
/// least the configured confidence and its location is known (Signalen needs a point; a report
/// without one is left for an agent to forward by hand with the address in the text).
pub async fn auto_forward(state: &AppState, conversation_id: i64, confidence: f64) {
    let Ok(c) = state.store.conversation_system(conversation_id).await else {
        return;
    };
    let Some(t) = state.tenant(&c.tenant_code) else {
        return;
    };
    let due = matches!(t.settings.signalen_auto_min_confidence, Some(min) if confidence >= min)
        && t.settings.signalen_url.is_some()
        && sub_category(c.topic.as_deref()).is_some();
    if !due {
        return;
    }
    match state.store.location(c.id).await {
        Ok((Some(_), Some(_), _)) => {}
        _ => return,
    }
    let tenants = [c.tenant_code.clone()];
    if let Err(e) = forward(state, &c, &tenants, &Actor::system()).await {
        tracing::warn!(conversation = conversation_id, error = %e, "automatic Signalen forward failed");
    }
}

/// How the conversation page shows a forward: "SIG-…" for the id Signalen returned.
pub fn display_id(signal_id: &str) -> String {
    if signal_id.starts_with("SIG-") {
        signal_id.to_string()
    } else {
        format!("SIG-{signal_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SignalInput {
        SignalInput {
            base_url: "https://meldingen.example.nl/".into(),
            sub_category: "straatverlichting-openbare-klok".into(),
            texts: vec!["De lantaarnpaal bij Kerkstraat 12 is kapot.".into()],
            created_at_ms: 1_700_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn category_url_uses_main_slug() {
        assert_eq!(
            sub_category_url("https://s.nl", "straatverlichting-openbare-klok").as_deref(),
            Some(
                "https://s.nl/signals/v1/public/terms/categories/wegen-verkeer-straatmeubilair/sub_categories/straatverlichting-openbare-klok"
            )
        );
        assert_eq!(
            sub_category_url("https://s.nl", "container-is-vol").as_deref(),
            Some(
                "https://s.nl/signals/v1/public/terms/categories/afval/sub_categories/container-is-vol"
            )
        );
        assert!(sub_category_url("https://s.nl", "bestaat-niet").is_none());
    }

    #[test]
    fn every_topic_category_is_known_to_signalen() {
        for line in include_str!("../../loket-text/data/topics.tsv")
            .lines()
            .skip(1)
        {
            let code = line.split('\t').next().unwrap_or("");
            if let Some(sub) = loket_text::topics::get(code).and_then(|t| t.signalen_category) {
                assert!(main_categories().contains_key(sub), "{code}: {sub}");
            }
        }
    }

    #[test]
    fn payload_with_coordinates_has_a_point() {
        let p = signal_payload(&SignalInput {
            lat: Some(52.09),
            lon: Some(5.12),
            ..input()
        })
        .expect("payload");
        assert_eq!(p["location"]["geometrie"]["coordinates"][0], 5.12);
        assert_eq!(p["location"]["geometrie"]["coordinates"][1], 52.09);
        assert_eq!(p["text"], "De lantaarnpaal bij Kerkstraat 12 is kapot.");
        assert_eq!(p["source"], "Loket");
        assert_eq!(p["reporter"]["sharing_allowed"], false);
        assert!(p["reporter"]["email"].is_null());
        assert_eq!(p["incident_date_start"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn payload_without_coordinates_says_so() {
        let p = signal_payload(&input()).expect("payload");
        assert!(p["location"].get("geometrie").is_none());
        assert_eq!(p["location"]["address_text"], "onbekend");
        assert!(
            p["text"]
                .as_str()
                .unwrap_or("")
                .contains("Locatie onbekend")
        );
    }

    #[test]
    fn base_urls() {
        assert!(valid_base_url("https://meldingen.utrecht.nl"));
        assert!(valid_base_url("http://127.0.0.1:8080"));
        assert!(!valid_base_url("http://meldingen.utrecht.nl"));
        assert!(!valid_base_url("ftp://x.nl"));
        assert!(!valid_base_url("https://x.nl/?a=1"));
    }
}
