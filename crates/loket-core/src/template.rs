//! Answer templates with `{{dotted.name}}` variables, and national templates that a
//! municipality can override with its own.
//!
//! Deliberately tiny: no loops, conditions or escaping. Values are inserted as they are and
//! never scanned again, so a resident's name containing `{{` cannot inject anything. HTML
//! escaping is the job of whoever renders the reply.

use std::collections::{BTreeMap, HashSet};

/// Variables Loket fills in when an agent uses a template, with a Dutch description for the
/// template editor.
pub const KNOWN_VARIABLES: &[(&str, &str)] = &[
    (
        "gemeente.naam",
        "Naam van de gemeente, bijvoorbeeld \"Utrecht\"",
    ),
    (
        "gemeente.ondertekening",
        "Ondertekening van de gemeente onder antwoorden",
    ),
    (
        "inwoner.naam",
        "Naam van de inwoner zoals bekend op het kanaal",
    ),
    (
        "gemeente.weergavenaam",
        "Weergavenaam van de gemeente, bijvoorbeeld \"Gemeente Utrecht\"",
    ),
    ("gesprek.nummer", "Nummer van het gesprek"),
    ("agent.voornaam", "Voornaam van de medewerker die antwoordt"),
    (
        "agent.naam",
        "Volledige naam van de medewerker die antwoordt",
    ),
];

/// Why a template could not be rendered. Shown to agents and admins, hence Dutch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("onbekende variabele {{{{{0}}}}}")]
    UnknownVariable(String),
    #[error("'{{{{' op positie {0} wordt niet afgesloten met '}}}}'")]
    Unclosed(usize),
    #[error(
        "ongeldige variabelenaam {0:?}: gebruik letters, cijfers, '_' en punten, zoals gemeente.naam"
    )]
    InvalidName(String),
}

/// One piece of a parsed template.
enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Splits a template into text and variable names; `{{` must be closed by `}}`.
fn parse(template: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or(TemplateError::Unclosed(offset + open))?;
        let name = after[..close].trim();
        if !valid_name(name) {
            return Err(TemplateError::InvalidName(after[..close].to_string()));
        }
        parts.push(Part::Var(name));
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

/// Fills in `{{ name }}` placeholders (whitespace inside the braces allowed). A name
/// missing from `vars` is an error rather than an empty gap, so a reply never goes out
/// with "Beste ," in it.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    for part in parse(template)? {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Var(name) => out.push_str(
                vars.get(name)
                    .ok_or_else(|| TemplateError::UnknownVariable(name.to_string()))?,
            ),
        }
    }
    Ok(out)
}

/// Variable names used in a template, in order of first use, without duplicates. Stops at
/// the first malformed placeholder; [`check`] reports it.
pub fn variables(template: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if !valid_name(name) {
            break;
        }
        if seen.insert(name) {
            out.push(name.to_string());
        }
        rest = &after[close + 2..];
    }
    out
}

/// Validates a template for the editor: well-formed and only [`KNOWN_VARIABLES`].
pub fn check(template: &str) -> Result<(), TemplateError> {
    for part in parse(template)? {
        if let Part::Var(name) = part
            && !KNOWN_VARIABLES.iter().any(|(k, _)| *k == name)
        {
            return Err(TemplateError::UnknownVariable(name.to_string()));
        }
    }
    Ok(())
}

/// The templates a tenant sees: every national template, replaced in place by the tenant's
/// template with the same key, followed by the tenant's own additional templates. When the
/// tenant has several with one key, the first wins.
pub fn resolve_override<'a, T>(
    national: &'a [T],
    tenant: &'a [T],
    key: impl Fn(&T) -> &str,
) -> Vec<&'a T> {
    let mut by_key: BTreeMap<&str, &'a T> = BTreeMap::new();
    for t in tenant {
        by_key.entry(key(t)).or_insert(t);
    }
    let mut used: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(national.len() + tenant.len());
    for n in national {
        let k = key(n);
        if !used.insert(k) {
            continue; // a duplicate national key shows once
        }
        out.push(by_key.get(k).copied().unwrap_or(n));
    }
    for t in tenant {
        let k = key(t);
        if used.insert(k) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn renders_known_variables() {
        let v = vars(&[
            ("gemeente.naam", "Utrecht"),
            ("inwoner.naam", "Fatima"),
            ("agent.voornaam", "Joost"),
        ]);
        let out = render(
            "Beste {{inwoner.naam}}, dank voor uw bericht aan {{ gemeente.naam }}. Groet, {{agent.voornaam}}",
            &v,
        )
        .unwrap();
        assert_eq!(
            out,
            "Beste Fatima, dank voor uw bericht aan Utrecht. Groet, Joost"
        );
    }

    #[test]
    fn unknown_variable_is_named_in_dutch() {
        let err = render("Hallo {{inwoner.naam}}", &vars(&[])).unwrap_err();
        assert_eq!(err, TemplateError::UnknownVariable("inwoner.naam".into()));
        assert_eq!(err.to_string(), "onbekende variabele {{inwoner.naam}}");
    }

    #[test]
    fn unclosed_braces() {
        let err = render("Hallo {{inwoner.naam", &vars(&[])).unwrap_err();
        assert_eq!(err, TemplateError::Unclosed(6));
        assert!(err.to_string().contains("niet afgesloten"), "{err}");
    }

    #[test]
    fn invalid_names() {
        for t in ["{{}}", "{{ }}", "{{a b}}", "{{a..b}}", "{{.a}}", "{{{a}}}"] {
            assert!(
                matches!(
                    render(t, &vars(&[("a", "x")])),
                    Err(TemplateError::InvalidName(_))
                ),
                "{t}"
            );
        }
    }

    #[test]
    fn single_braces_are_text() {
        let v = vars(&[("a", "x")]);
        assert_eq!(render("{a} }} {{a}}", &v).unwrap(), "{a} }} x");
        assert_eq!(render("", &v).unwrap(), "");
    }

    #[test]
    fn values_are_not_rescanned() {
        let v = vars(&[("inwoner.naam", "{{gemeente.naam}}")]);
        assert_eq!(
            render("Beste {{inwoner.naam}}", &v).unwrap(),
            "Beste {{gemeente.naam}}"
        );
    }

    #[test]
    fn lists_variables_in_order_without_duplicates() {
        assert_eq!(
            variables("{{b}} {{ a.x }} {{b}} {{c"),
            vec!["b".to_string(), "a.x".to_string()]
        );
    }

    #[test]
    fn check_against_known_variables() {
        assert_eq!(check("Beste {{inwoner.naam}}, {{gemeente.naam}}"), Ok(()));
        assert_eq!(
            check("{{gemeente.postcode}}"),
            Err(TemplateError::UnknownVariable("gemeente.postcode".into()))
        );
        for (name, desc) in KNOWN_VARIABLES {
            assert!(valid_name(name), "{name}");
            assert!(!desc.is_empty());
        }
    }

    #[derive(Debug, PartialEq)]
    struct Tpl {
        key: &'static str,
        body: &'static str,
    }

    #[test]
    fn tenant_overrides_national() {
        let national = [
            Tpl {
                key: "afval",
                body: "nationaal afval",
            },
            Tpl {
                key: "paspoort",
                body: "nationaal paspoort",
            },
        ];
        let tenant = [
            Tpl {
                key: "paspoort",
                body: "Utrecht paspoort",
            },
            Tpl {
                key: "parkeren",
                body: "Utrecht parkeren",
            },
            Tpl {
                key: "paspoort",
                body: "tweede, genegeerd",
            },
        ];
        let bodies: Vec<_> = resolve_override(&national, &tenant, |t| t.key)
            .into_iter()
            .map(|t| t.body)
            .collect();
        assert_eq!(
            bodies,
            vec!["nationaal afval", "Utrecht paspoort", "Utrecht parkeren"]
        );
    }

    proptest! {
        #[test]
        fn render_substitutes_every_variable(
            names in prop::collection::vec("[a-z]{1,5}(\\.[a-z]{1,5})?", 1..5),
            values in prop::collection::vec(".{0,10}", 5),
            text in "[^{}]{0,20}",
        ) {
            let v: BTreeMap<String, String> =
                names.iter().cloned().zip(values.iter().cloned()).collect();
            let template: String = names.iter().map(|n| format!("{text}{{{{ {n} }}}}")).collect();
            let expected: String = names.iter().map(|n| format!("{text}{}", v[n])).collect();
            prop_assert_eq!(render(&template, &v).unwrap(), expected);
            let listed = variables(&template);
            prop_assert!(listed.iter().all(|n| v.contains_key(n)));
            prop_assert_eq!(listed.len(), v.len());
        }

        #[test]
        fn never_panics(t in ".{0,60}") {
            let _ = render(&t, &BTreeMap::new());
            let _ = variables(&t);
            let _ = check(&t);
        }

        #[test]
        fn override_keeps_every_key_once(
            national in prop::collection::vec(0u8..6, 0..8),
            tenant in prop::collection::vec(0u8..6, 0..8),
        ) {
            let nat: Vec<(String, bool)> = national.iter().map(|k| (k.to_string(), false)).collect();
            let ten: Vec<(String, bool)> = tenant.iter().map(|k| (k.to_string(), true)).collect();
            let out = resolve_override(&nat, &ten, |t| t.0.as_str());
            let keys: Vec<&str> = out.iter().map(|t| t.0.as_str()).collect();
            let uniq: HashSet<&str> = keys.iter().copied().collect();
            prop_assert_eq!(uniq.len(), keys.len());
            let all: HashSet<String> = national.iter().chain(&tenant).map(|k| k.to_string()).collect();
            prop_assert_eq!(uniq.len(), all.len());
            for t in &out {
                // A key the tenant has always comes from the tenant.
                prop_assert_eq!(t.1, tenant.iter().any(|k| k.to_string() == t.0));
            }
        }
    }
}
