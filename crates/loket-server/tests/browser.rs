//! End to end in headless Chromium: a resident writes on the widget, an agent sees it appear
//! live, answers with a template, the resident sees the answer live, the agent resolves. axe-core
//! checks the login page, the inbox, the conversation view, the widget and the channel admin
//! pages (WCAG 2.1 AA).
//! Screenshots go to `target/screenshots/`.

#[path = "support/browser.rs"]
mod browser;
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use browser::{Browser, axe_violations, describe_violations, screenshot, wait_js};
use fantoccini::Locator;
use helpers::*;
use std::path::PathBuf;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// JavaScript that finds an element inside the widget's shadow root.
fn w(selector: &str) -> String {
    format!("document.querySelector('loket-widget').shadowRoot.querySelector('{selector}')")
}

async fn assert_accessible(c: &fantoccini::Client, what: &str) {
    let v = axe_violations(c).await;
    assert!(
        v.is_empty(),
        "axe-core found WCAG 2.1 AA violations on {what}:\n{}",
        describe_violations(&v)
    );
}

/// Logs in through the form and waits for the inbox; `check` also runs axe-core on the login
/// page and takes its screenshot.
async fn log_in(c: &fantoccini::Client, base: &str, email: &str, check: bool) {
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_js(c, "document.querySelector('#email')", 10, "login form").await;
    if check {
        assert_accessible(c, "the login page").await;
        screenshot(c, &shots().join("login.png")).await;
    }
    c.find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "location.pathname === '/inbox'",
        10,
        "the inbox after login",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_and_agent_end_to_end() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(loket_store::Backend::Sqlite).await.unwrap();
    let anna_id = app
        .user("anna@utrecht.test", "Anna de Vries", &[("GM0344", "agent")])
        .await;
    app.state.store.set_online(anna_id, true).await.unwrap();
    app.state
        .store
        .upsert_template(Some("GM0344"), "groet", "Begroeting Utrecht", "Beste {{inwoner.naam}}, dank voor uw melding aan {{gemeente.naam}}. Groet, {{agent.voornaam}}")
        .await
        .unwrap();
    let base = app.base.clone();

    // The agent logs in (second browser session) and keeps the inbox open.
    let agent = browser.session().await;
    log_in(&agent, &base, "anna@utrecht.test", true).await;
    wait_js(
        &agent,
        "document.documentElement.dataset.live === 'on'",
        10,
        "the live connection",
    )
    .await;
    agent
        .execute("window.__notReloaded = true;", vec![])
        .await
        .unwrap();

    // The resident opens the widget on the municipality's site and writes.
    let resident = browser.session().await;
    resident
        .goto(&format!("{base}/widget/demo/GM0344"))
        .await
        .unwrap();
    wait_js(
        &resident,
        "window.LoketWidget && document.querySelector('loket-widget')",
        10,
        "the widget",
    )
    .await;
    resident
        .execute("return window.LoketWidget.ready", vec![])
        .await
        .ok();
    wait_js(
        &resident,
        &w("[data-testid=loket-launcher]").to_string(),
        10,
        "the launcher",
    )
    .await;
    assert_accessible(&resident, "the widget page (closed)").await;
    resident
        .execute(
            &format!("{}.click()", w("[data-testid=loket-launcher]")),
            vec![],
        )
        .await
        .unwrap();
    wait_js(
        &resident,
        &format!(
            "{} && !{}.hidden",
            w("[data-testid=loket-panel]"),
            w("[data-testid=loket-panel]")
        ),
        10,
        "the open panel",
    )
    .await;
    let text = "Er ligt een losse stoeptegel voor Oudegracht 112, iemand struikelt er zo over.";
    resident
        .execute(
            &format!("const t = {}; t.value = arguments[0]; t.dispatchEvent(new Event('input', {{bubbles: true}})); {}.click();", w("[data-testid=loket-input]"), w("[data-testid=loket-send]")),
            vec![serde_json::json!(text)],
        )
        .await
        .unwrap();
    wait_js(&resident, &format!("[...{}.querySelectorAll('[data-testid=loket-msg][data-direction=in]')].some(m => m.dataset.state !== 'pending' && m.dataset.state !== 'failed')", w("[data-testid=loket-log]")), 10, "the resident's message stored").await;
    assert_accessible(&resident, "the open widget").await;
    screenshot(&resident, &shots().join("widget.png")).await;

    // It appears in the agent's inbox without a reload.
    wait_js(&agent, "document.querySelector('#inbox-list') && document.querySelector('#inbox-list').textContent.includes('Oudegracht 112')", 10, "the new conversation in the inbox").await;
    assert_eq!(
        agent
            .execute("return window.__notReloaded === true", vec![])
            .await
            .unwrap(),
        serde_json::json!(true),
        "the inbox updated live, without a reload"
    );
    assert_accessible(&agent, "the inbox").await;
    screenshot(&agent, &shots().join("inbox.png")).await;

    // The agent opens it and answers with the template.
    agent.execute("[...document.querySelectorAll('#inbox-list a')].find(a => a.textContent.includes('Oudegracht 112')).click()", vec![]).await.unwrap();
    wait_js(
        &agent,
        "document.querySelector('[data-conversation-id]') && document.querySelector('#body')",
        10,
        "the conversation view",
    )
    .await;
    let conv_id: i64 = agent
        .execute(
            "return +document.querySelector('[data-conversation-id]').dataset.conversationId",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_accessible(&agent, "the conversation view").await;
    agent
        .execute("const s = document.querySelector('#template'); s.value = [...s.options].find(o => o.textContent.includes('Begroeting Utrecht')).value;", vec![])
        .await
        .unwrap();
    agent
        .find(Locator::Css("[data-template-form] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &agent,
        "document.querySelector('#body').value.includes('dank voor uw melding aan Utrecht')",
        10,
        "the template in the reply box",
    )
    .await;
    let draft = agent
        .execute("return document.querySelector('#body').value", vec![])
        .await
        .unwrap();
    assert!(
        draft.as_str().unwrap().contains("Groet, Anna"),
        "variables filled: {draft}"
    );
    screenshot(&agent, &shots().join("conversation.png")).await;
    agent
        .find(Locator::Css("[data-reply-form] button[value=reply]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &agent,
        "document.querySelector('.msg-out')",
        10,
        "the reply in the thread",
    )
    .await;

    // The resident's widget shows the reply live, in the municipality's name.
    wait_js(&resident, &format!("[...{}.querySelectorAll('[data-testid=loket-msg][data-direction=out]')].some(m => m.textContent.includes('dank voor uw melding aan Utrecht'))", w("[data-testid=loket-log]")), 10, "the agent's reply in the widget").await;
    let shown = resident
        .execute(
            &format!("return {}.textContent", w("[data-testid=loket-log]")),
            vec![],
        )
        .await
        .unwrap();
    assert!(
        shown.as_str().unwrap().contains("Gemeente Utrecht"),
        "reply shown in the municipality's name: {shown}"
    );
    screenshot(&resident, &shots().join("widget-reply.png")).await;

    // The agent resolves it with the keyboard shortcut.
    agent
        .execute(
            "document.activeElement && document.activeElement.blur()",
            vec![],
        )
        .await
        .unwrap();
    agent
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("e")
        .await
        .unwrap();
    let store = app.state.store.clone();
    eventually(10, "the conversation resolved", || {
        let s = store.clone();
        async move { (s.conversation_system(conv_id).await.ok()?.state == "opgelost").then_some(()) }
    })
    .await;
    wait_js(
        &resident,
        &format!(
            "{} && !{}.hidden",
            w("[data-testid=loket-resolved]"),
            w("[data-testid=loket-resolved]")
        ),
        10,
        "the resolved note in the widget",
    )
    .await;

    // The satisfaction survey: the page behind the link passes axe-core; the widget shows the
    // inline stars (also checked) and the resident answers with them.
    let survey = app
        .state
        .store
        .csat_survey_of(conv_id)
        .await
        .unwrap()
        .expect("a survey after resolving");
    agent
        .goto(&format!("{base}/tevredenheid/{}", survey.token))
        .await
        .unwrap();
    assert_accessible(&agent, "the survey page").await;
    wait_js(
        &resident,
        &format!("!!{}", w("[data-testid=loket-score-4]")),
        10,
        "the stars in the widget",
    )
    .await;
    assert_accessible(&resident, "the widget's survey").await;
    resident
        .execute(
            &format!(
                "{}.click(); {}.click();",
                w("[data-testid=loket-score-4]"),
                w("[data-testid=loket-survey-send]")
            ),
            vec![],
        )
        .await
        .unwrap();
    eventually(10, "the widget's answer stored", || {
        let s = store.clone();
        async move { (s.csat_survey_of(conv_id).await.ok()??.score == Some(4)).then_some(()) }
    })
    .await;
    agent.close().await.ok();
    resident.close().await.ok();
}

/// A beheerder connects a WhatsApp account through the admin pages; the overview with its health
/// and the account form pass axe-core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_admin_pages() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(loket_store::Backend::Sqlite).await.unwrap();
    app.user(
        "beheer@utrecht.test",
        "Bea Beheer",
        &[("GM0344", "beheerder")],
    )
    .await;
    let base = app.base.clone();
    let c = browser.session().await;
    log_in(&c, &base, "beheer@utrecht.test", false).await;
    c.goto(&format!("{base}/admin/GM0344/kanalen"))
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('[data-channel-accounts]')",
        10,
        "the channels page",
    )
    .await;
    assert_accessible(&c, "the channels overview (empty)").await;
    c.execute(
        "document.querySelector('#ch-kind').value = 'whatsapp'; document.querySelector('#ch-new-name').value = 'WhatsApp Utrecht';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("form[action$='/kanalen/koppeling'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('[data-webhook-url]')",
        10,
        "the account form",
    )
    .await;
    assert_accessible(&c, "the WhatsApp account form").await;
    // Fill in the token and save: the page says "ingesteld", never the value.
    c.find(Locator::Css("#ch-access_token"))
        .await
        .unwrap()
        .send_keys("EAAgeheim-token-123")
        .await
        .unwrap();
    c.find(Locator::Css("form.card.stack button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('[data-secret-state=access_token]') && document.querySelector('[data-secret-state=access_token]').textContent.trim() === 'ingesteld'",
        10,
        "the token stored",
    )
    .await;
    let html = c.source().await.unwrap();
    assert!(!html.contains("EAAgeheim-token-123"));
    screenshot(&c, &shots().join("admin-channel.png")).await;
    c.goto(&format!("{base}/admin/GM0344/kanalen"))
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('[data-account]')",
        10,
        "the overview",
    )
    .await;
    assert_accessible(&c, "the channels overview with an account").await;
    screenshot(&c, &shots().join("admin-channels.png")).await;
}

/// A few months of history for three municipalities of the Utrecht pool, written the way
/// `loket demo --history` writes it (conversations, messages and rollups in one batch).
async fn history(app: &TestApp, days: i64) {
    use loket_store::history::{HistoryBatch, HistoryConversation};
    let topics: Vec<&'static str> = loket_text::topics::all()
        .iter()
        .filter(|t| t.parent.is_some())
        .map(|t| t.code)
        .take(14)
        .collect();
    let channels = ["webchat", "email", "whatsapp", "api", "mastodon"];
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000i64;
    // A small linear congruential generator: the same history on every run.
    let mut x: u64 = 0x5eed;
    let mut next = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n.max(1)
    };
    for (tenant, per_day) in [("GM0344", 24u64), ("GM0339", 4), ("GM0340", 5)] {
        let mut batch = HistoryBatch::default();
        for d in 0..days {
            let start = now - (days - d) * day;
            for _ in 0..(per_day / 2 + next(per_day)) {
                let created = start + 7 * 3_600_000 + next(11 * 3_600_000) as i64;
                if created >= now {
                    continue;
                }
                let fr = created + 60_000 + next(4 * 3_600_000) as i64;
                let res = fr + next(2 * day as u64) as i64;
                let done = res < now;
                let topic = topics[next(topics.len() as u64) as usize];
                batch.conversations.push(HistoryConversation {
                    tenant_code: tenant.into(),
                    channel: channels[next(channels.len() as u64) as usize].into(),
                    topic: (next(10) > 0).then(|| topic.to_string()),
                    priority: "normaal".into(),
                    state: if done { "opgelost" } else { "open" }.into(),
                    subject: "Vraag van een inwoner".into(),
                    sentiment: Some(
                        ["negatief", "neutraal", "neutraal", "positief"][next(4) as usize].into(),
                    ),
                    created_at: created,
                    first_response_at: (fr < now).then_some(fr),
                    first_resolved_at: done.then_some(res),
                    resolved_at: done.then_some(res),
                    reopened_at: vec![],
                    handled_by_pool: tenant != "GM0344" && next(3) == 0,
                    first_response_due: Some(created + 4 * 3_600_000),
                    resolution_due: Some(created + 2 * day),
                    handle_seconds: 60 + next(600) as i64,
                    csat_score: done.then(|| 1 + next(5) as i64),
                    messages: {
                        let mut m = vec![("in", "Ik heb een vraag.".to_string(), created)];
                        if fr < now {
                            m.push(("out", "Dank voor uw bericht.".to_string(), fr));
                        }
                        m
                    },
                });
            }
        }
        app.state.store.insert_history(&batch).await.unwrap();
    }
    app.state.store.after_history().await.unwrap();
}

/// A supervisor opens the dashboard with three months of history, changes the period, drills
/// down from a bar to the conversations and downloads a CSV; axe-core checks the tenant
/// dashboard, the drill-down and the pool dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_period_drilldown_and_csv() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(loket_store::Backend::Sqlite).await.unwrap();
    history(&app, 92).await;
    app.user(
        "sanne@utrecht.test",
        "Sanne Bakker",
        &[
            ("GM0344", "supervisor"),
            ("GM0344", "agent"),
            ("PV26", "coordinator"),
        ],
    )
    .await;
    let base = app.base.clone();
    let (c, downloads) = browser.session_with_downloads().await;
    c.set_window_size(1366, 2600).await.ok();
    log_in(&c, &base, "sanne@utrecht.test", false).await;
    // The menu leads to the figures.
    c.find(Locator::Css("nav.mainnav a[href='/dashboard']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &c,
        "location.pathname === '/dashboard/GM0344' && document.querySelector('.tiles')",
        10,
        "the tenant dashboard",
    )
    .await;
    let contacts_30 = c
        .execute(
            "return document.querySelector('.tile .tile-value').textContent.trim()",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        contacts_30.as_str(),
        Some("0"),
        "history is on the dashboard"
    );
    assert_accessible(&c, "the tenant dashboard").await;
    screenshot(&c, &shots().join("dashboard.png")).await;

    // Change the period to 7 days.
    c.find(Locator::Css("input[name=periode][value='7d']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("form.dash-filters button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &c,
        "location.search.includes('periode=7d') && document.querySelector('input[value=\"7d\"]').checked",
        10,
        "the 7-day period",
    )
    .await;
    let contacts_7 = c
        .execute(
            "return document.querySelector('.tile .tile-value').textContent.trim()",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        contacts_7, contacts_30,
        "fewer contacts in 7 days than in 30"
    );
    let bars = c
        .execute(
            "return document.querySelectorAll('#verloop svg.chart rect.bar.link').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bars.as_i64(), Some(14), "7 days × in and out");

    // CSV download of the per-day table, with the browser's session.
    let csv = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const a = document.querySelector('#verloop a[download]');
             fetch(a.href).then(async r => done([r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), await r.text()]));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(csv[0].as_i64(), Some(200));
    assert_eq!(csv[1].as_str(), Some("text/csv; charset=utf-8"));
    assert!(csv[2].as_str().unwrap().contains("loket-gm0344-verloop-"));
    let body = csv[3].as_str().unwrap();
    assert!(
        body.starts_with("Dag,Contacten,Inkomend,Uitgaand\r\n"),
        "{body}"
    );
    assert_eq!(body.lines().count(), 8, "a header and 7 days");
    // And as the browser saves it: a click on the link puts the file in the download folder.
    c.find(Locator::Css("#verloop a[download]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut saved = None;
    for _ in 0..100 {
        saved = std::fs::read_dir(&downloads).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "csv"))
        });
        if saved.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let saved = saved.expect("the CSV is saved in the download folder within 10 s");
    let name = saved.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("loket-gm0344-verloop-"), "{name}");
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        body,
        "the saved file is the CSV"
    );

    // Drill down: a click on the first day's bar lists the conversations of that day.
    c.execute(
        "document.querySelector('#verloop svg.chart rect.bar.link')
           .dispatchEvent(new MouseEvent('click', {bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    wait_js(
        &c,
        "location.pathname === '/dashboard/GM0344/gesprekken' && document.querySelector('table#drill tbody tr a[href^=\"/conversations/\"]')",
        10,
        "the conversations behind the bar",
    )
    .await;
    assert_accessible(&c, "the drill-down list").await;
    screenshot(&c, &shots().join("dashboard-drilldown.png")).await;
    c.find(Locator::Css("table#drill tbody tr a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        &c,
        "location.pathname.startsWith('/conversations/')",
        10,
        "a conversation from the drill-down",
    )
    .await;

    // The pool's dashboard: the municipalities it serves.
    c.goto(&format!("{base}/dashboard/PV26?periode=30d"))
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('#gemeenten')",
        10,
        "the pool dashboard",
    )
    .await;
    assert_accessible(&c, "the pool dashboard").await;
    screenshot(&c, &shots().join("dashboard-pool.png")).await;

    // The benchmark, the staffing grid, the maturity questionnaire and the figure settings,
    // reached from the dashboard, and the weekly summary.
    for (link, ready, file) in [
        (
            "benchmark",
            "document.querySelector('main table')",
            "benchmark.png",
        ),
        (
            "bezetting",
            "document.querySelector('main table')",
            "bezetting.png",
        ),
        (
            "volwassenheid",
            "document.querySelector('main fieldset')",
            "volwassenheid.png",
        ),
        (
            "kengetallen",
            "document.querySelector('main form')",
            "kengetallen.png",
        ),
    ] {
        c.goto(&format!("{base}/dashboard/GM0344")).await.unwrap();
        c.find(Locator::Css(&format!(
            ".dash-more a[href='/admin/GM0344/{link}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("link to {link}: {e}"))
        .click()
        .await
        .unwrap();
        wait_js(&c, ready, 10, link).await;
        assert_accessible(&c, &format!("the {link} page")).await;
        screenshot(&c, &shots().join(file)).await;
    }
    c.goto(&format!("{base}/dashboard/GM0344/weekoverzicht"))
        .await
        .unwrap();
    wait_js(
        &c,
        "document.querySelector('.mail-preview')",
        10,
        "the weekly summary",
    )
    .await;
    assert_accessible(&c, "the weekly summary page").await;
}

/// Screenshots of a running demo with a year of history (`loket demo --history 365d`), for
/// the documentation: not part of the test run. Run with
/// `LOKET_SCREENSHOT_DEMO=http://127.0.0.1:8080 LOKET_SCREENSHOT_CREDS=loket-data/demo-wachtwoorden.txt
///  cargo test -p loket-server --test browser demo_screenshots -- --ignored`.
/// Every page is also checked with axe-core and its load time printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running demo with history"]
async fn demo_screenshots() {
    let base = std::env::var("LOKET_SCREENSHOT_DEMO").expect("LOKET_SCREENSHOT_DEMO");
    let creds = std::fs::read_to_string(
        std::env::var("LOKET_SCREENSHOT_CREDS").expect("LOKET_SCREENSHOT_CREDS"),
    )
    .unwrap();
    let password = |email: &str| -> String {
        creds
            .lines()
            .find(|l| l.starts_with(email))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("{email} not in the credentials file"))
            .to_string()
    };
    let browser = Browser::start().await.expect("a browser");
    let dir = shots().join("demo");
    for (email, pages) in [
        (
            "sanne@utrecht.demo",
            vec![
                ("/dashboard/GM0344?periode=30d", "dashboard-utrecht-30d.png"),
                (
                    "/dashboard/GM0344?periode=aangepast&van=YEAR_AGO&tot=TODAY",
                    "dashboard-utrecht-jaar.png",
                ),
                ("/admin/GM0344/benchmark", "benchmark-utrecht.png"),
                ("/admin/GM0344/bezetting", "bezetting-utrecht.png"),
                ("/admin/GM0344/volwassenheid", "volwassenheid-utrecht.png"),
                (
                    "/dashboard/GM0344/weekoverzicht",
                    "weekoverzicht-utrecht.png",
                ),
            ],
        ),
        (
            "pim@regio-utrecht.demo",
            vec![
                ("/dashboard/PV26?periode=30d", "dashboard-pool-utrecht.png"),
                ("/admin/PV26/bezetting", "bezetting-pool-utrecht.png"),
            ],
        ),
        (
            "noor@mijngemeente.demo",
            vec![("/dashboard/NL?periode=7d", "dashboard-landelijk-7d.png")],
        ),
    ] {
        let c = browser.session().await;
        c.set_window_size(1440, 3000).await.ok();
        c.goto(&format!("{base}/login")).await.unwrap();
        wait_js(&c, "document.querySelector('#email')", 10, "login").await;
        c.find(Locator::Css("#email"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        c.find(Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys(&password(email))
            .await
            .unwrap();
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_js(&c, "location.pathname === '/inbox'", 20, "the inbox").await;
        let today = chrono::Utc::now().date_naive();
        for (path, file) in pages {
            let path = path
                .replace(
                    "YEAR_AGO",
                    &(today - chrono::Duration::days(364)).to_string(),
                )
                .replace("TODAY", &today.to_string());
            let started = std::time::Instant::now();
            c.goto(&format!("{base}{path}")).await.unwrap();
            wait_js(&c, "document.readyState === 'complete'", 60, &path).await;
            println!("{path}: {} ms", started.elapsed().as_millis());
            let v = axe_violations(&c).await;
            if !v.is_empty() {
                println!("axe on {path}:\n{}", describe_violations(&v));
            }
            // The whole page, not only the viewport.
            let h = c
                .execute("return document.documentElement.scrollHeight", vec![])
                .await
                .unwrap()
                .as_u64()
                .unwrap_or(3000);
            c.set_window_size(1440, h.clamp(900, 9000) as u32)
                .await
                .ok();
            screenshot(&c, &dir.join(file)).await;
            c.set_window_size(1440, 3000).await.ok();
        }
        c.close().await.ok();
    }
}
