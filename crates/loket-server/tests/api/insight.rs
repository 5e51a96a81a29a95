//! The supervisor's insight pages: figure settings, the anonymous benchmark (and its CSV), the
//! roster with the staffing grid, and the maturity self-assessment.

use crate::both;
use crate::helpers::*;
use loket_store::insight::InsightSettingsUpdate;

both!(
    insight_settings_save_validation_and_csrf,
    insight_pages_refuse_non_supervisors,
    insight_benchmark_privacy_suppression_and_csv,
    insight_roster_add_remove_and_understaffing,
    insight_maturity_stored_and_levels,
    insight_demo_data_fills_the_pages,
    insight_pages_in_english_when_chosen,
);

async fn text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

/// Follows a post's redirect and returns the page it lands on.
async fn follow(a: &Agent, r: reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "a form post redirects");
    let to = r.headers()["location"].to_str().unwrap().to_string();
    text(a.get(&to).await).await
}

async fn insight_settings_save_validation_and_csrf(app: TestApp) {
    let s = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let page = text(s.get("/admin/GM0344/kengetallen").await).await;
    assert!(page.contains("GeoNames"), "the source of the seeded figure");
    assert!(page.contains("name=\"csrf\""));
    let seeded = app.state.store.tenant("GM0344").await.unwrap().inhabitants;

    // Bad input: a readable Dutch message, nothing saved.
    let r = s
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "heel veel"),
                ("hourly_cost", "45"),
                ("tool_cost", "0"),
            ],
        )
        .await;
    let page = follow(&s, r).await;
    assert!(
        page.contains("vul bij aantal inwoners een heel getal in"),
        "{page}"
    );
    let r = s
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "1000"),
                ("hourly_cost", "veertig"),
                ("tool_cost", "0"),
            ],
        )
        .await;
    assert!(follow(&s, r).await.contains("bedrag in euro"));
    assert!(
        app.state
            .store
            .insight_settings("GM0344")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.state.store.tenant("GM0344").await.unwrap().inhabitants,
        seeded
    );

    // A wrong CSRF token is refused.
    let r = s
        .client
        .post(format!("{}/admin/GM0344/kengetallen", s.base))
        .form(&[
            ("csrf", "fout"),
            ("inhabitants", "1000"),
            ("hourly_cost", "1"),
            ("tool_cost", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        app.state
            .store
            .insight_settings("GM0344")
            .await
            .unwrap()
            .is_none()
    );

    // A valid post is stored durably.
    let r = s
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "123.456"),
                ("hourly_cost", "45,50"),
                ("tool_cost", "1.250,00"),
                ("named", "1"),
            ],
        )
        .await;
    let page = follow(&s, r).await;
    assert!(page.contains("Opgeslagen"));
    assert!(page.contains("value=\"123456\""));
    let row = app
        .state
        .store
        .insight_settings("GM0344")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.hourly_cost_cents, 4550);
    assert_eq!(row.monthly_tool_cost_cents, 125_000);
    assert!(row.benchmark_named);
    assert!(row.inhabitants_edited_at.is_some());
    assert_eq!(
        app.state.store.tenant("GM0344").await.unwrap().inhabitants,
        Some(123_456)
    );
    // Unchecking the opt-in withdraws it.
    let r = s
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "123456"),
                ("hourly_cost", "45,50"),
                ("tool_cost", "0"),
            ],
        )
        .await;
    follow(&s, r).await;
    let row = app
        .state
        .store
        .insight_settings("GM0344")
        .await
        .unwrap()
        .unwrap();
    assert!(!row.benchmark_named);
}

async fn insight_pages_refuse_non_supervisors(app: TestApp) {
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    for p in [
        "/admin/GM0344/kengetallen",
        "/admin/GM0344/benchmark",
        "/admin/GM0344/benchmark.csv",
        "/admin/GM0344/bezetting",
        "/admin/GM0344/volwassenheid",
    ] {
        assert_eq!(a.get(p).await.status(), 403, "GET {p}");
    }
    let r = a
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "1000"),
                ("hourly_cost", "1"),
                ("tool_cost", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    // A supervisor of another municipality does not even see this one.
    let other = app.agent("sv@test.nl", &[("GM0363", "supervisor")]).await;
    assert_eq!(other.get("/admin/GM0344/benchmark").await.status(), 404);
    // A national coordinator may look, not change.
    let c = app.agent("coord@test.nl", &[("NL", "coordinator")]).await;
    assert_eq!(c.get("/admin/GM0344/benchmark").await.status(), 200);
    let r = c
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "1000"),
                ("hourly_cost", "1"),
                ("tool_cost", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn set(app: &TestApp, code: &str, inhabitants: i64, named: bool) {
    app.state
        .store
        .save_insight_settings(
            code,
            &InsightSettingsUpdate {
                inhabitants,
                inhabitants_changed: true,
                hourly_cost_cents: 0,
                monthly_tool_cost_cents: 0,
                benchmark_named: named,
            },
            None,
        )
        .await
        .unwrap();
}

async fn insight_benchmark_privacy_suppression_and_csv(app: TestApp) {
    // The asker and three others in one size class (20,000 to 50,000), all with contacts.
    let first = ["GM0363", "GM0599", "GM0518"];
    let later = ["GM0014", "GM0034", "GM0307"];
    set(&app, "GM0344", 30_000, false).await;
    app.widget_post("GM0344", None, "Wanneer wordt het grofvuil opgehaald?")
        .await;
    for code in first {
        set(&app, code, 30_000, false).await;
        app.widget_post(code, None, "Waar kan ik mijn paspoort ophalen?")
            .await;
    }
    app.state.reload_tenants().await.unwrap();
    let names: Vec<String> = first
        .iter()
        .chain(later.iter())
        .map(|c| app.state.tenant_label(c))
        .collect();
    let s = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let page = text(s.get("/admin/GM0344/benchmark").await).await;
    assert!(page.contains("20.000 tot 50.000 inwoners"), "{page}");
    assert!(page.contains("te weinig vergelijkbare gemeenten"));
    assert!(!page.contains("van 4"), "no rank in a suppressed group");
    for n in &names {
        assert!(!page.contains(n.as_str()), "{n} must not be named");
    }

    // Six others: the class is shown, still without names.
    for code in later {
        set(&app, code, 30_000, false).await;
        app.widget_post(code, None, "Er ligt een losse stoeptegel.")
            .await;
    }
    // The sums of all municipalities are reused for a few minutes; start afresh.
    app.state.benchmark_cache.clear().await;
    let page = text(s.get("/admin/GM0344/benchmark").await).await;
    assert!(page.contains("van 7"), "a rank among seven: {page}");
    assert!(page.contains("<title id=\"svg-contacts_per_1000-t\">"));
    assert!(page.contains("<desc id="));
    for n in &names {
        assert!(!page.contains(n.as_str()), "{n} must not be named");
    }
    for code in first.iter().chain(later.iter()) {
        assert!(!page.contains(code), "{code} must not appear");
    }

    // One of them opts in: five stay anonymous, so the group is shown with that one name.
    set(&app, "GM0014", 30_000, true).await;
    let page = text(s.get("/admin/GM0344/benchmark?dagen=7").await).await;
    let groningen = app.state.tenant_label("GM0014");
    assert!(
        page.contains(groningen.as_str()),
        "the opted-in peer is named"
    );
    for (code, n) in first.iter().chain(later.iter()).zip(&names) {
        if *code != "GM0014" {
            assert!(!page.contains(n.as_str()), "{n} must not be named");
        }
    }

    // The CSV: a header and one row per figure and group.
    for path in [
        "/admin/GM0344/benchmark.csv",
        "/admin/GM0344/benchmark?format=csv",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let body = text(r).await;
        let lines: Vec<&str> = body.lines().collect();
        assert!(
            lines[0].starts_with("kengetal,groep,eigen_waarde"),
            "{body}"
        );
        assert_eq!(lines.len(), 1 + 7 * 2, "{body}");
        assert!(lines.iter().any(|l| l.starts_with("contacts_per_1000,")));
        for n in &names {
            assert!(!body.contains(n.as_str()) || n == &groningen);
        }
    }
}

async fn insight_roster_add_remove_and_understaffing(app: TestApp) {
    let s = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let anna = app
        .user("anna@test.nl", "Anna Agent", &[("GM0344", "agent")])
        .await;
    // Chats last week on Monday at 10:00 local time make demand in that slot.
    for i in 0..3 {
        app.widget_post("GM0344", None, &format!("Vraag {i} over afval"))
            .await;
    }
    let page = text(s.get("/admin/GM0344/bezetting").await).await;
    assert!(page.contains("Er staat nog niemand op het rooster"));
    assert!(
        page.contains("te weinig"),
        "under-staffed with nobody rostered"
    );
    assert!(page.contains("<caption>"));

    // Add a shift; a bad one is refused with a message.
    let r = s
        .form(
            "/admin/GM0344/bezetting",
            &[
                ("user_id", &anna.to_string()),
                ("unit", "GM0344"),
                ("weekday", "0"),
                ("start", "09:00"),
                ("end", "09:00"),
            ],
        )
        .await;
    assert!(follow(&s, r).await.contains("langer dan 0 minuten"));
    let r = s
        .form(
            "/admin/GM0344/bezetting",
            &[
                ("user_id", &anna.to_string()),
                ("unit", "GM0363"),
                ("weekday", "0"),
                ("start", "09:00"),
                ("end", "17:00"),
            ],
        )
        .await;
    assert!(follow(&s, r).await.contains("kies voor wie"));
    let r = s
        .form(
            "/admin/GM0344/bezetting",
            &[
                ("user_id", &anna.to_string()),
                ("unit", "GM0344"),
                ("weekday", "0"),
                ("start", "08:30"),
                ("end", "17:00"),
            ],
        )
        .await;
    let page = follow(&s, r).await;
    assert!(page.contains("Anna Agent"));
    let shifts = app
        .state
        .store
        .roster_shifts(&["GM0344".to_string()])
        .await
        .unwrap();
    assert_eq!(shifts.len(), 1);
    assert_eq!((shifts[0].start_minute, shifts[0].end_minute), (510, 1020));

    // Remove it again.
    let r = s
        .form(
            &format!("/admin/GM0344/bezetting/{}/verwijderen", shifts[0].id),
            &[],
        )
        .await;
    follow(&s, r).await;
    assert!(
        app.state
            .store
            .roster_shifts(&["GM0344".to_string()])
            .await
            .unwrap()
            .is_empty()
    );

    // A pool sees the combined advice with the savings sentence.
    let p = app.agent("pim@test.nl", &[("PV26", "supervisor")]).await;
    let page = text(p.get("/admin/PV26/bezetting").await).await;
    assert!(page.contains("Samen roosteren voor"), "{page}");
}

async fn insight_maturity_stored_and_levels(app: TestApp) {
    let s = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let page = text(s.get("/admin/GM0344/volwassenheid").await).await;
    assert!(page.contains("<fieldset"));
    assert!(page.contains("<legend>"));
    assert!(page.contains("type=\"radio\""));
    let ids: Vec<&str> = loket_core::maturity::QUESTIONS
        .iter()
        .map(|q| q.id)
        .collect();

    // Incomplete: refused, nothing stored.
    let r = s
        .form(
            "/admin/GM0344/volwassenheid",
            &[("datum", "2026-01-15"), ("q_MA1", "3")],
        )
        .await;
    assert!(follow(&s, r).await.contains("nog niet beantwoord"));
    assert!(
        app.state
            .store
            .maturity_assessments("GM0344")
            .await
            .unwrap()
            .is_empty()
    );

    // Everything at 3 in January, everything at 4 in June.
    for (date, level) in [("2026-01-15", "3"), ("2026-06-15", "4")] {
        let mut fields: Vec<(String, String)> = ids
            .iter()
            .map(|id| (format!("q_{id}"), level.to_string()))
            .collect();
        fields.push(("datum".into(), date.into()));
        let f: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = s.form("/admin/GM0344/volwassenheid", &f).await;
        let page = follow(&s, r).await;
        assert!(page.contains("Opgeslagen"), "{page}");
    }
    let stored = app
        .state
        .store
        .maturity_assessments("GM0344")
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].assessed_on, "2026-01-15");
    let page = text(s.get("/admin/GM0344/volwassenheid").await).await;
    assert!(page.contains("gestegen van 3 naar 4"), "{page}");
    assert!(page.contains("gestuurd"), "level 4 by name");
    // Alone in the benchmark: suppressed.
    assert!(page.contains("te weinig vergelijkbare gemeenten"));
}

async fn insight_demo_data_fills_the_pages(app: TestApp) {
    loket_server::seed::demo(&app.state).await.unwrap();
    let s = app
        .agent(
            "lotte@test.nl",
            &[("GM0344", "supervisor"), ("PV26", "supervisor")],
        )
        .await;
    let page = text(s.get("/admin/GM0344/kengetallen").await).await;
    assert!(page.contains("48,50"), "demo hourly cost");
    let page = text(s.get("/admin/GM0344/bezetting").await).await;
    assert!(page.contains("Anna de Vries"), "demo roster");
    let page = text(s.get("/admin/PV26/bezetting").await).await;
    assert!(page.contains("Pim Mulder"), "demo pool roster");
    let page = text(s.get("/admin/GM0344/volwassenheid").await).await;
    assert!(page.contains("Huidig niveau"));
    let named = app.state.tenant_label("GM0339");
    assert!(
        page.contains(named.as_str()),
        "the opted-in demo peer: {page}"
    );
    assert_eq!(s.get("/admin/GM0344/benchmark").await.status(), 200);
}

/// Dutch by default; in English (the user's own language) every insight page, including the
/// benchmark's groups, the staffing grid and the maturity questions, speaks English.
async fn insight_pages_in_english_when_chosen(app: TestApp) {
    loket_server::seed::demo(&app.state).await.unwrap();
    let s = app
        .agent(
            "lotte@test.nl",
            &[("GM0344", "supervisor"), ("PV26", "supervisor")],
        )
        .await;
    let page = text(s.get("/admin/GM0344/benchmark").await).await;
    assert!(page.contains("Grootteklasse"), "Dutch by default");
    // The period picker sizes to its content, like the dashboard's.
    assert!(page.contains("action=\"/admin/GM0344/benchmark\" class=\"filter-row\""));

    let id = app
        .state
        .store
        .user_by_email("lotte@test.nl")
        .await
        .unwrap();
    app.state
        .store
        .set_user_prefs(id.id, "en", id.max_open)
        .await
        .unwrap();

    let page = text(s.get("/admin/GM0344/kengetallen").await).await;
    assert!(page.contains("Figure settings"));
    assert!(
        page.contains("Number of inhabitants: derived from GeoNames"),
        "{page}"
    );

    let page = text(s.get("/admin/GM0344/benchmark").await).await;
    assert!(page.contains("Size class"));
    assert!(page.contains("250,000 inhabitants or more"), "{page}");
    assert!(page.contains("First-response time (median)"));
    for dutch in [
        "inwoners",
        "te weinig vergelijkbare",
        "gedeeld ",
        "e van ",
        "eigen waarde",
    ] {
        assert!(!page.contains(dutch), "Dutch left: {dutch}");
    }

    let page = text(s.get("/admin/GM0344/bezetting").await).await;
    assert!(page.contains("Social media and e-mail"));
    assert!(page.contains("<th scope=\"col\">Monday</th>"));
    assert!(page.contains("Anna de Vries"));
    for dutch in [
        "te weinig",
        "te veel",
        "op sterkte",
        "maandag",
        "standaardwaarde",
        "binnen",
    ] {
        assert!(!page.contains(dutch), "Dutch left: {dutch}");
    }
    let page = text(s.get("/admin/PV26/bezetting").await).await;
    assert!(page.contains("Rostering together for"), "{page}");

    let page = text(s.get("/admin/GM0344/volwassenheid").await)
        .await
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(page.contains("Current level"));
    assert!(page.contains("Monitoring & analysis"));
    assert!(page.contains("How do you follow what is said online about your municipality"));
    assert!(page.contains("Not structurally: we see posts"));
    assert!(
        ["up from", "unchanged at", "down from"]
            .iter()
            .any(|w| page.contains(w)),
        "the trend in English"
    );
    for dutch in [
        "Hoe volgt u",
        "Webcare & online dienstverlening",
        "gestegen",
        "gelijk gebleven",
    ] {
        assert!(!page.contains(dutch), "Dutch left: {dutch}");
    }
    // Refusals in English too.
    let r = s
        .form(
            "/admin/GM0344/volwassenheid",
            &[("datum", "2026-01-15"), ("q_MA1", "3")],
        )
        .await;
    assert!(follow(&s, r).await.contains("not answered yet: MA2"));
    let r = s
        .form(
            "/admin/GM0344/kengetallen",
            &[
                ("inhabitants", "heel veel"),
                ("hourly_cost", "45"),
                ("tool_cost", "0"),
            ],
        )
        .await;
    assert!(follow(&s, r).await.contains("fill in a whole number"));
}
