//! Channel adapters: how replies leave Loket. Inbound adapters normalise into
//! [`Inbound`]; outbound adapters deliver an [`Outgoing`] and report a [`DeliveryError`] that the
//! outbox turns into a retry.

pub mod adapter;
pub mod email;
mod html;
mod http;
pub mod mastodon;
pub mod meta;
pub mod signalen;
#[cfg(feature = "standin")]
pub mod standin;
pub mod webhook;

pub use adapter::{Adapter, ChannelKind};

use serde::{Deserialize, Serialize};

/// A normalised inbound message, whatever channel it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbound {
    pub external_id: String,
    pub channel: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub sent_at_ms: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A reply as it leaves Loket: always in the municipality's name, never the pool's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outgoing {
    pub conversation_id: i64,
    pub message_id: i64,
    /// The resident's identity on the channel.
    pub recipient: String,
    pub text: String,
    pub tenant: OutgoingTenant,
    pub agent: String,
    pub sent_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutgoingTenant {
    pub code: String,
    pub name: String,
    pub display_name: String,
    pub primary_color: String,
    pub logo_url: Option<String>,
}

/// Why a delivery failed; `retryable` decides between backoff and giving up at once.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    pub retryable: bool,
}

impl DeliveryError {
    pub fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}
