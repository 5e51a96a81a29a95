//! Roles a user holds per tenant. A pooled agent holds `agent` in several tenants.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Supervisor,
    Woordvoerder,
    Beheerder,
    Coordinator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Agent,
        Role::Supervisor,
        Role::Woordvoerder,
        Role::Beheerder,
        Role::Coordinator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Woordvoerder => "woordvoerder",
            Role::Beheerder => "beheerder",
            Role::Coordinator => "coordinator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may handle conversations (read, reply, assign).
    pub fn handles_conversations(self) -> bool {
        true
    }

    /// Whether this role may change the tenant's settings (branding, hours, SLA, teams, users, templates).
    pub fn administers(self) -> bool {
        matches!(self, Role::Beheerder)
    }

    /// Whether this role may move conversations between tenants and hand inboxes to pools.
    pub fn coordinates(self) -> bool {
        matches!(self, Role::Coordinator | Role::Supervisor | Role::Beheerder)
    }
}
