//! Tenants: municipalities, regional pools and the national entry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantKind {
    Gemeente,
    Regio,
    Nationaal,
}

impl TenantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::Gemeente => "gemeente",
            TenantKind::Regio => "regio",
            TenantKind::Nationaal => "nationaal",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "gemeente" => Some(Self::Gemeente),
            "regio" => Some(Self::Regio),
            "nationaal" => Some(Self::Nationaal),
            _ => None,
        }
    }
}

/// When a municipality hands its inbox to its regional pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PoolHandover {
    /// The municipality answers its own inbox.
    Never,
    /// The pool answers everything.
    Always,
    /// The pool answers outside the municipality's business hours.
    OutsideHours,
    /// The pool also answers when more than `n` conversations wait.
    Backlog { n: u32 },
}

impl PoolHandover {
    /// Whether the pool should see the municipality's queue right now.
    pub fn pool_serves(self, within_business_hours: bool, waiting: u32) -> bool {
        match self {
            PoolHandover::Never => false,
            PoolHandover::Always => true,
            PoolHandover::OutsideHours => !within_business_hours,
            PoolHandover::Backlog { n } => waiting > n,
        }
    }
}
