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

/// Everything a tenant admin can change: brand, tone, hours, service levels and pool handover.
/// Stored as JSON so that adding a setting needs no migration; unknown or missing fields fall
/// back to defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    pub primary_color: String,
    pub accent_color: String,
    pub logo_url: Option<String>,
    /// Appended to every reply, in the municipality's own words.
    pub signature: String,
    pub greeting_nl: String,
    pub greeting_en: String,
    pub hours: crate::calendar::WeekSchedule,
    pub sla: crate::sla::SlaTargets,
    pub handover: PoolHandover,
    /// Automatic round-robin assignment among online agents.
    pub auto_assign: bool,
    /// Base URL of the municipality's Signalen installation (`https://meldingen.example.nl`);
    /// `None` when reports are not forwarded.
    pub signalen_url: Option<String>,
    /// Forward new reports (`melding` topics with a Signalen category) automatically when the
    /// topic confidence is at least this (0–1); `None` forwards only by hand.
    pub signalen_auto_min_confidence: Option<f64>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            primary_color: "#154273".into(),
            accent_color: "#ffffff".into(),
            logo_url: None,
            signature: String::new(),
            greeting_nl: "Welkom! Stel hier uw vraag of doe een melding. We helpen u graag.".into(),
            greeting_en:
                "Welcome! Ask your question or report a problem here. We are happy to help.".into(),
            hours: crate::calendar::WeekSchedule::default_office(),
            sla: crate::sla::SlaTargets::default(),
            handover: PoolHandover::Never,
            auto_assign: true,
            signalen_url: None,
            signalen_auto_min_confidence: None,
        }
    }
}

impl TenantSettings {
    /// Parses stored JSON; a damaged blob yields defaults rather than locking a tenant out.
    pub fn from_json(s: &str) -> Self {
        serde_json::from_str(s).unwrap_or_default()
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Checks a CSS hex colour (`#rgb` or `#rrggbb`), the only form the UI accepts from admins.
pub fn valid_color(s: &str) -> bool {
    let h = s.strip_prefix('#').unwrap_or("");
    (h.len() == 3 || h.len() == 6) && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Relative luminance contrast ratio between two `#rrggbb` colours (WCAG 2.1 definition).
pub fn contrast_ratio(a: &str, b: &str) -> f64 {
    fn lum(c: &str) -> f64 {
        let h = c.trim_start_matches('#');
        let h: String = if h.len() == 3 {
            h.chars().flat_map(|c| [c, c]).collect()
        } else {
            h.to_string()
        };
        let ch = |i: usize| {
            let v =
                u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f64 / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4)
    }
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Text colour (white or near-black) readable on `background` at WCAG AA.
pub fn text_color_on(background: &str) -> &'static str {
    if contrast_ratio(background, "#ffffff") >= 4.5 {
        "#ffffff"
    } else {
        "#1a1a1a"
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    #[test]
    fn settings_roundtrip_and_defaults() {
        let s = TenantSettings::default();
        assert_eq!(TenantSettings::from_json(&s.to_json()), s);
        assert_eq!(TenantSettings::from_json("not json"), s);
        let partial = TenantSettings::from_json(r##"{"primary_color":"#c8102e"}"##);
        assert_eq!(partial.primary_color, "#c8102e");
        assert_eq!(partial.hours, s.hours);
    }

    #[test]
    fn colours() {
        assert!(valid_color("#c8102e") && valid_color("#fff"));
        assert!(!valid_color("red") && !valid_color("#12345g") && !valid_color("#1234"));
        assert!((contrast_ratio("#000000", "#ffffff") - 21.0).abs() < 0.01);
        assert_eq!(text_color_on("#154273"), "#ffffff");
        assert_eq!(text_color_on("#ffdd00"), "#1a1a1a");
    }

    #[test]
    fn handover() {
        assert!(!PoolHandover::Never.pool_serves(false, 100));
        assert!(PoolHandover::OutsideHours.pool_serves(false, 0));
        assert!(!PoolHandover::OutsideHours.pool_serves(true, 0));
        assert!(PoolHandover::Backlog { n: 5 }.pool_serves(true, 6));
        assert!(!PoolHandover::Backlog { n: 5 }.pool_serves(true, 5));
    }
}
#[cfg(test)]
mod handover_serde {
    #[test]
    fn roundtrip() {
        for h in [
            super::PoolHandover::Never,
            super::PoolHandover::Backlog { n: 3 },
        ] {
            let s = super::TenantSettings {
                handover: h,
                ..Default::default()
            };
            let j = s.to_json();
            assert_eq!(super::TenantSettings::from_json(&j).handover, h, "{j}");
        }
    }
}
