//! The outbox worker: delivers queued replies on their channel, with backoff on failure, and
//! publishes each delivery state so the agent sees it next to the message.

use crate::hub::HubEvent;
use crate::state::AppState;
use loket_channels::{DeliveryError, Outgoing};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a reply in the outbox goes. (Klantinteracties registrations are outbox items too, on
/// channel `klantinteracties`: see [`crate::klantinteracties`].)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The resident's chat widget: the reply is pushed over the hub and fetched on reconnect.
    Webchat,
    /// The generic API channel: POST to the API key's webhook.
    Webhook { api_key_id: i64 },
    /// The municipality's Signalen installation: POST the signal; the id it returns is stored
    /// on the conversation.
    Signalen {
        endpoint: String,
        signal: serde_json::Value,
    },
    /// A resident channel account (e-mail, Mastodon, Meta): the adapter sends the reply.
    Channel {
        account_id: i64,
        reply: loket_channels::adapter::Reply,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    pub target: Target,
    pub message: Outgoing,
}

/// Runs until the process ends: wakes on new items or every second.
pub async fn run(state: AppState) {
    loop {
        match state.store.claim_outbox(20, 60_000).await {
            Ok(items) => {
                for item in items {
                    deliver(&state, item).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "outbox claim failed"),
        }
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn deliver(state: &AppState, item: loket_store::OutboxRow) {
    if item.channel == crate::klantinteracties::CHANNEL {
        let result = crate::klantinteracties::deliver(state, &item).await;
        crate::klantinteracties::finish(state, &item, result).await;
        return;
    }
    let mut payload: Payload = match serde_json::from_str(&item.payload) {
        Ok(p) => p,
        Err(e) => {
            let _ = state
                .store
                .outbox_failed(
                    item.id,
                    item.message_id,
                    loket_store::outbox::MAX_ATTEMPTS,
                    &format!("onleesbare outbox-regel: {e}"),
                )
                .await;
            return;
        }
    };
    payload.message.message_id = item.message_id;
    let tenant = payload.message.tenant.code.clone();
    let result: Result<bool, DeliveryError> = match &payload.target {
        Target::Webchat => Ok(true),
        Target::Webhook { api_key_id } => match state.store.api_key_by_id(*api_key_id).await {
            Ok(k) => match (k.webhook_url, k.webhook_secret) {
                (Some(url), Some(secret)) if !url.is_empty() => state
                    .webhooks
                    .deliver(&url, &secret, &payload.message)
                    .await
                    .map(|_| true),
                _ => Err(DeliveryError::fatal(
                    "geen webhook ingesteld voor dit API-kanaal",
                )),
            },
            Err(_) => Err(DeliveryError::fatal("API-sleutel bestaat niet meer")),
        },
        Target::Signalen { endpoint, signal } => {
            match state.signalen.post_signal(endpoint, signal).await {
                Ok(id) => {
                    // The signal exists now: a failure to record its id must not send it twice.
                    if let Some(id) = id
                        && let Err(e) = state.store.set_signalen_id(item.conversation_id, &id).await
                    {
                        tracing::warn!(error = %e, conversation = item.conversation_id, "recording the Signalen id failed");
                    }
                    Ok(true)
                }
                Err(e) => Err(e),
            }
        }
        Target::Channel { account_id, reply } => {
            crate::channels::deliver(
                state,
                *account_id,
                reply.clone(),
                &payload.message.recipient,
                item.message_id,
            )
            .await
        }
    };
    record(state, &item, tenant, result).await;
}

/// Records the outcome of a delivery attempt (delivered, retry later, or failed for good) and
/// tells the tenant's agents; shared by every kind of outbox item.
pub(crate) async fn record(
    state: &AppState,
    item: &loket_store::OutboxRow,
    tenant: String,
    result: Result<bool, DeliveryError>,
) {
    let state_label = match result {
        Ok(delivered) => {
            if let Err(e) = state
                .store
                .outbox_delivered(item.id, item.message_id, delivered)
                .await
            {
                tracing::warn!(error = %e, "recording delivery failed");
                return;
            }
            metrics::counter!("loket_outbox_delivered_total").increment(1);
            if delivered { "afgeleverd" } else { "verzonden" }
        }
        Err(e) => {
            let attempts = if e.retryable {
                item.attempts
            } else {
                loket_store::outbox::MAX_ATTEMPTS
            };
            tracing::info!(outbox = item.id, channel = %item.channel, attempt = item.attempts + 1, error = %e.message, "delivery failed");
            metrics::counter!("loket_outbox_failures_total").increment(1);
            match state
                .store
                .outbox_failed(item.id, item.message_id, attempts, &e.message)
                .await
            {
                Ok(true) => "mislukt",
                Ok(false) => "wachtrij",
                Err(err) => {
                    tracing::warn!(error = %err, "recording failure failed");
                    return;
                }
            }
        }
    };
    state.hub.publish(HubEvent::Delivery {
        tenant,
        conversation_id: item.conversation_id,
        message_id: item.message_id,
        state: state_label.into(),
    });
}
