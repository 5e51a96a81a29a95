//! The anonymous benchmark: one municipality's key figure next to the distribution among
//! comparable municipalities, without giving away anybody else's figure.
//!
//! For one figure (say "median first-response time, 30 days") the caller passes every
//! municipality's value, and the asking municipality gets back, for two comparison groups —
//! **the same size class** ([`SizeClass`]) and **all municipalities** — the number of
//! municipalities in the group, the median and the first and third quartile (the one quantile
//! method of [`crate::stats`]), its own rank, and the municipalities that opted in to be named.
//!
//! **Privacy rules** (the asker may know which municipalities use Loket and how many inhabitants
//! they have, so group membership itself is not secret):
//! 1. Another municipality's code or value appears in the result only if it opted in to be
//!    named, and then only inside a group that is shown.
//! 2. A group is shown only when at least [`MIN_OTHERS`] (5) *other* municipalities have a value
//!    in it; the asker itself does not count towards the five. Otherwise the group carries no
//!    number at all, only the reason "te weinig vergelijkbare gemeenten".
//! 3. A group in which some, but fewer than five, of the other municipalities stay anonymous is
//!    suppressed the same way. With all but one or two values named, the median and quartiles
//!    would pin down the anonymous values, and who they belong to. A group in which every other
//!    municipality opted in has nothing left to hide and is shown.
//!
//! Aggregates can equal a single municipality's value (the median of an odd group is one), but
//! by rules 2 and 3 such a value is always one of at least five anonymous values.
//!
//! Only municipalities (`GM…` codes) take part; pool and national tenants are ignored, and so
//! are a second entry for the same code and values that are not finite (no measurement).

use crate::stats::{Quartiles, sorted_finite};
use crate::{TenantCode, TenantKind};
use serde::Serialize;
use std::collections::HashSet;

/// A group needs at least this many municipalities besides the asker to be shown.
pub const MIN_OTHERS: usize = 5;

/// One municipality's value of the figure being compared.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerValue {
    pub tenant_code: TenantCode,
    /// Inhabitants as configured for the tenant (seeded from [`crate::inhabitants()`]);
    /// `None` keeps the municipality out of every size class.
    pub inhabitants: Option<u32>,
    /// The figure; a non-finite value means "not measured" and is left out.
    pub value: f64,
    /// The municipality agreed to be shown by name, with its value, to other municipalities.
    pub opted_in_named: bool,
}

/// Municipality size classes by inhabitants: CBS's *gemeentegrootteklassen*, with CBS's two
/// smallest classes ("minder dan 5 000" and "5 000 tot 10 000") merged into one, because the
/// few municipalities under 5 000 (the Wadden islands, Rozendaal) could never form a group of
/// five. CBS condenses its eight classes the same way in some tables.
///
/// Source: CBS, *Gemeentegrootte en stedelijkheid*
/// (cbs.nl/nl-nl/onze-diensten/methoden/classificaties/overig/gemeentegrootte-en-stedelijkheid),
/// and the column "Gemeentegrootte" of StatLine table *Gebieden in Nederland* (for 2025: 86059NED).
/// As in CBS's labels ("20 000 tot 50 000 inwoners"), "tot" excludes the upper edge: a
/// municipality of exactly 50 000 inhabitants is in "50.000 tot 100.000".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    /// 0 – 9 999 (CBS classes 1 and 2).
    MinderDan10000,
    /// 10 000 – 19 999 (CBS class 3).
    Van10000Tot20000,
    /// 20 000 – 49 999 (CBS class 4).
    Van20000Tot50000,
    /// 50 000 – 99 999 (CBS class 5).
    Van50000Tot100000,
    /// 100 000 – 149 999 (CBS class 6).
    Van100000Tot150000,
    /// 150 000 – 249 999 (CBS class 7).
    Van150000Tot250000,
    /// 250 000 and more (CBS class 8).
    Vanaf250000,
}

impl SizeClass {
    /// All classes, smallest first.
    pub const ALL: [SizeClass; 7] = [
        SizeClass::MinderDan10000,
        SizeClass::Van10000Tot20000,
        SizeClass::Van20000Tot50000,
        SizeClass::Van50000Tot100000,
        SizeClass::Van100000Tot150000,
        SizeClass::Van150000Tot250000,
        SizeClass::Vanaf250000,
    ];

    /// The class of a municipality with this many inhabitants.
    pub fn of(inhabitants: u32) -> Self {
        match inhabitants {
            0..10_000 => Self::MinderDan10000,
            10_000..20_000 => Self::Van10000Tot20000,
            20_000..50_000 => Self::Van20000Tot50000,
            50_000..100_000 => Self::Van50000Tot100000,
            100_000..150_000 => Self::Van100000Tot150000,
            150_000..250_000 => Self::Van150000Tot250000,
            _ => Self::Vanaf250000,
        }
    }

    /// Lower edge (inclusive) and upper edge (exclusive; `None` for the top class).
    pub fn bounds(self) -> (u32, Option<u32>) {
        match self {
            Self::MinderDan10000 => (0, Some(10_000)),
            Self::Van10000Tot20000 => (10_000, Some(20_000)),
            Self::Van20000Tot50000 => (20_000, Some(50_000)),
            Self::Van50000Tot100000 => (50_000, Some(100_000)),
            Self::Van100000Tot150000 => (100_000, Some(150_000)),
            Self::Van150000Tot250000 => (150_000, Some(250_000)),
            Self::Vanaf250000 => (250_000, None),
        }
    }

    /// Dutch label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::MinderDan10000 => "minder dan 10.000 inwoners",
            Self::Van10000Tot20000 => "10.000 tot 20.000 inwoners",
            Self::Van20000Tot50000 => "20.000 tot 50.000 inwoners",
            Self::Van50000Tot100000 => "50.000 tot 100.000 inwoners",
            Self::Van100000Tot150000 => "100.000 tot 150.000 inwoners",
            Self::Van150000Tot250000 => "150.000 tot 250.000 inwoners",
            Self::Vanaf250000 => "250.000 inwoners of meer",
        }
    }

    /// English label for the UI.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::MinderDan10000 => "fewer than 10,000 inhabitants",
            Self::Van10000Tot20000 => "10,000 to 20,000 inhabitants",
            Self::Van20000Tot50000 => "20,000 to 50,000 inhabitants",
            Self::Van50000Tot100000 => "50,000 to 100,000 inhabitants",
            Self::Van100000Tot150000 => "100,000 to 150,000 inhabitants",
            Self::Van150000Tot250000 => "150,000 to 250,000 inhabitants",
            Self::Vanaf250000 => "250,000 inhabitants or more",
        }
    }
}

/// Why a group shows no figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SuppressionReason {
    /// Fewer than five other municipalities with a value, or fewer than five that stay anonymous.
    #[serde(rename = "te weinig vergelijkbare gemeenten")]
    TooFewPeers,
    /// The asker's own number of inhabitants is unknown, so it has no size class.
    #[serde(rename = "inwonertal van de gemeente onbekend")]
    SizeUnknown,
}

impl SuppressionReason {
    /// Dutch text for the UI (the same as the serialised form).
    pub fn text(self) -> &'static str {
        match self {
            Self::TooFewPeers => "te weinig vergelijkbare gemeenten",
            Self::SizeUnknown => "inwonertal van de gemeente onbekend",
        }
    }

    /// English text for the UI.
    pub fn text_en(self) -> &'static str {
        match self {
            Self::TooFewPeers => "too few comparable municipalities",
            Self::SizeUnknown => "the municipality's number of inhabitants is unknown",
        }
    }
}

/// The asker's place in a group, best first: "3e van 17". Ties share the best place among them
/// (standard competition ranking, 1-2-2-4): the asker's position is one more than the number of
/// municipalities with a strictly better value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rank {
    pub position: u32,
    /// Municipalities in the group, the asker included.
    pub of: u32,
    /// At least one other municipality has exactly the asker's value.
    pub tied: bool,
    /// "3e van 17", or "gedeeld 3e van 17" for a tie.
    pub label: String,
}

impl Rank {
    fn new(position: u32, of: u32, tied: bool) -> Self {
        let label = if tied {
            format!("gedeeld {position}e van {of}")
        } else {
            format!("{position}e van {of}")
        };
        Self {
            position,
            of,
            tied,
            label,
        }
    }

    /// `label` in English: "3rd of 17", "joint 3rd of 17".
    pub fn label_en(&self) -> String {
        let n = self.position;
        let suffix = match (n % 10, n % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        let joint = if self.tied { "joint " } else { "" };
        format!("{joint}{n}{suffix} of {}", self.of)
    }
}

/// A municipality that opted in to be named, with its value and its position in the group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedPeer {
    pub tenant_code: TenantCode,
    pub value: f64,
    /// Position in the group by the same ranking as [`Rank`].
    pub position: u32,
}

/// The figures of a group that is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    /// Municipalities with a value in the group, the asker included when it has a value.
    pub count: u32,
    /// Median and quartiles of the values (ascending, whatever the figure's direction).
    #[serde(flatten)]
    pub quartiles: Quartiles,
    /// The asker's rank; `None` when the asker has no value of its own.
    pub rank: Option<Rank>,
    /// Only municipalities that opted in, best first; never the asker.
    pub named: Vec<NamedPeer>,
}

/// One comparison group: either its figures, or only the reason why there are none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Group {
    Shown(GroupFigures),
    Suppressed { reason: SuppressionReason },
}

impl Group {
    pub fn figures(&self) -> Option<&GroupFigures> {
        match self {
            Group::Shown(f) => Some(f),
            Group::Suppressed { .. } => None,
        }
    }
}

/// What the asking municipality sees for one figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmark {
    /// The asker's own value; `None` when it has none.
    pub own_value: Option<f64>,
    /// Direction of the figure, so the UI can say whether a high quartile is good news.
    pub higher_is_better: bool,
    /// The asker's size class; `None` when its number of inhabitants is unknown.
    pub size_class: Option<SizeClass>,
    /// Dutch label of `size_class`.
    pub size_class_label: Option<&'static str>,
    /// Municipalities of the same size class.
    pub same_size_class: Group,
    /// All municipalities.
    pub all: Group,
}

/// Compare `asker`'s value of one figure with the other municipalities' values.
///
/// `higher_is_better` sets the direction of the ranking (true for CSAT or SLA attainment, false
/// for response times). The asker's own entry in `peers` gives its value and its inhabitants; an
/// asker without an entry still sees the distributions (when shown), without a rank.
pub fn benchmark(asker: &TenantCode, peers: &[PeerValue], higher_is_better: bool) -> Benchmark {
    let mut seen = HashSet::new();
    let mut own: Option<&PeerValue> = None;
    let mut others: Vec<&PeerValue> = Vec::new();
    for p in peers {
        if p.tenant_code.kind() != TenantKind::Gemeente || !seen.insert(&p.tenant_code) {
            continue;
        }
        if &p.tenant_code == asker {
            own = Some(p);
        } else if p.value.is_finite() {
            others.push(p);
        }
    }
    let own_value = own.map(|p| p.value).filter(|v| v.is_finite());
    let size_class = own.and_then(|p| p.inhabitants).map(SizeClass::of);

    let same_size_class = match size_class {
        None => Group::Suppressed {
            reason: SuppressionReason::SizeUnknown,
        },
        Some(class) => {
            let members: Vec<&PeerValue> = others
                .iter()
                .copied()
                .filter(|p| p.inhabitants.map(SizeClass::of) == Some(class))
                .collect();
            group(own_value, &members, higher_is_better)
        }
    };
    let all = group(own_value, &others, higher_is_better);
    Benchmark {
        own_value,
        higher_is_better,
        size_class,
        size_class_label: size_class.map(SizeClass::label),
        same_size_class,
        all,
    }
}

/// Figures for one group: `others` are the other municipalities in it, all with a finite value.
fn group(own_value: Option<f64>, others: &[&PeerValue], higher_is_better: bool) -> Group {
    let anonymous = others.iter().filter(|p| !p.opted_in_named).count();
    if others.len() < MIN_OTHERS || (anonymous > 0 && anonymous < MIN_OTHERS) {
        return Group::Suppressed {
            reason: SuppressionReason::TooFewPeers,
        };
    }
    let mut values: Vec<f64> = others.iter().map(|p| p.value).collect();
    values.extend(own_value);
    let sorted = sorted_finite(&values);
    let Some(quartiles) = Quartiles::of_sorted(&sorted) else {
        return Group::Suppressed {
            reason: SuppressionReason::TooFewPeers,
        };
    };
    let count = to_u32(sorted.len());
    let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
    let position = |v: f64| to_u32(1 + sorted.iter().filter(|&&x| better(x, v)).count());
    let rank = own_value.map(|v| {
        let tied = others.iter().any(|p| p.value == v);
        Rank::new(position(v), count, tied)
    });
    let mut named: Vec<NamedPeer> = others
        .iter()
        .filter(|p| p.opted_in_named)
        .map(|p| NamedPeer {
            tenant_code: p.tenant_code.clone(),
            value: p.value,
            position: position(p.value),
        })
        .collect();
    named.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then_with(|| a.tenant_code.cmp(&b.tenant_code))
    });
    Group::Shown(GroupFigures {
        count,
        quartiles,
        rank,
        named,
    })
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn code(n: u32) -> TenantCode {
        TenantCode::parse(&format!("GM{n:04}")).unwrap()
    }

    fn peer(n: u32, inhabitants: u32, value: f64, named: bool) -> PeerValue {
        PeerValue {
            tenant_code: code(n),
            inhabitants: Some(inhabitants),
            value,
            opted_in_named: named,
        }
    }

    #[test]
    fn size_class_edges() {
        assert_eq!(SizeClass::of(0), SizeClass::MinderDan10000);
        assert_eq!(SizeClass::of(931), SizeClass::MinderDan10000);
        assert_eq!(SizeClass::of(9_999), SizeClass::MinderDan10000);
        assert_eq!(SizeClass::of(10_000), SizeClass::Van10000Tot20000);
        assert_eq!(SizeClass::of(19_999), SizeClass::Van10000Tot20000);
        assert_eq!(SizeClass::of(20_000), SizeClass::Van20000Tot50000);
        assert_eq!(SizeClass::of(50_000), SizeClass::Van50000Tot100000);
        assert_eq!(SizeClass::of(100_000), SizeClass::Van100000Tot150000);
        assert_eq!(SizeClass::of(149_999), SizeClass::Van100000Tot150000);
        assert_eq!(SizeClass::of(150_000), SizeClass::Van150000Tot250000);
        assert_eq!(SizeClass::of(249_999), SizeClass::Van150000Tot250000);
        assert_eq!(SizeClass::of(250_000), SizeClass::Vanaf250000);
        assert_eq!(SizeClass::of(u32::MAX), SizeClass::Vanaf250000);
        for c in SizeClass::ALL {
            let (lo, hi) = c.bounds();
            assert_eq!(SizeClass::of(lo), c);
            if let Some(hi) = hi {
                assert_eq!(SizeClass::of(hi - 1), c);
                assert_ne!(SizeClass::of(hi), c);
            }
        }
        assert_eq!(
            SizeClass::Van20000Tot50000.label(),
            "20.000 tot 50.000 inwoners"
        );
    }

    /// Asker GM0001 (30 000 inhabitants, value 8) among six others of its class and three of
    /// another class. Lower is better (a response time).
    fn example() -> Vec<PeerValue> {
        vec![
            peer(1, 30_000, 8.0, false),
            peer(2, 25_000, 3.0, false),
            peer(3, 40_000, 7.0, true),
            peer(4, 21_000, 9.0, false),
            peer(5, 45_000, 15.0, false),
            peer(6, 33_000, 20.0, false),
            peer(7, 49_999, 12.0, false),
            peer(8, 120_000, 1.0, false),
            peer(9, 5_000, 30.0, false),
            peer(10, 60_000, 4.0, false),
        ]
    }

    #[test]
    fn hand_computed_quartiles_and_rank() {
        let b = benchmark(&code(1), &example(), false);
        assert_eq!(b.own_value, Some(8.0));
        assert_eq!(b.size_class, Some(SizeClass::Van20000Tot50000));
        assert_eq!(b.size_class_label, Some("20.000 tot 50.000 inwoners"));

        // Same class: 3, 7, 8, 9, 12, 15, 20 (n = 7): h = 1.5, 3, 4.5.
        let s = b.same_size_class.figures().expect("six others: shown");
        assert_eq!(s.count, 7);
        assert_eq!(s.quartiles.q1, 7.5);
        assert_eq!(s.quartiles.median, 9.0);
        assert_eq!(s.quartiles.q3, 13.5);
        // Lower is better: 3 and 7 are better than 8.
        let r = s.rank.as_ref().unwrap();
        assert_eq!((r.position, r.of, r.tied), (3, 7, false));
        assert_eq!(r.label, "3e van 7");
        assert_eq!(s.named.len(), 1);
        assert_eq!(s.named[0].tenant_code, code(3));
        assert_eq!((s.named[0].value, s.named[0].position), (7.0, 2));

        // All: 1, 3, 4, 7, 8, 9, 12, 15, 20, 30 (n = 10): h = 2.25, 4.5, 6.75.
        let a = b.all.figures().expect("nine others: shown");
        assert_eq!(a.count, 10);
        assert_eq!(a.quartiles.q1, 4.75); // 4 + 0.25 · 3
        assert_eq!(a.quartiles.median, 8.5); // (8 + 9) / 2
        assert_eq!(a.quartiles.q3, 14.25); // 12 + 0.75 · 3
        assert_eq!(a.rank.as_ref().unwrap().label, "5e van 10");

        // The other direction: 9, 12, 15, 20 are better than 8.
        let b = benchmark(&code(1), &example(), true);
        let s = b.same_size_class.figures().unwrap();
        assert_eq!(s.rank.as_ref().unwrap().label, "5e van 7");
        assert_eq!(s.named[0].position, 6);
        // The quartiles do not depend on the direction.
        assert_eq!(s.quartiles.q1, 7.5);
    }

    #[test]
    fn four_others_is_too_few_and_five_is_enough() {
        let mut v = vec![peer(1, 30_000, 8.0, false)];
        for n in 2..=5 {
            v.push(peer(n, 30_000, f64::from(n), false));
        }
        let b = benchmark(&code(1), &v, true);
        assert_eq!(
            b.same_size_class,
            Group::Suppressed {
                reason: SuppressionReason::TooFewPeers
            }
        );
        assert_eq!(
            b.all,
            Group::Suppressed {
                reason: SuppressionReason::TooFewPeers
            }
        );
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains(r#""same_size_class":{"status":"suppressed","reason":"te weinig vergelijkbare gemeenten"}"#));

        v.push(peer(6, 30_000, 6.0, false));
        let b = benchmark(&code(1), &v, true);
        let s = b.same_size_class.figures().expect("five others: shown");
        assert_eq!(s.count, 6);
        // 2, 3, 4, 5, 6, 8: h = 1.25, 2.5, 3.75.
        assert_eq!(
            (s.quartiles.q1, s.quartiles.median, s.quartiles.q3),
            (3.25, 4.5, 5.75)
        );
        assert_eq!(s.rank.as_ref().unwrap().label, "1e van 6");
    }

    #[test]
    fn others_without_a_value_or_of_another_class_do_not_count() {
        let mut v = vec![peer(1, 30_000, 8.0, false)];
        for n in 2..=5 {
            v.push(peer(n, 30_000, f64::from(n), false));
        }
        v.push(peer(6, 30_000, f64::NAN, false)); // no measurement
        v.push(peer(5, 30_000, 99.0, false)); // a second entry for GM0005
        v.push(peer(7, 80_000, 1.0, false)); // another class
        v.push(PeerValue {
            inhabitants: None,
            ..peer(8, 0, 1.0, false)
        }); // size unknown
        v.push(PeerValue {
            tenant_code: TenantCode::parse("PV26").unwrap(),
            ..peer(0, 30_000, 1.0, false)
        }); // a pool, not a municipality
        let b = benchmark(&code(1), &v, true);
        assert!(b.same_size_class.figures().is_none());
        // All: 2, 3, 4, 5, 7 and 8 are five others besides the asker.
        let a = b.all.figures().expect("five others: shown");
        assert_eq!(a.count, 7);
        assert!(!serde_json::to_string(&b).unwrap().contains("99"));
    }

    #[test]
    fn ties_share_the_best_place() {
        let mut v = vec![peer(1, 30_000, 5.0, false)];
        for (n, x) in [(2, 9.0), (3, 5.0), (4, 5.0), (5, 1.0), (6, 7.0), (7, 5.0)] {
            v.push(peer(n, 30_000, x, n == 3));
        }
        // Higher is better: 9 and 7 are better; four municipalities share 3rd place.
        let b = benchmark(&code(1), &v, true);
        let s = b.same_size_class.figures().unwrap();
        let r = s.rank.as_ref().unwrap();
        assert_eq!((r.position, r.of, r.tied), (3, 7, true));
        assert_eq!(r.label, "gedeeld 3e van 7");
        assert_eq!(r.label_en(), "joint 3rd of 7");
        assert_eq!(s.named[0].position, 3);
        // Lower is better: only 1 is better.
        let b = benchmark(&code(1), &v, false);
        let r = b.same_size_class.figures().unwrap().rank.clone().unwrap();
        assert_eq!(r.label, "gedeeld 2e van 7");
        assert_eq!(r.label_en(), "joint 2nd of 7");
        for (position, en) in [
            (1, "1st"),
            (11, "11th"),
            (12, "12th"),
            (21, "21st"),
            (103, "103rd"),
        ] {
            let r = Rank::new(position, 200, false);
            assert_eq!(r.label_en(), format!("{en} of 200"));
        }
        // Everybody equal: all first.
        let v: Vec<PeerValue> = (1..=6).map(|n| peer(n, 30_000, 4.0, false)).collect();
        let b = benchmark(&code(1), &v, false);
        assert_eq!(
            b.all.figures().unwrap().rank.as_ref().unwrap().label,
            "gedeeld 1e van 6"
        );
    }

    #[test]
    fn few_anonymous_others_suppress_the_group() {
        // Six others, five of them named: the one anonymous value could be read off the
        // quartiles, so the group is suppressed.
        let mut v = vec![peer(1, 30_000, 8.0, false)];
        for n in 2..=7 {
            v.push(peer(n, 30_000, f64::from(n) * 1.5, n != 7));
        }
        let b = benchmark(&code(1), &v, true);
        assert!(b.all.figures().is_none());
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("GM0002"), "{json}");
        // All six named: nothing to hide, shown with every named peer.
        v[6].opted_in_named = true;
        let b = benchmark(&code(1), &v, true);
        assert_eq!(b.all.figures().unwrap().named.len(), 6);
        // Five anonymous and one named: shown, only the named one listed.
        for p in &mut v[1..] {
            p.opted_in_named = false;
        }
        v[1].opted_in_named = true;
        let b = benchmark(&code(1), &v, true);
        let a = b.all.figures().unwrap();
        assert_eq!(a.named.len(), 1);
        assert_eq!(a.named[0].tenant_code, code(2));
    }

    #[test]
    fn asker_without_value_or_size() {
        let mut v: Vec<PeerValue> = (2..=8)
            .map(|n| peer(n, 30_000, f64::from(n), false))
            .collect();
        // No entry for the asker: distributions only.
        let b = benchmark(&code(1), &v, true);
        assert_eq!(b.own_value, None);
        assert_eq!(
            b.same_size_class,
            Group::Suppressed {
                reason: SuppressionReason::SizeUnknown
            }
        );
        let a = b.all.figures().unwrap();
        assert_eq!((a.count, a.rank.clone()), (7, None));
        // An entry without a measurement: its class is known.
        v.push(peer(1, 30_000, f64::NAN, false));
        let b = benchmark(&code(1), &v, true);
        assert_eq!(b.own_value, None);
        assert_eq!(b.same_size_class.figures().unwrap().count, 7);
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains(r#""own_value":null"#), "{json}");
    }

    // ---- property tests -------------------------------------------------------------------

    /// Up to 60 municipalities with distinct codes (GM1000 + i), a few size classes, some
    /// values missing (NaN), many ties.
    fn peers_strategy() -> impl Strategy<Value = (Vec<PeerValue>, usize, bool)> {
        let one = (
            prop_oneof![
                1 => Just(None),
                1 => (0u32..400_000).prop_map(Some),
                // Mostly two classes, so that both groups are often shown.
                6 => prop_oneof![Just(19_999u32), Just(20_000)].prop_map(Some),
            ],
            prop_oneof![(0u32..2000).prop_map(f64::from), Just(f64::NAN)],
            any::<bool>(),
        );
        (
            proptest::collection::vec(one, 1..60),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(|(rows, idx, hib)| {
                let peers: Vec<PeerValue> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, (inh, v, named))| PeerValue {
                        tenant_code: code(1000 + u32::try_from(i).unwrap()),
                        inhabitants: inh,
                        value: v / 7.0 + 1.0 / 1024.0,
                        opted_in_named: named,
                    })
                    .collect();
                let asker = idx.index(peers.len());
                (peers, asker, hib)
            })
    }

    /// Independent recomputation of one group's aggregates from the raw input.
    fn expected_aggregates(own: Option<f64>, others: &[&PeerValue]) -> Vec<f64> {
        let mut v: Vec<f64> = others.iter().map(|p| p.value).collect();
        v.extend(own);
        let q = Quartiles::of_sorted(&sorted_finite(&v)).unwrap();
        vec![q.q1, q.median, q.q3]
    }

    /// Every number in the JSON, with the key it stands under.
    fn numbers<'a>(v: &'a Value, key: &'a str, out: &mut Vec<(&'a str, f64)>) {
        match v {
            Value::Number(n) => out.push((key, n.as_f64().unwrap())),
            Value::Array(a) => a.iter().for_each(|x| numbers(x, key, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| numbers(x, k, out)),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn output_reveals_nothing_but_own_aggregates_and_named(
            (peers, asker_idx, hib) in peers_strategy()
        ) {
            let asker = peers[asker_idx].tenant_code.clone();
            let own = Some(peers[asker_idx].value).filter(|v| v.is_finite());
            let b = benchmark(&asker, &peers, hib);
            let json = serde_json::to_value(&b).unwrap();
            let text = json.to_string();

            // Recompute the groups from scratch.
            let others: Vec<&PeerValue> = peers
                .iter()
                .filter(|p| p.tenant_code != asker && p.value.is_finite())
                .collect();
            let class = peers[asker_idx].inhabitants.map(SizeClass::of);
            let same: Vec<&PeerValue> = others
                .iter()
                .copied()
                .filter(|p| class.is_some() && p.inhabitants.map(SizeClass::of) == class)
                .collect();
            let mut allowed: Vec<f64> = own.into_iter().collect();
            for (g, members) in [(&b.same_size_class, &same), (&b.all, &others)] {
                let anonymous = members.iter().filter(|p| !p.opted_in_named).count();
                let may_show = members.len() >= MIN_OTHERS
                    && (anonymous == 0 || anonymous >= MIN_OTHERS);
                match g {
                    Group::Shown(f) => {
                        prop_assert!(may_show);
                        allowed.extend(expected_aggregates(own, members));
                        allowed.extend(
                            members.iter().filter(|p| p.opted_in_named).map(|p| p.value),
                        );
                        let named: HashSet<&TenantCode> =
                            f.named.iter().map(|n| &n.tenant_code).collect();
                        let expected: HashSet<&TenantCode> = members
                            .iter()
                            .filter(|p| p.opted_in_named)
                            .map(|p| &p.tenant_code)
                            .collect();
                        prop_assert_eq!(named, expected);
                    }
                    Group::Suppressed { .. } => prop_assert!(!may_show),
                }
            }

            // 1. No code of a municipality that did not opt in (nor the asker's own).
            for p in &peers {
                if !p.opted_in_named || p.tenant_code == asker {
                    prop_assert!(!text.contains(p.tenant_code.as_str()), "{} in {}", p.tenant_code, text);
                }
            }
            // 2. Every number is a count or position, or the asker's own value, an aggregate or
            //    a named peer's value.
            let mut found = Vec::new();
            numbers(&json, "", &mut found);
            for (key, x) in found {
                if matches!(key, "count" | "position" | "of") {
                    prop_assert!(x.fract() == 0.0 && x <= peers.len() as f64);
                } else {
                    prop_assert!(allowed.contains(&x), "{key} = {x} not allowed in {text}");
                }
            }
            // 3. Suppressed groups carry nothing but their status and reason.
            for g in ["same_size_class", "all"] {
                let obj = json[g].as_object().unwrap();
                if obj["status"] == "suppressed" {
                    let keys: Vec<&String> = obj.keys().collect();
                    prop_assert_eq!(keys.len(), 2);
                    prop_assert!(obj["reason"].is_string());
                }
            }
        }

        #[test]
        fn rank_is_within_the_group(
            (peers, asker_idx, hib) in peers_strategy()
        ) {
            let b = benchmark(&peers[asker_idx].tenant_code, &peers, hib);
            for g in [&b.same_size_class, &b.all] {
                if let Some(f) = g.figures() {
                    prop_assert!(f.count as usize >= MIN_OTHERS);
                    prop_assert!(f.quartiles.q1 <= f.quartiles.median);
                    prop_assert!(f.quartiles.median <= f.quartiles.q3);
                    if let Some(r) = &f.rank {
                        prop_assert!(r.position >= 1 && r.position <= r.of);
                        prop_assert_eq!(r.of, f.count);
                    }
                }
            }
        }
    }
}
