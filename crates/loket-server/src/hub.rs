//! The live hub: every change that a screen should show without reloading is published here and
//! fanned out to WebSocket subscribers (agents' screens filtered by tenant, residents' widgets
//! by conversation). With `nats_url` set, events also travel between nodes over NATS.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

/// A message as a screen shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct WireMessage {
    pub id: i64,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub created_at: i64,
    pub delivery: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubEvent {
    /// A conversation was created, received a message, changed, or moved between tenants.
    Conversation {
        tenant: String,
        conversation_id: i64,
        change: String,
        previous_tenant: Option<String>,
    },
    /// A message (inbound, reply or note) in a conversation.
    Message {
        tenant: String,
        conversation_id: i64,
        message: WireMessage,
    },
    /// Someone is typing a reply (agent) — used for the double-reply warning and the widget.
    Typing {
        tenant: String,
        conversation_id: i64,
        user_id: i64,
        name: String,
        active: bool,
    },
    /// A delivery state changed.
    Delivery {
        tenant: String,
        conversation_id: i64,
        message_id: i64,
        state: String,
    },
    /// Something a supervisor must see now (e.g. an urgent message).
    Alert {
        tenant: String,
        conversation_id: i64,
        text: String,
    },
}

impl HubEvent {
    pub fn tenant(&self) -> &str {
        match self {
            HubEvent::Conversation { tenant, .. }
            | HubEvent::Message { tenant, .. }
            | HubEvent::Typing { tenant, .. }
            | HubEvent::Delivery { tenant, .. }
            | HubEvent::Alert { tenant, .. } => tenant,
        }
    }
    pub fn conversation_id(&self) -> i64 {
        match self {
            HubEvent::Conversation {
                conversation_id, ..
            }
            | HubEvent::Message {
                conversation_id, ..
            }
            | HubEvent::Typing {
                conversation_id, ..
            }
            | HubEvent::Delivery {
                conversation_id, ..
            }
            | HubEvent::Alert {
                conversation_id, ..
            } => *conversation_id,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: HubEvent,
}

const SUBJECT: &str = "loket.events";

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<HubEvent>>,
    node: String,
    nats: Arc<std::sync::OnceLock<async_nats::Client>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Hub {
            tx,
            node: uuid::Uuid::new_v4().simple().to_string(),
            nats: Arc::new(std::sync::OnceLock::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HubEvent>> {
        self.tx.subscribe()
    }

    /// Publishes locally and, when connected, to the other nodes.
    pub fn publish(&self, event: HubEvent) {
        if let Some(nats) = self.nats.get()
            && let Ok(body) = serde_json::to_vec(&Envelope {
                node: self.node.clone(),
                event: event.clone(),
            })
        {
            let nats = nats.clone();
            tokio::spawn(async move {
                if let Err(e) = nats.publish(SUBJECT, body.into()).await {
                    tracing::warn!(error = %e, "publishing to NATS failed");
                }
            });
        }
        metrics::counter!("loket_hub_events_total").increment(1);
        let _ = self.tx.send(Arc::new(event));
    }

    /// Connects to NATS and forwards other nodes' events into this node's hub.
    pub async fn connect_nats(&self, url: &str) -> anyhow::Result<()> {
        let client = async_nats::connect(url).await?;
        let mut sub = client.subscribe(SUBJECT).await?;
        let _ = self.nats.set(client);
        let tx = self.tx.clone();
        let node = self.node.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            while let Some(msg) = sub.next().await {
                match serde_json::from_slice::<Envelope>(&msg.payload) {
                    Ok(env) if env.node != node => {
                        let _ = tx.send(Arc::new(env.event));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "malformed event from NATS"),
                }
            }
        });
        Ok(())
    }
}
