//! Mastodon channel adapter (being built; see issue 4).

use crate::DeliveryError;
use crate::adapter::{AccountConfig, Adapter, ChannelError, ChannelKind, Field, Reply, Sent};
use async_trait::async_trait;

pub const FIELDS: &[Field] = &[];

pub struct MastodonAdapter {}

impl MastodonAdapter {
    pub fn new(_config: &AccountConfig) -> Result<Self, ChannelError> {
        Ok(Self {})
    }
}

#[async_trait]
impl Adapter for MastodonAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Mastodon
    }
    async fn test_connection(&self) -> Result<String, ChannelError> {
        Err(ChannelError::unsupported("nog niet beschikbaar"))
    }
    async fn send(&self, _reply: &Reply) -> Result<Sent, DeliveryError> {
        Err(DeliveryError::fatal("nog niet beschikbaar"))
    }
}
