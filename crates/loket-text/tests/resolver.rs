//! Municipality resolver against the compiled-in tables.
use loket_text::{Input, engine, gemeenten};
use std::collections::HashMap;

const WOONPLAATSEN: &str = include_str!("../data/places.tsv");

fn resolve(text: &str) -> Option<String> {
    engine()
        .analyse(&Input::text(text))
        .gemeente
        .map(|g| g.code)
}

#[test]
fn every_municipality_name_resolves() {
    let mut failures = Vec::new();
    for g in gemeenten::all() {
        let text = format!("Er ligt een losse stoeptegel in {}.", g.naam);
        let got = resolve(&text);
        if got.as_deref() != Some(g.code) {
            failures.push(format!("{} {} -> {:?}", g.code, g.naam, got));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        failures
    );
}

#[test]
fn every_unambiguous_woonplaats_resolves() {
    // BAG woonplaatsen (kind W) whose name belongs to exactly one municipality and is not
    // also the name of another municipality.
    // Uniqueness is judged on the folded name over every strong kind (municipality names,
    // woonplaatsen with and without their BAG suffix, former municipalities): "Hengelo" is
    // also "Hengelo (Gld)", and "Kapel-Avezaath" and "Kapel Avezaath" are the same words.
    let fold = |n: &str| -> String { loket_text::tokens(n).join(" ") };
    let mut owners: HashMap<String, Vec<&str>> = HashMap::new();
    let mut woonplaatsen: Vec<(&str, &str)> = Vec::new();
    for l in WOONPLAATSEN.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if let [n, k, c] = f.as_slice() {
            if matches!(*k, "W" | "V" | "G" | "S" | "O") {
                owners.entry(fold(n)).or_default().push(c);
            }
            if *k == "W" {
                woonplaatsen.push((n, c));
            }
        }
    }
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for (n, c) in woonplaatsen {
        let mut o = owners[&fold(n)].clone();
        o.sort();
        o.dedup();
        if o.len() == 1 {
            by_name.entry(n).or_default().push(c);
        }
    }
    let mut failures = Vec::new();
    let mut n = 0;
    for (name, codes) in &by_name {
        let mut codes = codes.clone();
        codes.sort();
        codes.dedup();
        if codes.len() != 1 {
            continue;
        }
        n += 1;
        let text = format!("Er ligt een losse stoeptegel in {name}.");
        let got = resolve(&text);
        if got.as_deref() != Some(codes[0]) {
            failures.push(format!("{name} ({}) -> {:?}", codes[0], got));
        }
    }
    assert!(n > 2000, "only {n} woonplaatsen tested");
    assert!(
        failures.is_empty(),
        "{} of {n} failures: {:#?}",
        failures.len(),
        failures
    );
}

#[test]
fn ambiguous_names_without_context_are_unknown() {
    for name in [
        "Hengelo",
        "Bergen",
        "Rijswijk",
        "Zevenhuizen",
        "Beek",
        "Nes",
    ] {
        let text = format!("Er ligt een losse stoeptegel in {name}.");
        assert_eq!(resolve(&text), None, "{name}");
    }
}

#[test]
fn context_decides() {
    assert_eq!(
        resolve("Losse tegel in Bergen (NH)").as_deref(),
        Some("GM0373")
    );
    assert_eq!(
        resolve("Losse tegel in Hengelo in Overijssel").as_deref(),
        Some("GM0164")
    );
    assert_eq!(
        resolve("ik woon in Zeist maar de tegel ligt bij mijn werk in Utrecht").as_deref(),
        Some("GM0344")
    );
    assert_eq!(
        resolve("@gemeenteutrecht de lamp is kapot").as_deref(),
        Some("GM0344")
    );
    assert_eq!(
        resolve("Kapotte lamp in Den Haag").as_deref(),
        Some("GM0518")
    );
    assert_eq!(
        resolve("Kapotte lamp in Den Bosch #denbosch").as_deref(),
        Some("GM0796")
    );
    assert_eq!(
        resolve("Storing in Heerhugowaard").as_deref(),
        Some("GM1980")
    );
    assert_eq!(
        resolve("Adres: Oudegracht 1, 3511 AB").as_deref(),
        Some("GM0344")
    );
    assert_eq!(resolve("Hoe laat gaat het gemeentehuis open?"), None);
    assert_eq!(resolve("Best wel vervelend dat niemand reageert."), None);
    let a = engine().analyse(&Input {
        text: "Lamp kapot",
        lat: Some(52.0907),
        lon: Some(5.1214),
        history: &[],
    });
    assert_eq!(a.gemeente.map(|g| g.code).as_deref(), Some("GM0344"));
}

#[test]
fn candidates_offered_when_undecided() {
    let a = engine().analyse(&Input::text("Er ligt een losse stoeptegel in Hengelo."));
    assert!(a.gemeente.is_none());
    let codes: Vec<String> = a.candidates.iter().map(|c| c.code.clone()).collect();
    assert!(
        codes.contains(&"GM0164".to_string()) && codes.contains(&"GM1876".to_string()),
        "{codes:?}"
    );
}
