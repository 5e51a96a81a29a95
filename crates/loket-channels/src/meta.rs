//! Meta channel adapter: WhatsApp Cloud API, Messenger and Instagram (being built; see issue 4).

use crate::DeliveryError;
use crate::adapter::{AccountConfig, Adapter, ChannelError, ChannelKind, Field, Reply, Sent};
use async_trait::async_trait;

pub const WHATSAPP_FIELDS: &[Field] = &[];
pub const PAGE_FIELDS: &[Field] = &[];

pub struct MetaAdapter {
    kind: ChannelKind,
}

impl MetaAdapter {
    pub fn new(kind: ChannelKind, _config: &AccountConfig) -> Result<Self, ChannelError> {
        Ok(Self { kind })
    }
}

#[async_trait]
impl Adapter for MetaAdapter {
    fn kind(&self) -> ChannelKind {
        self.kind
    }
    async fn test_connection(&self) -> Result<String, ChannelError> {
        Err(ChannelError::unsupported("nog niet beschikbaar"))
    }
    async fn send(&self, _reply: &Reply) -> Result<Sent, DeliveryError> {
        Err(DeliveryError::fatal("nog niet beschikbaar"))
    }
}
