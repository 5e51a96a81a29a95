//! Inhabitants per municipality: the seed for a tenant's editable number of inhabitants (used
//! for contacts per 1,000 inhabitants and for the benchmark's size classes).
//!
//! The table `data/inwoners.tsv` is derived from GeoNames (CC BY 4.0) by
//! `data/gen_inwoners.py`; `data/README.md` describes the method and its weaknesses. The figures
//! are a few years old and not official CBS counts: a municipality can correct its own in Loket.

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("../data/inwoners.tsv");

/// Attribution to show wherever the seeded figures are shown.
pub const INHABITANTS_ATTRIBUTION: &str =
    "Inwonertal: afgeleid uit GeoNames (geonames.org, CC BY 4.0); door de gemeente aan te passen";

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InhabitantsFigure {
    /// CBS code, `GM0344`.
    pub code: &'static str,
    /// Official CBS name.
    pub name: &'static str,
    pub inhabitants: u32,
    /// How the figure was derived (GeoNames feature ids), in Dutch.
    pub source: &'static str,
}

fn table() -> &'static HashMap<&'static str, InhabitantsFigure> {
    static TABLE: OnceLock<HashMap<&'static str, InhabitantsFigure>> = OnceLock::new();
    TABLE.get_or_init(|| {
        TSV.lines()
            .skip(1)
            .filter_map(|line| {
                let mut f = line.split('\t');
                let (code, name, n, source) = (f.next()?, f.next()?, f.next()?, f.next()?);
                let inhabitants = n.parse().ok().filter(|&n| n > 0)?;
                Some((
                    code,
                    InhabitantsFigure {
                        code,
                        name,
                        inhabitants,
                        source,
                    },
                ))
            })
            .collect()
    })
}

/// The row for a municipality code (`GM0344`, case-insensitive).
pub fn inhabitants_figure(code: &str) -> Option<&'static InhabitantsFigure> {
    table().get(code.trim().to_ascii_uppercase().as_str())
}

/// Seed number of inhabitants of a municipality (`GM0344`, case-insensitive); `None` for a code
/// that is not one of the 342 municipalities of 2025.
pub fn inhabitants(code: &str) -> Option<u32> {
    inhabitants_figure(code).map(|f| f.inhabitants)
}

/// All 342 rows, sorted by code.
pub fn all_inhabitants() -> Vec<&'static InhabitantsFigure> {
    let mut v: Vec<_> = table().values().collect();
    v.sort_by_key(|f| f.code);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::SizeClass;
    use std::collections::HashSet;

    /// The municipality table that loket-text ships (342 gemeenten on 1-1-2025, from CBS),
    /// as an independent list of codes and names.
    const GEMEENTEN: &str = include_str!("../../loket-text/data/gemeenten.tsv");

    #[test]
    fn every_municipality_of_2025_has_a_positive_figure() {
        let mut codes = HashSet::new();
        for line in GEMEENTEN.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let (code, name) = (f[0], f[1]);
            codes.insert(code);
            let row = inhabitants_figure(code).unwrap_or_else(|| panic!("{code} {name}"));
            assert_eq!(row.name, name);
            assert!(row.inhabitants > 0, "{code}");
            assert!(row.source.starts_with("GeoNames"), "{code}: {}", row.source);
        }
        assert_eq!(codes.len(), 342);
        assert_eq!(all_inhabitants().len(), 342);
        let total: u64 = all_inhabitants()
            .iter()
            .map(|f| u64::from(f.inhabitants))
            .sum();
        // The Netherlands had 17.9 million inhabitants on 1-1-2024 (CBS); the GeoNames figures
        // are a few years older.
        assert!((16_500_000..18_500_000).contains(&total), "{total}");
    }

    #[test]
    fn sanity() {
        let amsterdam = inhabitants("GM0363").unwrap();
        let rotterdam = inhabitants("GM0599").unwrap();
        let utrecht = inhabitants("gm0344").unwrap();
        let schiermonnikoog = inhabitants("GM0088").unwrap();
        assert!(amsterdam > rotterdam && rotterdam > utrecht);
        assert!(utrecht > inhabitants("GM0014").unwrap()); // Groningen
        assert!(inhabitants("GM0014").unwrap() > inhabitants("GM0080").unwrap()); // Leeuwarden
        assert!(utrecht > 300_000 && amsterdam > 800_000);
        assert!(schiermonnikoog < 2_000);
        // Leeuwarden's GeoNames municipality figure (12 448) is implausible; the fallback is used.
        assert!(inhabitants("GM0080").unwrap() > 100_000);
        // Municipalities formed by a merger since 2019 got the sum of their predecessors.
        assert!(inhabitants("GM1992").unwrap() > 60_000); // Voorne aan Zee (2023)
        assert!(inhabitants("GM1963").unwrap() > 80_000); // Hoeksche Waard (2019)
        // The G4 and only they are in the top size class.
        let top: Vec<&str> = all_inhabitants()
            .into_iter()
            .filter(|f| SizeClass::of(f.inhabitants) == SizeClass::Vanaf250000)
            .map(|f| f.code)
            .collect();
        assert_eq!(top, ["GM0344", "GM0363", "GM0518", "GM0599"]);
        assert_eq!(inhabitants("GM9999"), None);
        assert_eq!(inhabitants("PV26"), None);
        assert!(INHABITANTS_ATTRIBUTION.contains("CC BY 4.0"));
    }
}
