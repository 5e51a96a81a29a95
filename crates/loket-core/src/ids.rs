//! Validated newtypes at the edges: a value that exists is valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("ongeldige tenantcode: {0:?}")]
    TenantCode(String),
    #[error("ongeldig e-mailadres")]
    Email,
}

/// Code of a tenant: `GM0344` for a municipality (CBS code), `PV26` for the regional pool of a
/// province (CBS province code), `NL` for the national entry (MijnGemeente).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantCode(String);

impl TenantCode {
    pub const NATIONAL: &'static str = "NL";

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let up = s.trim().to_ascii_uppercase();
        let ok = up == Self::NATIONAL
            || (up.len() == 6
                && up.starts_with("GM")
                && up[2..].bytes().all(|b| b.is_ascii_digit()))
            || (up.len() == 4
                && up.starts_with("PV")
                && up[2..].bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Self(up))
        } else {
            Err(ParseError::TenantCode(s.chars().take(40).collect()))
        }
    }

    pub fn national() -> Self {
        Self(Self::NATIONAL.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> crate::TenantKind {
        match &self.0[..2] {
            "GM" => crate::TenantKind::Gemeente,
            "PV" => crate::TenantKind::Regio,
            _ => crate::TenantKind::Nationaal,
        }
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for TenantCode {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<TenantCode> for String {
    fn from(c: TenantCode) -> String {
        c.0
    }
}

/// A syntactically plausible e-mail address, lower-cased. Full RFC 5322 validation is pointless:
/// the only real test is whether mail arrives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_lowercase();
        let (local, domain) = s.split_once('@').ok_or(ParseError::Email)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && s.len() <= 254
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if ok {
            Ok(Self(s))
        } else {
            Err(ParseError::Email)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_codes() {
        assert_eq!(TenantCode::parse("gm0344").unwrap().as_str(), "GM0344");
        assert_eq!(
            TenantCode::parse("PV26").unwrap().kind(),
            crate::TenantKind::Regio
        );
        assert_eq!(
            TenantCode::parse("NL").unwrap().kind(),
            crate::TenantKind::Nationaal
        );
        for bad in [
            "",
            "GM344",
            "GM03444",
            "XX0344",
            "GMabcd",
            "PV2",
            "GM0344'--",
        ] {
            assert!(TenantCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Anna@Utrecht.NL ").unwrap().as_str(),
            "anna@utrecht.nl"
        );
        for bad in ["", "anna", "anna@", "@x.nl", "a b@x.nl", "a@nl", "a@x.nl."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
