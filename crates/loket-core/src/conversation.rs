//! The conversation state machine, priorities, channels and delivery states.

use serde::{Deserialize, Serialize};

/// `nieuw → open → wachtend (op inwoner) → opgelost → gesloten`; a new inbound message reopens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Nieuw,
    Open,
    Wachtend,
    Opgelost,
    Gesloten,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("een gesprek met status '{from}' kan niet naar '{to}'")]
pub struct TransitionError {
    pub from: &'static str,
    pub to: &'static str,
}

impl ConversationState {
    pub const ALL: [ConversationState; 5] = [
        Self::Nieuw,
        Self::Open,
        Self::Wachtend,
        Self::Opgelost,
        Self::Gesloten,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nieuw => "nieuw",
            Self::Open => "open",
            Self::Wachtend => "wachtend",
            Self::Opgelost => "opgelost",
            Self::Gesloten => "gesloten",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_nl(self) -> &'static str {
        match self {
            Self::Nieuw => "Nieuw",
            Self::Open => "Open",
            Self::Wachtend => "Wacht op inwoner",
            Self::Opgelost => "Opgelost",
            Self::Gesloten => "Gesloten",
        }
    }

    /// Whether an agent may move a conversation from `self` to `to` by hand.
    pub fn can_transition(self, to: Self) -> bool {
        use ConversationState::*;
        matches!(
            (self, to),
            (Nieuw, Open)
                | (Nieuw, Opgelost)
                | (Nieuw, Gesloten)
                | (Open, Wachtend)
                | (Open, Opgelost)
                | (Open, Gesloten)
                | (Wachtend, Open)
                | (Wachtend, Opgelost)
                | (Wachtend, Gesloten)
                | (Opgelost, Open)
                | (Opgelost, Gesloten)
        )
    }

    pub fn transition(self, to: Self) -> Result<Self, TransitionError> {
        if self.can_transition(to) {
            Ok(to)
        } else {
            Err(TransitionError {
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }

    /// State after a resident writes again: waiting, resolved and closed conversations reopen.
    pub fn on_inbound(self) -> Self {
        match self {
            Self::Nieuw => Self::Nieuw,
            _ => Self::Open,
        }
    }

    /// State after an agent replies: a new conversation is then open and waits on the resident.
    pub fn on_agent_reply(self) -> Self {
        match self {
            Self::Nieuw | Self::Open => Self::Wachtend,
            s => s,
        }
    }

    /// Whether the conversation still needs work (counts for backlog and agent capacity).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Nieuw | Self::Open)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Laag,
    Normaal,
    Hoog,
    Spoed,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Laag, Self::Normaal, Self::Hoog, Self::Spoed];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Laag => "laag",
            Self::Normaal => "normaal",
            Self::Hoog => "hoog",
            Self::Spoed => "spoed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Sort key: higher first in queues.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Webchat,
    Api,
    Email,
    Mastodon,
    Whatsapp,
    Messenger,
    Instagram,
    Open311,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Self::Webchat,
        Self::Api,
        Self::Email,
        Self::Mastodon,
        Self::Whatsapp,
        Self::Messenger,
        Self::Instagram,
        Self::Open311,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webchat => "webchat",
            Self::Api => "api",
            Self::Email => "email",
            Self::Mastodon => "mastodon",
            Self::Whatsapp => "whatsapp",
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
            Self::Open311 => "open311",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Webchat => "Webchat",
            Self::Api => "API",
            Self::Email => "E-mail",
            Self::Mastodon => "Mastodon",
            Self::Whatsapp => "WhatsApp",
            Self::Messenger => "Messenger",
            Self::Instagram => "Instagram",
            Self::Open311 => "Open311",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the resident.
    In,
    /// A reply to the resident.
    Out,
    /// An internal note, never sent.
    Note,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
            Self::Note => "note",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Self::In),
            "out" => Some(Self::Out),
            "note" => Some(Self::Note),
            _ => None,
        }
    }
}

/// Delivery state of an outgoing message, shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Queued in the outbox, not yet accepted by the channel.
    Wachtrij,
    Verzonden,
    Afgeleverd,
    Mislukt,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wachtrij => "wachtrij",
            Self::Verzonden => "verzonden",
            Self::Afgeleverd => "afgeleverd",
            Self::Mislukt => "mislukt",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wachtrij" => Some(Self::Wachtrij),
            "verzonden" => Some(Self::Verzonden),
            "afgeleverd" => Some(Self::Afgeleverd),
            "mislukt" => Some(Self::Mislukt),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConversationState::*;
    use super::*;

    #[test]
    fn state_machine() {
        assert!(Nieuw.transition(Open).is_ok());
        assert!(Gesloten.transition(Open).is_err());
        assert!(Nieuw.transition(Wachtend).is_err());
        assert_eq!(Gesloten.on_inbound(), Open);
        assert_eq!(Opgelost.on_inbound(), Open);
        assert_eq!(Nieuw.on_inbound(), Nieuw);
        assert_eq!(Open.on_agent_reply(), Wachtend);
        for s in ConversationState::ALL {
            assert!(!s.can_transition(s), "{s:?} to itself");
            assert_eq!(ConversationState::parse(s.as_str()), Some(s));
        }
    }
}
