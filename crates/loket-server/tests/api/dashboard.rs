//! Management dashboards: who may see which figures, the period picker and filters, the
//! drill-down to the conversations behind a figure and the CSV export of every table.

use crate::both;
use crate::helpers::*;
use serde_json::json;

both!(
    dashboard_figures_drilldown_and_csv,
    dashboard_access_by_role_and_scope,
    dashboard_bad_period_and_filters_are_explained,
    dashboard_pool_and_national_views,
    handle_time_from_agent_activity,
    dashboard_reads_with_one_free_connection_permit,
    dashboard_in_english_when_chosen,
);

/// Three conversations for GM0344 over the API (one answered and resolved), one for GM0363.
async fn traffic(app: &TestApp) -> Vec<i64> {
    let key = app.api_key("GM0344", None).await;
    let mut ids = vec![];
    for (i, text) in [
        "Er ligt een losse stoeptegel op de Oudegracht, ik ben bijna gevallen.",
        "Wanneer wordt het grofvuil opgehaald in Leidsche Rijn?",
        "Hoe vraag ik een parkeervergunning aan?",
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .inbound(
                &key,
                &inbound_body(&format!("d-{i}"), &format!("inw-{i}"), text),
            )
            .await;
        assert_eq!(r.status(), 202);
        let v: serde_json::Value = r.json().await.unwrap();
        ids.push(v["conversation_id"].as_i64().unwrap());
    }
    let other = app.api_key("GM0363", None).await;
    let r = app
        .inbound(
            &other,
            &inbound_body("a-1", "inw-a", "Mijn container is niet geleegd."),
        )
        .await;
    assert_eq!(r.status(), 202);
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let r = anna
        .post(
            &format!("/api/v1/conversations/{}/assign", ids[0]),
            &json!({"user_id": anna.id}),
        )
        .await;
    assert!(r.status().is_success(), "assign: {}", r.status());
    let r = anna
        .post(
            &format!("/api/v1/conversations/{}/messages", ids[0]),
            &json!({"body": "Dank u, we sturen iemand langs."}),
        )
        .await;
    assert!(r.status().is_success(), "reply: {}", r.status());
    let r = anna
        .post(
            &format!("/api/v1/conversations/{}/state", ids[0]),
            &json!({"state": "opgelost"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    ids
}

/// The fields of one CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (vec![], String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn tile(html: &str, label: &str) -> String {
    let at = html.find(label).unwrap_or_else(|| panic!("tile {label}"));
    let rest = &html[at..];
    let v = rest.find("tile-value\">").unwrap() + "tile-value\">".len();
    rest[v..v + rest[v..].find('<').unwrap()].to_string()
}

async fn text(a: &Agent, path: &str) -> (u16, String) {
    let r = a.get(path).await;
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

async fn dashboard_figures_drilldown_and_csv(app: TestApp) {
    let ids = traffic(&app).await;
    let sanne = app
        .agent(
            "sanne@test.nl",
            &[("GM0344", "supervisor"), ("GM0344", "agent")],
        )
        .await;
    // The menu leads to the municipality's dashboard.
    let r = sanne.get("/dashboard").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard/GM0344");

    let (s, html) = text(&sanne, "/dashboard/GM0344?periode=30d").await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("Gemeente: Gemeente Utrecht") || html.contains("Gemeente: Utrecht"),
        "title"
    );
    // Three contacts, four messages in (three residents) … one reply out.
    assert_eq!(tile(&html, "Contacten</span>"), "3");
    assert!(html.contains("3 berichten in, 1 uit"), "volume note");
    // Response times in clock time and in business time (one answered conversation).
    assert!(html.contains("kantoortijd: mediaan"), "business time shown");
    assert_eq!(
        tile(&html, "Achterstand nu"),
        "2",
        "two conversations still wait"
    );
    // Charts are images with a title and a description, and have a table.
    assert!(html.contains(r#"role="img" aria-labelledby="ch-verloop-t ch-verloop-d""#));
    assert!(html.contains("<desc id=\"ch-kanalen-d\">"));
    assert!(html.contains("<caption>Contacten, berichten en eerste reactie per kanaal</caption>"));
    // Another municipality's conversation is not counted.
    assert!(!html.contains("Amsterdam"));
    // The resident of the resolved conversation was satisfied: per topic, team and (for a
    // supervisor) agent.
    let survey = app
        .state
        .store
        .csat_survey_of(ids[0])
        .await
        .unwrap()
        .expect("a survey");
    app.state
        .store
        .answer_csat_survey(&survey.token, 5, Some("Snel geholpen"))
        .await
        .unwrap();
    let (_, html) = text(&sanne, "/dashboard/GM0344?periode=30d").await;
    assert_eq!(tile(&html, "Tevredenheid</span>"), "100,0 %");
    assert!(html.contains("Tevredenheid per medewerker"));
    let at = |id: &str| {
        html.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert!(
        at("verloop") < at("kanalen")
            && at("sentiment") < at("tevredenheid")
            && at("tevredenheid") < at("uren"),
        "sections in their order"
    );
    assert!(html.contains("anna Test"), "the agent by name");
    let body = sanne
        .get("/dashboard/GM0344/export/tevredenheid_medewerkers.csv?periode=30d")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.lines()
            .nth(1)
            .unwrap()
            .ends_with(",1,\"100,0 %\",\"5,0\""),
        "{body}"
    );
    let eva = app.agent("eva@test.nl", &[("GM0344", "beheerder")]).await;
    let (_, html_eva) = text(&eva, "/dashboard/GM0344?periode=30d").await;
    assert!(html_eva.contains("Tevredenheid per team"));
    assert!(
        !html_eva.contains("Tevredenheid per medewerker"),
        "agents' scores for supervisors only"
    );
    assert_eq!(
        eva.get("/dashboard/GM0344/export/tevredenheid_medewerkers.csv")
            .await
            .status(),
        404
    );

    // Drill-down from the channel row: the conversations behind the figure.
    let kanalen = html.find("id=\"kanalen\"").expect("the channel section");
    let start = kanalen
        + html[kanalen..]
            .find("/dashboard/GM0344/gesprekken?")
            .expect("a drill-down link");
    let link = html[start..start + html[start..].find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (s, list) = text(&sanne, &link).await;
    assert_eq!(s, 200, "{link}");
    assert!(link.contains("kanaal=api"), "{link}");
    assert!(list.contains("kanaal API"), "the selection is named");
    for id in &ids {
        assert!(
            list.contains(&format!("href=\"/conversations/{id}\"")),
            "{id} in {link}"
        );
    }
    assert!(list.contains("3 gesprekken"));

    // CSV of a table and of the drill-down.
    let r = sanne
        .get("/dashboard/GM0344/export/kanalen.csv?periode=30d")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"loket-gm0344-kanalen-")
    );
    let body = r.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Kanaal,Contacten,Inkomend,Uitgaand,Eerste reactie mediaan,Eerste reactie 90 %"
    );
    assert!(lines.next().unwrap().starts_with("API,3,3,1,"), "{body}");
    let body = sanne
        .get("/dashboard/GM0344/export/gesprekken.csv?periode=7d")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        body.lines().count(),
        4,
        "header and three conversations: {body}"
    );
    // The hour of the week: three messages over the last two weeks are 1.5 a week, spread over
    // the hours they came in (each cell is the average per occurrence of that hour).
    let body = sanne
        .get("/dashboard/GM0344/export/uren.csv?periode=30d")
        .await
        .text()
        .await
        .unwrap();
    let total: f64 = body
        .lines()
        .skip(1)
        .flat_map(csv_fields)
        .filter_map(|f| f.replace(',', ".").parse::<f64>().ok())
        .sum();
    assert!((total - 1.5).abs() < 1e-9, "{total}: {body}");
    let body = sanne
        .get("/dashboard/GM0344/export/uren.csv?periode=30d&kanaal=email")
        .await
        .text()
        .await
        .unwrap();
    let total: f64 = body
        .lines()
        .skip(1)
        .flat_map(csv_fields)
        .filter_map(|f| f.replace(',', ".").parse::<f64>().ok())
        .sum();
    assert_eq!(
        total, 0.0,
        "the channel filter applies to the hour of the week"
    );
    let (s, _) = text(&sanne, "/dashboard/GM0344/export/bestaatniet.csv").await;
    assert_eq!(s, 404);
    // Every table on the page has a CSV link that answers.
    for id in [
        "verloop",
        "kanalen",
        "onderwerpen",
        "sentiment",
        "uren",
        "achterstand",
        "kengetallen",
    ] {
        let r = sanne
            .get(&format!("/dashboard/GM0344/export/{id}.csv?periode=7d"))
            .await;
        assert_eq!(r.status(), 200, "{id}");
        assert!(r.text().await.unwrap().contains(','), "{id}");
    }
    // A channel filter that matches nothing empties the figures.
    let (s, html) = text(&sanne, "/dashboard/GM0344?periode=7d&kanaal=email").await;
    assert_eq!(s, 200);
    assert_eq!(
        {
            let at = html.find("Contacten</span>").unwrap();
            let rest = &html[at..];
            let v = rest.find("tile-value\">").unwrap() + 12;
            rest[v..v + rest[v..].find('<').unwrap()].to_string()
        },
        "0"
    );
}

async fn dashboard_access_by_role_and_scope(app: TestApp) {
    traffic(&app).await;
    // An agent without a management role sees no dashboard link and gets a 403.
    let anna = app.agent("anna2@test.nl", &[("GM0344", "agent")]).await;
    let (s, inbox) = text(&anna, "/inbox").await;
    assert_eq!(s, 200);
    assert!(!inbox.contains("href=\"/dashboard\""));
    assert_eq!(anna.get("/dashboard/GM0344").await.status(), 403);
    assert_eq!(anna.get("/dashboard").await.status(), 403);
    assert_eq!(
        anna.get("/dashboard/GM0344/export/kanalen.csv")
            .await
            .status(),
        403
    );
    assert_eq!(anna.get("/dashboard/GM0344/gesprekken").await.status(), 403);
    // A supervisor of Utrecht sees Utrecht, not Amsterdam, not the pool, not national.
    let sanne = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let (_, inbox) = text(&sanne, "/inbox").await;
    assert!(inbox.contains("href=\"/dashboard\""));
    assert_eq!(sanne.get("/dashboard/GM0344").await.status(), 200);
    assert_eq!(sanne.get("/dashboard/GM0363").await.status(), 403);
    assert_eq!(sanne.get("/dashboard/PV26").await.status(), 403);
    assert_eq!(sanne.get("/dashboard/NL").await.status(), 403);
    assert_eq!(
        sanne
            .get("/dashboard/GM0363/export/kanalen.csv")
            .await
            .status(),
        403
    );
    assert_eq!(sanne.get("/dashboard/XX9999").await.status(), 404);
    // Not logged in: to the login page.
    let r = TestApp::client()
        .get(format!("{}/dashboard/GM0344", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

async fn dashboard_bad_period_and_filters_are_explained(app: TestApp) {
    traffic(&app).await;
    let sanne = app
        .agent("sanne@test.nl", &[("GM0344", "supervisor")])
        .await;
    let (s, html) = text(
        &sanne,
        "/dashboard/GM0344?periode=aangepast&van=2026-11-20&tot=2026-11-01",
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        html.contains("De einddatum ligt vóór de begindatum."),
        "{html}"
    );
    let (s, html) = text(
        &sanne,
        "/dashboard/GM0344?periode=aangepast&van=2020-01-01&tot=2026-11-01",
    )
    .await;
    assert_eq!(s, 400);
    assert!(html.contains("hoogstens een jaar"));
    let (s, html) = text(&sanne, "/dashboard/GM0344?kanaal=%3Cscript%3E").await;
    assert_eq!(s, 200);
    assert!(html.contains("Onbekend kanaal"));
    assert!(!html.contains("<script>"));
    let (s, html) = text(&sanne, "/dashboard/GM0344?team=999999").await;
    assert_eq!(s, 200);
    assert!(html.contains("Onbekend team"));
    // A team's figures: only the conversations of that team.
    let team = app
        .state
        .store
        .create_team("GM0344", "Afval")
        .await
        .unwrap();
    let ids: Vec<i64> = app
        .state
        .store
        .drill_conversations(
            &loket_store::dashboard::DashFilter {
                tenants: vec!["GM0344".into()],
                ..Default::default()
            },
            0,
            i64::MAX,
            10,
            0,
        )
        .await
        .unwrap()
        .0
        .iter()
        .map(|r| r.id)
        .collect();
    let r = sanne
        .post(
            &format!("/api/v1/conversations/{}/team", ids[0]),
            &json!({"team_id": team}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (s, html) = text(
        &sanne,
        &format!("/dashboard/GM0344?periode=30d&team={team}"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        tile(&html, "Contacten</span>"),
        "1",
        "one conversation in the team"
    );
    assert!(html.contains("Alleen de gesprekken van team ‘Afval’"));
    let (s, list) = text(
        &sanne,
        &format!("/dashboard/GM0344/gesprekken?periode=30d&team={team}"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        list.contains("1 gesprekken") || list.contains(">1 gesprek"),
        "drill-down within the team"
    );
    let (s, _) = text(
        &sanne,
        "/dashboard/GM0344/gesprekken?periode=aangepast&van=x&tot=y",
    )
    .await;
    assert_eq!(s, 400);
    // A valid custom range is kept in the links.
    let (s, html) = text(
        &sanne,
        "/dashboard/GM0344?periode=aangepast&van=2026-11-01&tot=2026-11-30",
    )
    .await;
    assert_eq!(s, 200);
    let at = html.find("export/verloop.csv").expect("csv link");
    assert!(
        html[at..].starts_with(
            "export/verloop.csv?periode=aangepast&#38;van=2026-11-01&#38;tot=2026-11-30"
        ),
        "{}",
        &html[at..at + 120]
    );
}

async fn dashboard_pool_and_national_views(app: TestApp) {
    traffic(&app).await;
    // Utrecht is served by pool PV26 (province Utrecht) in the seed.
    let pim = app
        .agent("pim@test.nl", &[("PV26", "coordinator"), ("PV26", "agent")])
        .await;
    let (s, html) = text(&pim, "/dashboard/PV26").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Regionale pool"));
    assert!(html.contains("Per gemeente"));
    assert!(
        html.contains("/dashboard/GM0344?"),
        "links to the municipality"
    );
    assert_eq!(
        pim.get("/dashboard/GM0344").await.status(),
        200,
        "a pool sees its municipalities"
    );
    assert_eq!(
        pim.get("/dashboard/GM0363").await.status(),
        403,
        "not another province"
    );
    let noor = app.agent("noor@test.nl", &[("NL", "coordinator")]).await;
    assert_eq!(
        noor.get("/dashboard").await.headers()["location"],
        "/dashboard/NL"
    );
    let (s, html) = text(&noor, "/dashboard/NL").await;
    assert_eq!(s, 200);
    assert!(
        !html.contains("kantoortijd: mediaan"),
        "no business time across municipalities"
    );
    assert!(html.contains("Landelijk overzicht"));
    let tile_at = html.find("Contacten</span>").unwrap();
    assert!(
        html[tile_at..].contains("tile-value\">4<"),
        "all municipalities count"
    );
    // The national coordinator sees the list but not the subjects of a municipality's
    // conversations.
    let (s, list) = text(&noor, "/dashboard/NL/gesprekken?periode=7d").await;
    assert_eq!(s, 200);
    assert!(list.contains("(afgeschermd)"));
    assert!(!list.contains("grofvuil"));
}

async fn handle_time_from_agent_activity(app: TestApp) {
    let ids = traffic(&app).await;
    let id = ids[1];
    let bram = app
        .agent(
            "bram@test.nl",
            &[("GM0344", "agent"), ("GM0344", "supervisor")],
        )
        .await;
    // Acting without having opened the conversation measures nothing.
    let r = bram
        .post(
            &format!("/api/v1/conversations/{id}/typing"),
            &json!({"active": true}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(app.state.store.handle_seconds(id).await.unwrap(), 0);
    // Open, work for a moment, answer: that time counts.
    assert_eq!(
        bram.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = bram
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "Het grofvuil wordt dinsdag opgehaald."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let after_reply = app.state.store.handle_seconds(id).await.unwrap();
    assert!((2..=4).contains(&after_reply), "{after_reply}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = bram
        .post(
            &format!("/api/v1/conversations/{id}/state"),
            &json!({"state": "opgelost"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let total = app.state.store.handle_seconds(id).await.unwrap();
    assert!(total > after_reply, "{total}");
    // The dashboard reports it as the handle time of the resolved conversations.
    let (s, html) = text(&bram, "/dashboard/GM0344?periode=7d").await;
    assert_eq!(s, 200);
    let at = html
        .find("Behandeltijd (mediaan)")
        .expect("handle-time tile");
    assert!(
        html[at..].contains(&format!("tile-value\">{total} s<")),
        "{}",
        &html[at..at + 300]
    );
}

/// The dashboard's reads run side by side but share a few permits (so intake always finds a
/// free connection); with only one permit left every view still completes (no read holds a
/// permit while it waits for another), and says where its time went.
async fn dashboard_reads_with_one_free_connection_permit(app: TestApp) {
    traffic(&app).await;
    let held = app
        .state
        .figure_reads
        .acquire_many(loket_server::state::FIGURE_READS as u32 - 1)
        .await
        .unwrap();
    let noor = app.agent("noor@test.nl", &[("NL", "coordinator")]).await;
    for path in [
        "/dashboard/GM0344?periode=30d",
        "/dashboard/PV26?periode=7d",
        "/dashboard/NL?periode=30d",
        "/dashboard/GM0344?periode=aangepast&van=2026-01-01&tot=2026-11-30",
    ] {
        let r = tokio::time::timeout(std::time::Duration::from_secs(30), noor.get(path))
            .await
            .unwrap_or_else(|_| panic!("{path} did not complete with one permit"));
        assert_eq!(r.status(), 200, "{path}");
        let timing = r.headers()["server-timing"].to_str().unwrap().to_string();
        for step in [
            "reads;dur=",
            "rollups;dur=",
            "sla-timings;dur=",
            "render;dur=",
        ] {
            assert!(timing.contains(step), "{path}: {timing}");
        }
    }
    drop(held);
}

/// Chooses English with the language switch (the `lang` cookie), as the menu does.
async fn choose_english(a: &Agent) {
    let r = a
        .client
        .post(format!("{}/lang", a.base))
        .form(&[("lang", "en"), ("back", "/inbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// Dutch stays the default; with English chosen (the switch, or the user's own language) the
/// whole dashboard, its charts, tables, CSV, drill-down and weekly page speak English.
async fn dashboard_in_english_when_chosen(app: TestApp) {
    traffic(&app).await;
    let sanne = app
        .agent(
            "sanne@test.nl",
            &[("GM0344", "supervisor"), ("PV26", "coordinator")],
        )
        .await;
    // Dutch by default.
    let (s, html) = text(&sanne, "/dashboard/GM0344?periode=30d").await;
    assert_eq!(s, 200);
    assert!(html.contains("<html lang=\"nl\""));
    assert_eq!(tile(&html, "Contacten</span>"), "3");
    assert!(html.contains("Berichten per dag"));
    assert!(html.contains("Toon cijfers"));
    assert!(!html.contains("Messages per day"));

    choose_english(&sanne).await;
    let (s, html) = text(&sanne, "/dashboard/GM0344?periode=30d").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Municipality: "), "title");
    // Tiles with their notes.
    assert_eq!(tile(&html, "Contacts</span>"), "3");
    assert!(html.contains("3 messages in, 1 out"), "volume note");
    assert!(html.contains("business time: median"), "business time note");
    assert_eq!(tile(&html, "Backlog now"), "2");
    // Period picker and filters.
    for label in [
        ">Today<",
        ">7 days<",
        ">Custom<",
        "Period and filters",
        ">All channels<",
        ">All topics<",
        "Show figures",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // Chart titles, SVG descriptions, captions and headers.
    assert!(html.contains("<title id=\"ch-verloop-t\">Messages per day</title>"));
    assert!(html.contains("<title id=\"ch-kanalen-t\">Contacts per channel</title>"));
    assert!(html.contains("<desc id=\"ch-kanalen-d\">Horizontal bar chart of 1 channels"));
    assert!(html.contains("<caption>Contacts, messages and first response per channel</caption>"));
    assert!(html.contains("Busyness per hour of the week"));
    assert!(html.contains("<th scope=\"row\">Monday</th>"));
    assert!(html.contains("Backlog by age"));
    assert!(html.contains("less than 1 hour"));
    assert!(html.contains("Download CSV"));
    assert!(html.contains("Table with the numbers"));
    // No Dutch left on the page (a few words that only the Dutch labels use).
    for dutch in [
        "Berichten per",
        "Contacten per kanaal",
        "Toon cijfers",
        "Achterstand",
        "maandag",
        "CSV downloaden",
        "Tevredenheid",
        "Onderwerpen",
        "kantoortijd",
        "Weekoverzicht",
    ] {
        assert!(!html.contains(dutch), "Dutch left: {dutch}");
    }

    // A bad period is explained in English.
    let (s, html) = text(
        &sanne,
        "/dashboard/GM0344?periode=aangepast&van=2026-11-20&tot=2026-11-01",
    )
    .await;
    assert_eq!(s, 400);
    assert!(html.contains("The end date is before the start date."));

    // The CSV is the table as shown: English headers.
    let body = sanne
        .get("/dashboard/GM0344/export/kanalen.csv?periode=30d")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        body.lines().next().unwrap(),
        "Channel,Contacts,Incoming,Outgoing,First response median,First response 90 %"
    );

    // The drill-down.
    let (s, list) = text(
        &sanne,
        "/dashboard/GM0344/gesprekken?periode=30d&kanaal=api",
    )
    .await;
    assert_eq!(s, 200);
    assert!(list.contains("Conversations of"), "{list}");
    assert!(list.contains("3 conversations"));
    assert!(list.contains("channel API"));
    assert!(list.contains("Subject line"));
    assert!(list.contains("← Back to the figures"));
    assert!(!list.contains("Onderwerpregel"));

    // The pool: per municipality.
    let (s, html) = text(&sanne, "/dashboard/PV26?periode=30d").await;
    assert_eq!(s, 200);
    assert!(html.contains("Regional pool: "));
    assert!(html.contains("Per municipality"));

    // The weekly page around the (Dutch) e-mail.
    let (s, html) = text(&sanne, "/dashboard/GM0344/weekoverzicht").await;
    assert_eq!(s, 200);
    assert!(html.contains("Weekly summary of"));
    assert!(
        html.contains("lang=\"nl\""),
        "the Dutch e-mail is marked as Dutch"
    );

    // The definitions page.
    let (s, html) = text(&sanne, "/uitleg/cijfers").await;
    assert_eq!(s, 200);
    assert!(html.contains("Definitions of the figures"));
    assert!(html.contains("First-response time"));

    // A user whose own language is English, without the switch.
    let id = app
        .user("emma@test.nl", "Emma Test", &[("GM0344", "supervisor")])
        .await;
    let u = app.state.store.user(id).await.unwrap();
    app.state
        .store
        .set_user_prefs(id, "en", u.max_open)
        .await
        .unwrap();
    let emma = app.login("emma@test.nl").await;
    let (s, html) = text(&emma, "/dashboard/GM0344?periode=7d").await;
    assert_eq!(s, 200);
    assert!(html.contains("Show figures"));
    assert_eq!(tile(&html, "Contacts</span>"), "3");
    let (_, html) = text(&emma, "/uitleg/cijfers").await;
    assert!(
        html.contains("Definitions of the figures"),
        "the user's own language"
    );
}
