//! Channel adapters. Resident channels (e-mail, Mastodon, Meta) implement the one
//! [`Adapter`] trait: inbound they normalise into [`adapter::InboundMessage`], outbound they
//! deliver an [`adapter::Reply`]. The generic webhook and Signalen clients deliver an
//! [`Outgoing`]. Every failure is a [`DeliveryError`] that the outbox turns into a retry or not.

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
