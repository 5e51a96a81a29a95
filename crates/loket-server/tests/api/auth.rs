use crate::both;
use crate::helpers::*;
use serde_json::json;

both!(
    login_and_logout,
    wrong_password_and_rate_limit,
    csrf_is_required,
    health_ready_metrics_openapi
);

async fn login_and_logout(app: TestApp) {
    app.user("anna@test.nl", "Anna Test", &[("GM0344", "agent")])
        .await;
    // Not logged in: pages redirect to the login page, the API answers 401 problem+json.
    let anon = TestApp::client();
    let r = anon
        .get(format!("{}/inbox", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = anon
        .get(format!("{}/api/v1/conversations", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://loket.nl/problems/unauthorized");

    let a = app.login("anna@test.nl").await;
    let r = a.get("/inbox").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Anna Test"));
    // The session cookie is HttpOnly and SameSite.
    let page = TestApp::client()
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    assert!(!csrf.is_empty());

    let r = a.form("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        a.get("/api/v1/me").await.status(),
        401,
        "session is gone after logout"
    );
}

async fn wrong_password_and_rate_limit(app: TestApp) {
    app.user("bram@test.nl", "Bram", &[("GM0344", "agent")])
        .await;
    let c = TestApp::client();
    let mut statuses = vec![];
    for _ in 0..6 {
        let page = c
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf");
        let r = c
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", "bram@test.nl"),
                ("password", "fout-wachtwoord-1"),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[5], 429, "the sixth attempt is refused");
    // Even the right password is refused while limited.
    let page = c
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "bram@test.nl"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

async fn csrf_is_required(app: TestApp) {
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let (_, conv) = app.widget_post("GM0344", None, "Hallo gemeente").await;
    // API call with the cookie but without the header.
    let r = a
        .client
        .post(format!("{}/api/v1/conversations/{conv}/messages", app.base))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://loket.nl/problems/csrf");
    // Form without the hidden field / with a wrong one.
    let r = a
        .client
        .post(format!("{}/conversations/{conv}/reply", app.base))
        .form(&[("body", "x"), ("csrf", "verkeerd")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Login without the login CSRF cookie (a cross-site post).
    let r = reqwest::Client::new()
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "anna@test.nl"),
            ("password", PASSWORD),
            ("csrf", "abc"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nothing was written by the rejected calls.
    let v = a.json(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(v["messages"].as_array().unwrap().len(), 1);
}

async fn health_ready_metrics_openapi(app: TestApp) {
    let c = reqwest::Client::new();
    assert_eq!(
        c.get(format!("{}/health", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{}/ready", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let doc: serde_json::Value = c
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/inbound"]["post"].is_object());
    let docs = c
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("/api/v1/conversations"));
    let r = c
        .get(format!("{}/api/v1/nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}
