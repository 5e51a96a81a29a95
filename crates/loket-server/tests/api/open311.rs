//! Open311 GeoReport v2: services per jurisdiction, definitions, posting a report (routed by its
//! coordinates), reading requests back with the spec's filters, tokens, and errors in the spec's
//! format with its status codes. The last test drives a real Open311 client from PyPI.

use crate::both;
use crate::helpers::*;
use serde_json::Value;

both!(
    services_per_jurisdiction_in_json_and_xml,
    service_definition,
    post_with_coordinates_lands_in_the_right_inbox,
    municipality_keys_post_for_their_own_jurisdiction_only,
    requests_by_id_and_with_filters,
    tokens_map_to_the_request,
    errors_in_the_spec_format,
);

/// Utrecht (GM0344), Domplein.
const UTRECHT: (&str, &str) = ("52.0907", "5.1214");
/// Amsterdam (GM0363), Dam.
const AMSTERDAM: (&str, &str) = ("52.3731", "4.8922");

fn url(app: &TestApp, path: &str) -> String {
    format!("{}/open311/v2/{path}", app.base)
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(url(app, path)).await.unwrap()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let r = get(app, path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    r.json().await.unwrap()
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(url(app, path))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Posts a report and returns the created request (`service_request_id`, `token`, …).
async fn report(app: &TestApp, key: &str, jurisdiction: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("api_key", key),
        ("jurisdiction_id", jurisdiction),
        ("service_code", "openbare-ruimte.bestrating"),
        ("description", "Losse stoeptegel, iemand is bijna gevallen"),
    ];
    form.extend_from_slice(extra);
    let r = post(app, "requests.json", &form).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    v[0].clone()
}

fn id_of(v: &Value) -> i64 {
    v["service_request_id"].as_str().unwrap().parse().unwrap()
}

async fn services_per_jurisdiction_in_json_and_xml(app: TestApp) {
    let v = get_json(&app, "services.json?jurisdiction_id=GM0344").await;
    let list = v.as_array().unwrap();
    assert!(list.len() > 5);
    let tegel = list
        .iter()
        .find(|s| s["service_code"] == "openbare-ruimte.bestrating")
        .expect("the paving report is a service");
    assert_eq!(tegel["type"], "realtime");
    assert_eq!(tegel["metadata"], false);
    assert!(tegel["service_name"].as_str().unwrap().len() > 3);
    assert!(tegel["group"].as_str().unwrap().len() > 3);
    // Questions and complaints are not Open311 services.
    let codes: Vec<&str> = list
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    for code in &codes {
        assert_eq!(loket_text::topics::get(code).unwrap().kind, "melding");
    }
    // The national entry offers the same services; codes are case-insensitive.
    assert_eq!(get_json(&app, "services.json?jurisdiction_id=nl").await, v);

    for path in [
        "services.xml?jurisdiction_id=GM0344",
        "services?jurisdiction_id=GM0344",
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-8");
        let xml = r.text().await.unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(xml.contains("<services><service><service_code>"));
        assert!(xml.contains("<service_code>openbare-ruimte.bestrating</service_code>"));
        assert_eq!(xml.matches("<service>").count(), codes.len());
    }
}

async fn service_definition(app: TestApp) {
    // The endpoints are in the OpenAPI document.
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    assert!(paths["/open311/v2/services.{format}"]["get"].is_object());
    assert!(paths["/open311/v2/requests.{format}"]["get"].is_object());
    assert!(paths["/open311/v2/requests.{format}"]["post"].is_object());
    assert!(paths["/open311/v2/tokens/{token}.{format}"]["get"].is_object());

    let v = get_json(
        &app,
        "services/openbare-ruimte.bestrating.json?jurisdiction_id=GM0344",
    )
    .await;
    assert_eq!(v["service_code"], "openbare-ruimte.bestrating");
    assert_eq!(v["attributes"], Value::Array(vec![]));
    let xml = get(
        &app,
        "services/openbare-ruimte.bestrating.xml?jurisdiction_id=GM0344",
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(xml.contains("<service_definition><service_code>openbare-ruimte.bestrating</service_code><attributes></attributes></service_definition>"), "{xml}");
    let r = get(&app, "services/bestaat.niet.json?jurisdiction_id=GM0344").await;
    assert_eq!(r.status(), 404);
    // A question is a topic, not a service.
    let vraag = loket_text::topics::leaves()
        .find(|t| t.kind == "vraag")
        .unwrap();
    let r = get(
        &app,
        &format!("services/{}.json?jurisdiction_id=GM0344", vraag.code),
    )
    .await;
    assert_eq!(r.status(), 404);
}

async fn post_with_coordinates_lands_in_the_right_inbox(app: TestApp) {
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let national = app.api_key("NL", None).await;
    let created = report(
        &app,
        &national,
        "NL",
        &[
            ("lat", UTRECHT.0),
            ("long", UTRECHT.1),
            ("first_name", "Jan"),
            ("last_name", "Jansen"),
            ("email", "jan@example.nl"),
        ],
    )
    .await;
    let id = id_of(&created);
    assert!(
        created["service_notice"]
            .as_str()
            .unwrap()
            .contains("Utrecht"),
        "{created}"
    );
    // Routed by the coordinates into Utrecht's inbox, on the topic the client chose.
    let c = anna.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["tenant_code"], "GM0344");
    assert_eq!(c["conversation"]["origin_tenant_code"], "NL");
    assert_eq!(c["conversation"]["channel"], "open311");
    assert_eq!(c["conversation"]["topic"], "openbare-ruimte.bestrating");
    let inbox = anna.json("/api/v1/conversations").await;
    assert!(
        inbox["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id),
        "in the inbox"
    );
    // The agent sees the contact details; the public API does not.
    let body = c.to_string();
    assert!(body.contains("jan@example.nl") && body.contains("Jan Jansen"));
    let back = get_json(&app, &format!("requests/{id}.json?jurisdiction_id=GM0344")).await;
    let public = back.to_string();
    assert!(!public.contains("jan@example.nl") && !public.contains("Jansen"));
    assert_eq!(back[0]["agency_responsible"], "Gemeente Utrecht");
    // Read back on the jurisdiction it was posted to as well.
    let again = get_json(&app, &format!("requests/{id}.json?jurisdiction_id=NL")).await;
    assert_eq!(again[0]["service_request_id"], id.to_string());

    // A second report of the same person is a conversation of its own.
    let second = report(
        &app,
        &national,
        "NL",
        &[
            ("lat", UTRECHT.0),
            ("long", UTRECHT.1),
            ("email", "jan@example.nl"),
        ],
    )
    .await;
    assert_ne!(id_of(&second), id);

    // An address without coordinates is placed by the text engine.
    let by_address = report(
        &app,
        &national,
        "NL",
        &[("address_string", "Oudegracht 1, 3511 AB Utrecht")],
    )
    .await;
    let c = app
        .state
        .store
        .conversation_system(id_of(&by_address))
        .await
        .unwrap();
    assert_eq!(c.tenant_code, "GM0344");
}

async fn municipality_keys_post_for_their_own_jurisdiction_only(app: TestApp) {
    let utrecht = app.api_key("GM0344", None).await;
    let created = report(
        &app,
        &utrecht,
        "GM0344",
        &[("lat", UTRECHT.0), ("long", UTRECHT.1)],
    )
    .await;
    let c = app
        .state
        .store
        .conversation_system(id_of(&created))
        .await
        .unwrap();
    assert_eq!(c.tenant_code, "GM0344");
    assert_eq!(c.origin_tenant_code, "GM0344");

    // Another municipality's jurisdiction: forbidden for this key.
    let r = post(
        &app,
        "requests.json",
        &[
            ("api_key", &utrecht),
            ("jurisdiction_id", "GM0363"),
            ("service_code", "openbare-ruimte.bestrating"),
            ("lat", AMSTERDAM.0),
            ("long", AMSTERDAM.1),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v[0]["code"], 403);

    // A point in Amsterdam is not Utrecht's, whatever the key.
    let national = app.api_key("NL", None).await;
    let r = post(
        &app,
        "requests.json",
        &[
            ("api_key", &national),
            ("jurisdiction_id", "GM0344"),
            ("service_code", "openbare-ruimte.bestrating"),
            ("lat", AMSTERDAM.0),
            ("long", AMSTERDAM.1),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v[0]["description"].as_str().unwrap().contains("GM0363"));
}

async fn requests_by_id_and_with_filters(app: TestApp) {
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let key = app.api_key("GM0344", None).await;
    let loc = [("lat", UTRECHT.0), ("long", UTRECHT.1)];
    let a = id_of(&report(&app, &key, "GM0344", &loc).await);
    let mut form = loc.to_vec();
    form.push((
        "description",
        "Lamp kapot, bel 06-12345678 of mail piet@example.nl",
    ));
    let b = {
        let mut f = vec![
            ("api_key", key.as_str()),
            ("jurisdiction_id", "GM0344"),
            ("service_code", "openbare-ruimte.verlichting"),
        ];
        f.extend(form);
        let r = post(&app, "requests.json", &f).await;
        assert_eq!(r.status(), 200);
        id_of(&r.json::<Value>().await.unwrap()[0])
    };
    // Another municipality's request never shows up in Utrecht's lists.
    let amsterdam = app.api_key("GM0363", None).await;
    let other = id_of(
        &report(
            &app,
            &amsterdam,
            "GM0363",
            &[("lat", AMSTERDAM.0), ("long", AMSTERDAM.1)],
        )
        .await,
    );
    assert_eq!(
        anna.post(
            &format!("/api/v1/conversations/{a}/state"),
            &serde_json::json!({"state": "opgelost"})
        )
        .await
        .status(),
        200
    );

    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let all = get_json(&app, "requests.json?jurisdiction_id=GM0344").await;
    assert_eq!(ids(&all), vec![b, a], "newest first, only Utrecht's");
    let one = &all[1];
    assert_eq!(one["status"], "closed");
    assert_eq!(one["status_notes"], "Opgelost");
    assert_eq!(one["service_code"], "openbare-ruimte.bestrating");
    assert_eq!(one["lat"], 52.0907);
    assert_eq!(one["long"], 5.1214);
    assert!(one["requested_datetime"].as_str().unwrap().ends_with('Z'));
    // Personal data is redacted from the public description.
    let desc = all[0]["description"].as_str().unwrap();
    assert!(
        !desc.contains("piet@example.nl") && !desc.contains("12345678"),
        "{desc}"
    );
    assert!(desc.contains("Lamp kapot"));

    let q = |s: &str| format!("requests.json?jurisdiction_id=GM0344&{s}");
    assert_eq!(ids(&get_json(&app, &q("status=closed")).await), vec![a]);
    assert_eq!(ids(&get_json(&app, &q("status=open")).await), vec![b]);
    assert_eq!(
        ids(&get_json(&app, &q("status=open,closed")).await),
        vec![b, a]
    );
    assert_eq!(
        ids(&get_json(&app, &q("service_code=openbare-ruimte.verlichting")).await),
        vec![b]
    );
    assert_eq!(
        ids(&get_json(&app, &q(&format!("service_request_id={a},{other}"))).await),
        vec![a],
        "ids of another jurisdiction are not listed"
    );
    assert_eq!(ids(&get_json(&app, &q("page_size=1")).await), vec![b]);
    assert!(
        ids(&get_json(
            &app,
            &q("start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z")
        )
        .await)
        .is_empty()
    );
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let end = (now + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%S%%2B01:00");
    assert_eq!(
        ids(&get_json(&app, &q(&format!("start_date={start}&end_date={end}"))).await),
        vec![b, a]
    );
    for bad in [
        "status=bezig",
        "start_date=gisteren",
        "start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z",
        "page_size=0",
    ] {
        let r = get(&app, &q(bad)).await;
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v[0]["code"], 400);
    }

    // One request, JSON and XML; not under another jurisdiction.
    let v = get_json(&app, &format!("requests/{a}.json?jurisdiction_id=GM0344")).await;
    assert_eq!(ids(&v), vec![a]);
    let xml = get(&app, &format!("requests/{a}.xml?jurisdiction_id=GM0344"))
        .await
        .text()
        .await
        .unwrap();
    assert!(xml.contains(&format!(
        "<service_requests><request><service_request_id>{a}</service_request_id><status>closed</status>"
    )));
    assert!(xml.contains("<expected_datetime/>"));
    for path in [
        format!("requests/{a}.json?jurisdiction_id=GM0363"),
        format!("requests/{other}.json?jurisdiction_id=GM0344"),
        "requests/999999.json?jurisdiction_id=GM0344".to_string(),
        "requests/abc.json?jurisdiction_id=GM0344".to_string(),
    ] {
        assert_eq!(get(&app, &path).await.status(), 404, "{path}");
    }
    // A conversation that did not come in through Open311 is not a service request.
    let (_, chat) = app
        .widget_post("GM0344", None, "Wanneer is het stadskantoor open?")
        .await;
    assert_eq!(
        get(
            &app,
            &format!("requests/{chat}.json?jurisdiction_id=GM0344")
        )
        .await
        .status(),
        404
    );
}

async fn tokens_map_to_the_request(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let created = report(
        &app,
        &key,
        "GM0344",
        &[("address_string", "Oudegracht 112, Utrecht")],
    )
    .await;
    let id = created["service_request_id"].as_str().unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(token.len() >= 32);
    let v = get_json(&app, &format!("tokens/{token}.json?jurisdiction_id=GM0344")).await;
    assert_eq!(v[0]["service_request_id"], id);
    assert_eq!(v[0]["token"], token);
    let xml = get(&app, &format!("tokens/{token}.xml?jurisdiction_id=GM0344"))
        .await
        .text()
        .await
        .unwrap();
    assert!(xml.contains(&format!(
        "<service_request_id>{id}</service_request_id><token>{token}</token>"
    )));
    assert_eq!(
        get(&app, "tokens/onbekend.json?jurisdiction_id=GM0344")
            .await
            .status(),
        404
    );
    assert_eq!(
        get(&app, &format!("tokens/{token}.json?jurisdiction_id=GM0363"))
            .await
            .status(),
        404
    );
    // The address is shown back as given.
    let r = get_json(&app, &format!("requests/{id}.json?jurisdiction_id=GM0344")).await;
    assert_eq!(r[0]["address"], "Oudegracht 112, Utrecht");
    assert_eq!(r[0]["lat"], Value::Null);
}

async fn errors_in_the_spec_format(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let base = |k: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("api_key", k.to_string()),
            ("jurisdiction_id", "GM0344".into()),
            ("service_code", "openbare-ruimte.bestrating".into()),
            ("lat", UTRECHT.0.into()),
            ("long", UTRECHT.1.into()),
        ]
    };
    async fn send(app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, String) {
        let r = reqwest::Client::new()
            .post(url(app, path))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    // A wrong or missing key: 403 with the spec's error body, in JSON and in XML.
    let (status, body) = send(&app, "requests.json", &base("verkeerde-sleutel")).await;
    assert_eq!(status, 403);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["code"], 403);
    assert!(v[0]["description"].as_str().unwrap().contains("api_key"));
    let (status, body) = send(&app, "requests.xml", &base("verkeerde-sleutel")).await;
    assert_eq!(status, 403);
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>403</code><description>"),
        "{body}"
    );
    let mut no_key = base("");
    no_key.retain(|(k, _)| *k != "api_key");
    assert_eq!(send(&app, "requests.json", &no_key).await.0, 403);

    // With a good key: each missing or wrong parameter in turn.
    let good = Box::leak(key.into_boxed_str());
    let without = |field: &str| {
        let mut f = base(good);
        f.retain(|(k, _)| *k != field);
        f
    };
    let with = |field: &'static str, value: &str| {
        let mut f = base(good);
        f.retain(|(k, _)| *k != field);
        f.push((field, value.to_string()));
        f
    };
    for (form, want, why) in [
        (without("jurisdiction_id"), 400, "no jurisdiction"),
        (without("service_code"), 400, "no service"),
        (
            {
                let mut f = without("lat");
                f.retain(|(k, _)| *k != "long");
                f
            },
            400,
            "no location",
        ),
        (without("long"), 400, "lat without long"),
        (with("lat", "noord"), 400, "lat not a number"),
        (
            with("jurisdiction_id", "GM9999"),
            404,
            "unknown jurisdiction",
        ),
        (with("jurisdiction_id", "utrecht.nl"), 404, "not a CBS code"),
        (with("service_code", "bestaat.niet"), 404, "unknown service"),
        (
            with("description", &"x".repeat(4001)),
            400,
            "description too long",
        ),
        (
            with("media_url", "javascript:alert(1)"),
            400,
            "media_url not http",
        ),
    ] {
        let (status, body) = send(&app, "requests.json", &form).await;
        assert_eq!(status, want, "{why}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["code"], want, "{why}");
        assert!(!v[0]["description"].as_str().unwrap().is_empty());
    }

    // GETs: jurisdiction missing → 400, unknown → 404 (also a regional pool).
    for (path, want) in [
        ("services.json", 400),
        ("services.json?jurisdiction_id=GM9999", 404),
        ("services.json?jurisdiction_id=PV26", 404),
        ("requests.json", 400),
        ("requests.json?jurisdiction_id=GM9999", 404),
        ("tokens/abc.json", 400),
        ("nergens.json?jurisdiction_id=GM0344", 404),
        ("services/a/b.json?jurisdiction_id=GM0344", 404),
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), want, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v[0]["code"], want, "{path}");
    }
    let xml = get(&app, "services.xml").await.text().await.unwrap();
    assert!(xml.contains("<errors><error><code>400</code>"), "{xml}");

    // Not a form, and a form over the size limit.
    let r = reqwest::Client::new()
        .post(url(&app, "requests.json"))
        .json(&serde_json::json!({"api_key": good}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = "x".repeat(app.state.config.max_body_bytes + 10);
    let mut f = base(good);
    f.push(("description", huge));
    let (status, body) = send(&app, "requests.json", &f).await;
    assert_eq!(status, 413);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["code"], 413);
}

/// A real Open311 client from PyPI (see tests/open311/) lists the services, posts a report and
/// reads it back. It runs with the Python named by `LOKET_OPEN311_PYTHON` (a virtualenv with
/// tests/open311/requirements.txt installed, as .ci/run makes); without it the test says so loudly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_open311_client() {
    use std::io::Write;
    let Ok(python) = std::env::var("LOKET_OPEN311_PYTHON") else {
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! open311 python client test SKIPPED: set LOKET_OPEN311_PYTHON to a Python with tests/open311/requirements.txt installed (.ci/run does) !!!\n"
        );
        return;
    };
    let app = spawn_app(loket_store::Backend::Sqlite).await.unwrap();
    let key = app.api_key("GM0344", None).await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/open311/client_test.py");
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(180),
        tokio::process::Command::new(&python)
            .arg(&script)
            .arg(format!("{}/open311/v2", app.base))
            .arg(&key)
            .arg("GM0344")
            .output(),
    )
    .await
    .expect("python client finished within 3 minutes")
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "python client failed: {stderr}");
    // The script's last line names the request it created: a conversation in Utrecht's inbox.
    let id: i64 = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("service_request_id="))
        .expect("the script prints service_request_id=…")
        .trim()
        .parse()
        .unwrap();
    let c = app.state.store.conversation_system(id).await.unwrap();
    assert_eq!(c.tenant_code, "GM0344");
    assert_eq!(c.channel, "open311");
}
