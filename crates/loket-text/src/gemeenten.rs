//! The 342 municipalities (CBS, 1 January 2025) and the tables behind the resolver.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One municipality. Strings borrow from the compiled-in table.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Gemeente {
    /// CBS code, e.g. `GM0344`.
    pub code: &'static str,
    /// Official CBS name, e.g. `'s-Gravenhage`.
    pub naam: &'static str,
    /// Province code, e.g. `PV26`.
    pub provincie_code: &'static str,
    /// Province name in CBS spelling (`Fryslân`).
    pub provincie_naam: &'static str,
    /// Rough population: the sum of GeoNames populated places (not an official count).
    pub inwoners: Option<u32>,
    /// Approximate centre (mean of its PC4 points), used to relate places to each other.
    pub lat: f64,
    pub lon: f64,
}

const GEMEENTEN_TSV: &str = include_str!("../data/gemeenten.tsv");

/// All municipalities, sorted by code.
pub fn all() -> &'static [Gemeente] {
    static ALL: OnceLock<Vec<Gemeente>> = OnceLock::new();
    ALL.get_or_init(|| {
        GEMEENTEN_TSV
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&'static str> = l.split('\t').collect();
                if f.len() < 7 {
                    return None;
                }
                Some(Gemeente {
                    code: f[0],
                    naam: f[1],
                    provincie_code: f[2],
                    provincie_naam: f[3],
                    inwoners: f[4].parse().ok(),
                    lat: f[5].parse().unwrap_or(0.0),
                    lon: f[6].parse().unwrap_or(0.0),
                })
            })
            .collect()
    })
}

/// Look a municipality up by its CBS code (`GM0344`; case-insensitive, `0344` also works).
pub fn by_code(code: &str) -> Option<&'static Gemeente> {
    index_of(code).map(|i| &all()[i])
}

/// Position of a code in [`all`].
pub(crate) fn index_of(code: &str) -> Option<usize> {
    static IDX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let idx = IDX.get_or_init(|| all().iter().enumerate().map(|(i, g)| (g.code, i)).collect());
    let code = code.trim();
    if code.len() == 6 && code[..2].eq_ignore_ascii_case("gm") {
        let up = format!("GM{}", &code[2..]);
        idx.get(up.as_str()).copied()
    } else if code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) {
        idx.get(format!("GM{code}").as_str()).copied()
    } else {
        None
    }
}

/// Great-circle-ish distance in km (equirectangular; fine at Dutch scale).
pub(crate) fn distance_km(a: &Gemeente, b: &Gemeente) -> f64 {
    let dlat = (a.lat - b.lat) * 111.2;
    let dlon = (a.lon - b.lon) * 111.2 * (a.lat.to_radians().cos());
    (dlat * dlat + dlon * dlon).sqrt()
}

/// (municipality index, bounding box [min x, min y, max x, max y], points).
type Ring = (usize, [i32; 4], Vec<(i32, i32)>);

/// Simplified municipal boundaries for point-in-polygon (coordinates in 1/1000 degree).
pub(crate) struct Polygons {
    rings: Vec<Ring>,
}

const POLYGONS_TXT: &str = include_str!("../data/polygons.txt");

impl Polygons {
    pub(crate) fn load() -> Polygons {
        let mut rings = Vec::new();
        for line in POLYGONS_TXT.lines() {
            let mut parts = line.split(' ');
            let Some(code) = parts.next() else { continue };
            let Some(gi) = index_of(code) else { continue };
            let pts: Vec<(i32, i32)> = parts
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            if pts.len() < 3 {
                continue;
            }
            let mut bb = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
            for &(x, y) in &pts {
                bb[0] = bb[0].min(x);
                bb[1] = bb[1].min(y);
                bb[2] = bb[2].max(x);
                bb[3] = bb[3].max(y);
            }
            rings.push((gi, bb, pts));
        }
        Polygons { rings }
    }

    /// Municipality containing the point, if any (ray casting).
    pub(crate) fn locate(&self, lat: f64, lon: f64) -> Option<usize> {
        if !(lat.is_finite() && lon.is_finite()) {
            return None;
        }
        let x = lon * 1000.0;
        let y = lat * 1000.0;
        for (gi, bb, pts) in &self.rings {
            if x < f64::from(bb[0])
                || x > f64::from(bb[2])
                || y < f64::from(bb[1])
                || y > f64::from(bb[3])
            {
                continue;
            }
            let mut inside = false;
            let n = pts.len();
            let mut j = n - 1;
            for i in 0..n {
                let (xi, yi) = (f64::from(pts[i].0), f64::from(pts[i].1));
                let (xj, yj) = (f64::from(pts[j].0), f64::from(pts[j].1));
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
            if inside {
                return Some(*gi);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_342() {
        assert_eq!(all().len(), 342);
        assert_eq!(by_code("GM0344").unwrap().naam, "Utrecht");
        assert_eq!(by_code("gm0363").unwrap().naam, "Amsterdam");
        assert_eq!(by_code("0518").unwrap().naam, "'s-Gravenhage");
        assert!(by_code("GM9999").is_none());
    }

    #[test]
    fn point_in_polygon() {
        let p = Polygons::load();
        let name = |la, lo| p.locate(la, lo).map(|i| all()[i].code);
        assert_eq!(name(52.3731, 4.8922), Some("GM0363"));
        assert_eq!(name(52.0907, 5.1214), Some("GM0344"));
        assert_eq!(name(53.4820, 6.1600), Some("GM0088"));
        assert_eq!(name(51.9225, 4.4792), Some("GM0599"));
        assert_eq!(name(48.85, 2.35), None);
        assert_eq!(name(f64::NAN, 2.35), None);
    }
}
