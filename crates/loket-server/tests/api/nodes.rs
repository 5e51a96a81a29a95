//! Two stateless nodes on one database share live events over NATS.

use crate::conversations::next_event;
use crate::helpers::*;
use std::io::Write;

async fn node(
    url: &str,
    nats: &str,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    loket_server::state::AppState,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = loket_server::Config {
        database_url: url.into(),
        base_url: format!("http://{addr}"),
        nats_url: nats.into(),
        ..Default::default()
    };
    let state = loket_server::build(cfg, None).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(loket_server::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    (format!("{addr}"), tx, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_cross_nodes_over_nats() {
    let Ok(nats) = std::env::var("LOKET_TEST_NATS") else {
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! NATS multi-node test SKIPPED: set LOKET_TEST_NATS=nats://127.0.0.1:4222 to run it (.ci/run does) !!!\n"
        );
        return;
    };
    // Node A is a normal test app; node B shares its database and the NATS bus.
    let db = loket_store::testing::fresh(loket_store::Backend::Sqlite)
        .await
        .unwrap();
    let (a_addr, _a_stop, a_state) = node(&db.url, &nats).await;
    loket_server::seed::tenants(&a_state.store).await.unwrap();
    a_state.reload_tenants().await.unwrap();
    let (b_addr, _b_stop, b_state) = node(&db.url, &nats).await;
    b_state.reload_tenants().await.unwrap();
    let app_b = TestAppRef {
        base: format!("http://{b_addr}"),
    };
    let id = a_state
        .store
        .create_user(
            "anna@test.nl",
            "Anna",
            &loket_server::auth::hash_password(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
    a_state.store.grant(id, "GM0344", "agent").await.unwrap();
    let cookie = app_b.login_cookie("anna@test.nl").await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{b_addr}/api/v1/live"),
    )
    .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    // The resident writes through node A; the agent's socket on node B hears of it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = reqwest::Client::new()
        .post(format!("http://{a_addr}/api/v1/widget/GM0344/messages"))
        .json(&serde_json::json!({"text": "Via knooppunt A", "client_id": "node-test-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let ev = next_event(&mut ws, |v| v["type"] == "conversation").await;
    assert_eq!(ev["change"], "created");
    assert_eq!(ev["tenant"], "GM0344");
}

struct TestAppRef {
    base: String,
}

impl TestAppRef {
    async fn login_cookie(&self, email: &str) -> String {
        let client = TestApp::client();
        let page = client
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf");
        let r = client
            .post(format!("{}/login", self.base))
            .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("loket_session="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }
}
