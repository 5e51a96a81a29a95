//! The tenant admin screens and their JSON API, black-box: the real server on a random port
//! against a fresh SQLite database, driven over HTTP with a cookie-keeping client that logs in
//! through the real login form.

use loket_core::tenant::PoolHandover;
use loket_server::{Config, auth, seed, state::AppState};
use loket_store::Backend;
use loket_store::testing::{TestDb, fresh};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "een-lang-genoeg-wachtwoord";

struct App {
    base: String,
    state: AppState,
    _db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn spawn() -> App {
    let db = fresh(Backend::Sqlite).await.expect("sqlite test db");
    let config = Config {
        database_url: db.url.clone(),
        ..Config::default()
    };
    let state = loket_server::build(config, None).await.expect("build");
    seed::tenants(&state.store).await.expect("seed tenants");
    seed::templates(&state.store).await.expect("seed templates");
    state.reload_tenants().await.expect("reload");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(loket_server::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    App {
        base: format!("http://{addr}"),
        state,
        _db: db,
        stop: Some(tx),
    }
}

impl App {
    async fn user(&self, email: &str, name: &str, roles: &[(&str, &str)]) -> i64 {
        let id = self
            .state
            .store
            .create_user(email, name, &auth::hash_password(PASSWORD).unwrap())
            .await
            .unwrap();
        for (tenant, role) in roles {
            self.state.store.grant(id, tenant, role).await.unwrap();
        }
        id
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in through the real form; returns the client (cookies kept) and the session's CSRF token.
    async fn login_with(&self, email: &str, password: &str) -> (reqwest::Client, String) {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let html = c
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&html, "csrf").expect("login form csrf");
        let r = c
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login of {email}");
        assert!(
            r.url().path().starts_with("/inbox"),
            "landed on {}",
            r.url()
        );
        let me: Value = c
            .get(self.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (c, me["csrf"].as_str().unwrap().to_string())
    }

    async fn login(&self, email: &str) -> (reqwest::Client, String) {
        self.login_with(email, PASSWORD).await
    }

    fn settings(&self, code: &str) -> loket_core::tenant::TenantSettings {
        self.state.tenant(code).unwrap().settings
    }
}

/// The value of the first hidden input named `name`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// The secrets a show-once page lists (`<code … data-secret>value</code>`).
fn secrets(html: &str) -> Vec<String> {
    html.split("data-secret>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(str::to_string)
        .collect()
}

async fn post_form(
    c: &reqwest::Client,
    url: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let r = c.post(url).form(fields).send().await.unwrap();
    let status = r.status();
    let landed = r.url().to_string();
    (status, landed, r.text().await.unwrap())
}

fn is_problem(r: &reqwest::Response) -> bool {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

const UTRECHT: &str = "GM0344";
const AMSTERDAM: &str = "GM0363";

#[tokio::test]
async fn beheerder_changes_branding_hours_and_sla_with_the_forms() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let (c, csrf) = app.login("beheer@utrecht.nl").await;

    // The admin entry redirects to the first section, in Dutch.
    let r = c.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().ends_with("/admin/GM0344/huisstijl"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Huisstijl") && html.contains("Voorbeeld van een antwoord"));

    let (status, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/huisstijl"),
        &[
            ("csrf", &csrf),
            ("display_name", "Gemeente Utrecht (test)"),
            ("primary_color", "#FFDD00"),
            ("accent_color", "#000000"),
            ("logo_url", "https://www.utrecht.nl/logo.svg"),
            ("signature", "Groet,\nTeam Webcare"),
            ("greeting_nl", "Hallo!"),
            ("greeting_en", "Hello!"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(landed.contains("ok="), "{landed}");
    assert!(html.contains("Opgeslagen."));
    // Yellow with white text is unreadable: saved, with a warning.
    assert!(html.contains("4,5:1"), "contrast warning shown");
    let t = app.state.tenant(UTRECHT).unwrap();
    assert_eq!(t.display_name, "Gemeente Utrecht (test)");
    assert_eq!(t.settings.primary_color, "#ffdd00");
    assert_eq!(
        t.settings.logo_url.as_deref(),
        Some("https://www.utrecht.nl/logo.svg")
    );
    assert_eq!(t.settings.signature, "Groet,\nTeam Webcare");
    let css = c
        .get(app.url("/admin/GM0344/admin.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("--brand: #ffdd00") && css.contains("--brand-fg: #000000"));

    // English through the language switch (the `lang` cookie), and back.
    let (_, landed, html) = post_form(
        &c,
        &app.url("/lang"),
        &[("lang", "en"), ("back", "/admin/GM0344/openingstijden")],
    )
    .await;
    assert!(landed.ends_with("/admin/GM0344/openingstijden"), "{landed}");
    assert!(html.contains("Business hours") && html.contains("Koningsdag"));
    post_form(&c, &app.url("/lang"), &[("lang", "nl"), ("back", "/inbox")]).await;

    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/openingstijden"),
        &[
            ("csrf", &csrf),
            ("d0", "08:00-18:00"),
            ("d1", "08:30-17:00"),
            ("d2", "08:30–17:00"),
            ("d3", "08:30-17:00"),
            ("d4", "08:30-12:00"),
            ("d5", ""),
            ("d6", "gesloten"),
        ],
    )
    .await;
    assert!(landed.contains("ok="), "{landed}");
    let hours = app.settings(UTRECHT).hours;
    assert_eq!(hours.days[0].unwrap().to_string(), "08:00-18:00");
    assert_eq!(hours.days[4].unwrap().to_string(), "08:30-12:00");
    assert!(hours.days[5].is_none() && hours.days[6].is_none());

    let (_, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/servicenormen"),
        &[
            ("csrf", &csrf),
            ("first_laag", "960"),
            ("first_normaal", "240"),
            ("first_hoog", "60"),
            ("first_spoed", "15"),
            ("res_laag", "4800"),
            ("res_normaal", "2400"),
            ("res_hoog", "480"),
            ("res_spoed", "120"),
        ],
    )
    .await;
    assert!(landed.contains("ok="), "{landed}");
    assert!(
        html.contains("kloktijd"),
        "explains that spoed is clock time"
    );
    let sla = app.settings(UTRECHT).sla;
    assert_eq!(sla.first_response_minutes, [960, 240, 60, 15]);
    assert_eq!(sla.resolution_minutes, [4800, 2400, 480, 120]);

    // Pool handover and taking it back.
    let (_, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/regiopool"),
        &[("csrf", &csrf), ("mode", "backlog"), ("n", "3")],
    )
    .await;
    assert!(landed.contains("ok=pool"), "{landed}");
    assert!(html.contains("Regiopool"));
    assert_eq!(
        app.settings(UTRECHT).handover,
        PoolHandover::Backlog { n: 3 }
    );
    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/regiopool"),
        &[("csrf", &csrf), ("mode", "never")],
    )
    .await;
    assert!(landed.contains("ok=terug"), "{landed}");
    assert_eq!(app.settings(UTRECHT).handover, PoolHandover::Never);

    // Signalen: the address and the automatic rule; a plain-http address is refused.
    let html = c
        .get(app.url("/admin/GM0344/signalen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Adres van Signalen"), "Dutch label");
    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/signalen"),
        &[
            ("csrf", &csrf),
            ("url", "https://meldingen.utrecht.example/ "),
            ("auto", "1"),
            ("min_percent", "75"),
        ],
    )
    .await;
    assert!(landed.contains("ok="), "{landed}");
    let s = app.settings(UTRECHT);
    assert_eq!(
        s.signalen_url.as_deref(),
        Some("https://meldingen.utrecht.example")
    );
    assert_eq!(s.signalen_auto_min_confidence, Some(0.75));
    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/signalen"),
        &[("csrf", &csrf), ("url", "http://meldingen.utrecht.example")],
    )
    .await;
    assert!(landed.contains("fout="), "{landed}");
    assert_eq!(
        app.settings(UTRECHT).signalen_url.as_deref(),
        Some("https://meldingen.utrecht.example")
    );
    // Unticking the rule keeps the address and turns automatic forwarding off.
    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/signalen"),
        &[
            ("csrf", &csrf),
            ("url", "https://meldingen.utrecht.example"),
        ],
    )
    .await;
    assert!(landed.contains("ok="), "{landed}");
    assert_eq!(app.settings(UTRECHT).signalen_auto_min_confidence, None);
}

#[tokio::test]
async fn form_errors_are_dutch_and_save_nothing() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let (c, csrf) = app.login("beheer@utrecht.nl").await;
    let before = app.settings(UTRECHT);

    let (status, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/huisstijl"),
        &[
            ("csrf", &csrf),
            ("display_name", "Gemeente Utrecht"),
            ("primary_color", "rood"),
            ("accent_color", "#ffffff"),
            ("greeting_nl", "Hallo"),
            ("greeting_en", "Hello"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(landed.contains("fout="), "{landed}");
    assert!(html.contains("ongeldige hoofdkleur"), "Dutch error shown");

    let (_, _, html) = post_form(
        &c,
        &app.url("/admin/GM0344/huisstijl"),
        &[
            ("csrf", &csrf),
            ("display_name", "Gemeente Utrecht"),
            ("primary_color", "#c8102e"),
            ("accent_color", "#ffffff"),
            ("logo_url", "http://onveilig.example/logo.png"),
            ("greeting_nl", "Hallo"),
            ("greeting_en", "Hello"),
        ],
    )
    .await;
    assert!(html.contains("het logo-adres moet"), "logo must be https");

    let (_, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/openingstijden"),
        &[
            ("csrf", &csrf),
            ("d0", "25:00-26:00"),
            ("d1", "08:30-17:00"),
        ],
    )
    .await;
    assert!(landed.contains("fout="), "{landed}");
    assert!(html.contains("maandag") && html.contains("ongeldige tijd"));

    let (_, _, html) = post_form(
        &c,
        &app.url("/admin/GM0344/openingstijden"),
        &[("csrf", &csrf)],
    )
    .await;
    assert!(html.contains("minstens één dag"), "all closed is refused");

    let (_, _, html) = post_form(
        &c,
        &app.url("/admin/GM0344/servicenormen"),
        &[
            ("csrf", &csrf),
            ("first_laag", "9999"),
            ("first_normaal", "60"),
            ("first_hoog", "60"),
            ("first_spoed", "15"),
            ("res_laag", "100"),
            ("res_normaal", "600"),
            ("res_hoog", "600"),
            ("res_spoed", "60"),
        ],
    )
    .await;
    assert!(html.contains("niet later zijn dan de oplossing"));

    let (_, landed, html) = post_form(
        &c,
        &app.url("/admin/GM0344/standaardantwoorden"),
        &[
            ("csrf", &csrf),
            ("key", "bsn"),
            ("title", "BSN"),
            ("body", "Uw BSN is {{inwoner.bsn}}"),
        ],
    )
    .await;
    assert!(landed.contains("fout="), "{landed}");
    assert!(html.contains("onbekende variabele"));

    assert_eq!(app.settings(UTRECHT), before, "nothing was saved");
    let own: Vec<_> = app
        .state
        .store
        .templates(Some(UTRECHT))
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.tenant_code.is_some())
        .collect();
    assert!(own.is_empty());
}

#[tokio::test]
async fn settings_through_the_api() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let (c, csrf) = app.login("beheer@utrecht.nl").await;
    let url = app.url("/api/v1/tenants/GM0344/settings");

    let got: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["code"], "GM0344");
    assert!(got["pool_code"].is_string());
    let mut settings = got["settings"].clone();
    settings["primary_color"] = json!("#00693e");
    settings["hours"]["days"][5] = json!({"open": "10:00", "close": "14:00"});
    settings["sla"]["first_response_minutes"] = json!([600, 300, 90, 20]);
    settings["handover"] = json!({"mode": "outside_hours"});
    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Gemeente Utrecht", "settings": settings}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["settings"]["primary_color"], "#00693e");
    let s = app.settings(UTRECHT);
    assert_eq!(s.primary_color, "#00693e");
    assert_eq!(s.hours.days[5].unwrap().to_string(), "10:00-14:00");
    assert_eq!(s.sla.first_response_minutes, [600, 300, 90, 20]);
    assert_eq!(s.handover, PoolHandover::OutsideHours);
    let before = s;

    // Invalid values: 422 problems, nothing saved.
    let mut bad = settings.clone();
    bad["primary_color"] = json!("red");
    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Gemeente Utrecht", "settings": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&r));
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://loket.nl/problems/invalid");
    assert!(p["detail"].as_str().unwrap().contains("hoofdkleur"));

    let mut bad = settings.clone();
    bad["hours"]["days"][0] = json!({"open": "25:00", "close": "26:00"});
    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Gemeente Utrecht", "settings": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&r));

    let mut bad = settings.clone();
    bad["hours"]["days"] = json!([null, null, null, null, null, null, null]);
    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Gemeente Utrecht", "settings": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body("{\"display_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(is_problem(&r));

    let r = c
        .put(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "X", "settings": settings, "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.settings(UTRECHT), before, "nothing half-written");

    // Templates: unknown variable is a 422 problem; a valid one is created.
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/templates"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"key": "bsn", "title": "BSN", "body": "{{inwoner.bsn}}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&r));
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/templates"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"key": "groet", "title": "Groet", "body": "Hoi {{inwoner.naam}}, {{gemeente.weergavenaam}} hier."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let r = c
        .put(app.url(&format!("/api/v1/tenants/GM0344/templates/{id}")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"key": "groet", "title": "Groet", "body": "Dag {{inwoner.naam}}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = c
        .get(app.url("/api/v1/tenants/GM0344/templates"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["own"][0]["body"], "Dag {{inwoner.naam}}");
    assert!(list["national"].as_array().unwrap().len() >= 5);

    // The OpenAPI document lists the admin API.
    let doc: Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/tenants/{code}/settings"]["put"].is_object());
    assert!(doc["paths"]["/api/v1/tenants/{code}/api-keys"]["post"].is_object());
}

#[tokio::test]
async fn only_the_tenants_own_beheerder_gets_in() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    app.user("agent@utrecht.nl", "Anna Agent", &[(UTRECHT, "agent")])
        .await;
    app.user(
        "beheer@amsterdam.nl",
        "Adam Beheer",
        &[(AMSTERDAM, "beheerder")],
    )
    .await;
    let (agent, agent_csrf) = app.login("agent@utrecht.nl").await;
    let (other, other_csrf) = app.login("beheer@amsterdam.nl").await;
    let pages = [
        "huisstijl",
        "openingstijden",
        "servicenormen",
        "regiopool",
        "teams",
        "medewerkers",
        "standaardantwoorden",
        "kanalen",
        "signalen",
    ];
    for p in pages {
        let url = app.url(&format!("/admin/GM0344/{p}"));
        let r = agent.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "agent on {p}");
        let r = other.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "other beheerder on {p}");
    }
    let api = ["settings", "teams", "users", "templates", "api-keys"];
    for p in api {
        let url = app.url(&format!("/api/v1/tenants/GM0344/{p}"));
        let r = agent.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "agent on {p}");
        assert!(is_problem(&r));
        let r = other.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "other beheerder on {p}");
        assert!(is_problem(&r));
    }
    // Writes are refused the same way, and change nothing.
    let before = app.settings(UTRECHT);
    let r = agent
        .put(app.url("/api/v1/tenants/GM0344/settings"))
        .header("x-csrf-token", &agent_csrf)
        .json(&json!({"display_name": "Overgenomen", "settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = other
        .post(app.url("/api/v1/tenants/GM0344/api-keys"))
        .header("x-csrf-token", &other_csrf)
        .json(&json!({"name": "inbraak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, _, _) = post_form(
        &agent,
        &app.url("/admin/GM0344/huisstijl"),
        &[
            ("csrf", &agent_csrf),
            ("display_name", "Overgenomen"),
            ("primary_color", "#000000"),
            ("accent_color", "#ffffff"),
            ("greeting_nl", "x"),
            ("greeting_en", "x"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        &other,
        &app.url("/admin/GM0344/regiopool"),
        &[("csrf", &other_csrf), ("mode", "always")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.settings(UTRECHT), before);
    assert_eq!(
        app.state.tenant(UTRECHT).unwrap().display_name,
        "Gemeente Utrecht"
    );
    assert!(
        app.state
            .store
            .api_keys_of(UTRECHT)
            .await
            .unwrap()
            .is_empty()
    );

    // Unknown tenants are 404 too; no session is 401 (API) or the login page.
    let (admin, _) = app.login("beheer@utrecht.nl").await;
    let r = admin
        .get(app.url("/admin/GM9999/huisstijl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let anon = reqwest::Client::new();
    let r = anon
        .get(app.url("/api/v1/tenants/GM0344/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = anon
        .get(app.url("/admin/GM0344/huisstijl"))
        .send()
        .await
        .unwrap();
    assert!(r.url().path().starts_with("/login"));
}

#[tokio::test]
async fn csrf_is_required() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let (c, _csrf) = app.login("beheer@utrecht.nl").await;
    let before = app.settings(UTRECHT);
    let (status, _, _) = post_form(
        &c,
        &app.url("/admin/GM0344/huisstijl"),
        &[
            ("display_name", "Zonder token"),
            ("primary_color", "#000000"),
            ("accent_color", "#ffffff"),
            ("greeting_nl", "x"),
            ("greeting_en", "x"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        &c,
        &app.url("/admin/GM0344/kanalen"),
        &[("csrf", "verkeerd"), ("name", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = c
        .put(app.url("/api/v1/tenants/GM0344/settings"))
        .json(&json!({"display_name": "Zonder token", "settings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(is_problem(&r));
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/teams"))
        .json(&json!({"name": "Zonder token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.settings(UTRECHT), before);
    assert!(
        app.state
            .store
            .api_keys_of(UTRECHT)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.state
            .store
            .teams(&[UTRECHT.to_string()])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn api_key_created_in_the_admin_screen_delivers_messages() {
    let app = spawn().await;
    app.user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let (c, csrf) = app.login("beheer@utrecht.nl").await;

    let (status, _, html) = post_form(
        &c,
        &app.url("/admin/GM0344/kanalen"),
        &[
            ("csrf", &csrf),
            ("name", "Zaaksysteem"),
            ("channel", "api"),
            ("webhook_url", "https://zaken.utrecht.example/loket"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shown = secrets(&html);
    let key = shown
        .iter()
        .find(|s| s.starts_with("lk_"))
        .expect("key shown once")
        .clone();
    assert_eq!(shown.len(), 5, "name, channel, webhook, key, secret");

    // Listed without the key or the secret.
    let list = c
        .get(app.url("/admin/GM0344/kanalen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("Zaaksysteem") && list.contains("https://zaken.utrecht.example/loket"));
    assert!(!list.contains(&key));
    let keys: Value = c
        .get(app.url("/api/v1/tenants/GM0344/api-keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["has_webhook_secret"], true);
    assert!(!keys.to_string().contains(&key));

    let inbound = |key: String, ext: &'static str| {
        let url = app.url("/api/v1/inbound");
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&json!({
                    "external_id": ext,
                    "channel": "api",
                    "author": {"id": "inwoner-1", "name": "Ine Inwoner"},
                    "text": "Er ligt een losse stoeptegel op de Oudegracht.",
                    "sent_at": "2026-11-30T10:00:00Z"
                }))
                .send()
                .await
                .unwrap()
        }
    };
    let r = inbound(key.clone(), "z-1").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let accepted: Value = r.json().await.unwrap();
    let conv = app
        .state
        .store
        .conversation(
            accepted["conversation_id"].as_i64().unwrap(),
            &[UTRECHT.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(conv.tenant_code, UTRECHT);

    // The API creates keys too; deleting one stops it working.
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/api-keys"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Formulieren", "webhook_url": "ftp://nee"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/api-keys"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Formulieren"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let k: Value = r.json().await.unwrap();
    let key2 = k["key"].as_str().unwrap().to_string();
    assert!(!k["webhook_secret"].as_str().unwrap().is_empty());
    assert_eq!(
        inbound(key2.clone(), "f-1").await.status(),
        StatusCode::ACCEPTED
    );
    let id2 = k["id"].as_i64().unwrap();
    let r = c
        .delete(app.url(&format!("/api/v1/tenants/GM0344/api-keys/{id2}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        inbound(key2, "f-2").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The first key still works.
    assert_eq!(inbound(key, "z-2").await.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn teams_users_and_templates() {
    let app = spawn().await;
    let me = app
        .user("beheer@utrecht.nl", "Bea Beheer", &[(UTRECHT, "beheerder")])
        .await;
    let anna = app
        .user("anna@utrecht.nl", "Anna Agent", &[(UTRECHT, "agent")])
        .await;
    let outsider = app
        .user("olaf@amsterdam.nl", "Olaf", &[(AMSTERDAM, "agent")])
        .await;
    let (c, csrf) = app.login("beheer@utrecht.nl").await;

    // Teams by form: create, add a member, refuse an outsider.
    let (_, landed, _) = post_form(
        &c,
        &app.url("/admin/GM0344/teams"),
        &[("csrf", &csrf), ("name", "Buitendienst")],
    )
    .await;
    assert!(landed.contains("ok=team"), "{landed}");
    let team = app.state.store.teams(&[UTRECHT.to_string()]).await.unwrap()[0].id;
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!("/admin/GM0344/teams/{team}/leden")),
        &[
            ("csrf", &csrf),
            ("user", &anna.to_string()),
            ("action", "add"),
        ],
    )
    .await;
    assert!(landed.contains("ok=leden"), "{landed}");
    assert_eq!(
        app.state.store.team_members(team).await.unwrap(),
        vec![anna]
    );
    let r = c
        .put(app.url(&format!(
            "/api/v1/tenants/GM0344/teams/{team}/members/{outsider}"
        )))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/teams"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Buitendienst"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let teams: Value = c
        .get(app.url("/api/v1/tenants/GM0344/teams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(teams[0]["members"][0]["id"], anna);

    // A new user: the password is shown once and works.
    let (status, _, html) = post_form(
        &c,
        &app.url("/admin/GM0344/medewerkers"),
        &[
            ("csrf", &csrf),
            ("email", "Nieuw@Utrecht.nl"),
            ("name", "Nina Nieuw"),
            ("role", "agent"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shown = secrets(&html);
    assert_eq!(shown[0], "nieuw@utrecht.nl");
    let (_, nina_csrf) = app.login_with("nieuw@utrecht.nl", &shown[1]).await;
    assert!(!nina_csrf.is_empty());
    let stored = app
        .state
        .store
        .user_by_email("nieuw@utrecht.nl")
        .await
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));

    // An existing e-mail gets the role (the pooled agent).
    let r = c
        .post(app.url("/api/v1/tenants/GM0344/users"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"email": "olaf@amsterdam.nl", "role": "agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["created"], false);
    assert!(added["password"].is_null());
    let roles = app.state.store.memberships(outsider).await.unwrap();
    assert_eq!(roles.len(), 2);

    // Roles and capacity by form; the beheerder cannot drop their own beheerder role.
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!("/admin/GM0344/medewerkers/{anna}/rollen")),
        &[("csrf", &csrf), ("role", "supervisor"), ("action", "grant")],
    )
    .await;
    assert!(landed.contains("ok=rol"), "{landed}");
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!("/admin/GM0344/medewerkers/{anna}/capaciteit")),
        &[("csrf", &csrf), ("max_open", "3")],
    )
    .await;
    assert!(landed.contains("ok=capaciteit"), "{landed}");
    assert_eq!(app.state.store.user(anna).await.unwrap().max_open, 3);
    let (_, landed, html) = post_form(
        &c,
        &app.url(&format!("/admin/GM0344/medewerkers/{me}/rollen")),
        &[("csrf", &csrf), ("role", "beheerder"), ("action", "revoke")],
    )
    .await;
    assert!(landed.contains("fout="), "{landed}");
    assert!(html.contains("eigen beheerdersrol"));
    let r = c
        .delete(app.url(&format!(
            "/api/v1/tenants/GM0344/users/{me}/roles/beheerder"
        )))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c
        .delete(app.url(&format!(
            "/api/v1/tenants/GM0344/users/{anna}/roles/supervisor"
        )))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let users: Value = c
        .get(app.url("/api/v1/tenants/GM0344/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let anna_json = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == anna)
        .unwrap();
    assert_eq!(anna_json["roles"], json!(["agent"]));
    let page = c
        .get(app.url("/admin/GM0344/medewerkers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Anna Agent") && page.contains("Nina Nieuw") && page.contains("Olaf"));

    // Override a national template, then edit it.
    let national = app
        .state
        .store
        .templates(None)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.key == "groet")
        .unwrap();
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!(
            "/admin/GM0344/standaardantwoorden/{}/overnemen",
            national.id
        )),
        &[("csrf", &csrf)],
    )
    .await;
    assert!(landed.contains("ok=antwoord"), "{landed}");
    let own = app
        .state
        .store
        .templates(Some(UTRECHT))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.tenant_code.is_some())
        .expect("override copied");
    assert_eq!(
        (own.key.as_str(), own.body.as_str()),
        ("groet", national.body.as_str())
    );
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!("/admin/GM0344/standaardantwoorden/{}", own.id)),
        &[
            ("csrf", &csrf),
            ("key", "groet"),
            ("title", "Groet Utrecht"),
            (
                "body",
                "Hoi {{inwoner.naam}}, {{agent.voornaam}} van Utrecht hier.",
            ),
        ],
    )
    .await;
    assert!(landed.contains("ok=antwoord"), "{landed}");
    let html = c
        .get(app.url("/admin/GM0344/standaardantwoorden"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Groet Utrecht") && html.contains("eigen versie"));
    let (_, landed, _) = post_form(
        &c,
        &app.url(&format!(
            "/admin/GM0344/standaardantwoorden/{}/verwijderen",
            own.id
        )),
        &[("csrf", &csrf)],
    )
    .await;
    assert!(landed.contains("ok=antwoord-weg"), "{landed}");

    // Deleting the team.
    let r = c
        .delete(app.url(&format!("/api/v1/tenants/GM0344/teams/{team}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
