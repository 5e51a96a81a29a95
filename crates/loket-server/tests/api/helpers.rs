//! Test support: every test gets its own database and its own server on 127.0.0.1:0.

use loket_server::state::AppState;
use loket_store::Backend;
use loket_store::testing::{TestDb, fresh};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    db: Option<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A running app on `backend`, seeded with all tenants and the national templates; `None` when
/// that backend is not enabled (PostgreSQL without `LOKET_TEST_POSTGRES`).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let db = fresh(backend).await?;
    Some(start(db, true).await)
}

async fn start(db: TestDb, seed: bool) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = loket_server::Config {
        database_url: db.url.clone(),
        base_url: format!("http://{addr}"),
        // A fixed key, so sealed channel secrets still open after `restart` (on PostgreSQL
        // there is no key file).
        secret_key: loket_server::config::Secret("test-secret-key-for-restarts".into()),
        ..Default::default()
    };
    let state = loket_server::build(cfg, None).await.unwrap();
    if seed {
        loket_server::seed::tenants(&state.store).await.unwrap();
        loket_server::seed::templates(&state.store).await.unwrap();
        state.reload_tenants().await.unwrap();
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(loket_server::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        state,
        shutdown: Some(tx),
        server: Some(server),
        db: Some(db),
    }
}

impl TestApp {
    /// Stops this server (its port refuses connections from then on) and starts a new one on
    /// the same database: a restart in the middle of whatever the test is doing.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        start(self.db.take().expect("database"), false).await
    }

    /// Stops the server and its workers, keeping the database.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut h) = self.server.take()
            && tokio::time::timeout(Duration::from_secs(10), &mut h)
                .await
                .is_err()
        {
            h.abort();
        }
        self.state.channels.stop_all();
    }
}

pub const PASSWORD: &str = "een-lang-wachtwoord-123";

/// A logged-in browser-like client (cookie jar) with the session's CSRF token.
pub struct Agent {
    pub client: reqwest::Client,
    pub csrf: String,
    pub base: String,
    pub id: i64,
    /// `loket_session=…`, for WebSocket handshakes.
    pub cookie: String,
}

impl TestApp {
    /// Creates a user with roles `(tenant, role)` and returns their id.
    pub async fn user(&self, email: &str, name: &str, roles: &[(&str, &str)]) -> i64 {
        let id = self
            .state
            .store
            .create_user(
                email,
                name,
                &loket_server::auth::hash_password(PASSWORD).unwrap(),
            )
            .await
            .unwrap();
        for (t, r) in roles {
            self.state.store.grant(id, t, r).await.unwrap();
        }
        id
    }

    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Logs in through the real form.
    pub async fn login(&self, email: &str) -> Agent {
        let client = Self::client();
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
        assert_eq!(r.status(), 303, "login of {email} failed");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("loket_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        let me: Value = client
            .get(format!("{}/api/v1/me", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Agent {
            client,
            csrf: me["csrf"].as_str().unwrap().to_string(),
            base: self.base.clone(),
            id: me["id"].as_i64().unwrap(),
            cookie,
        }
    }

    /// An agent who is logged in and available for automatic assignment.
    pub async fn agent(&self, email: &str, roles: &[(&str, &str)]) -> Agent {
        self.user(
            email,
            &format!("{} Test", email.split('@').next().unwrap()),
            roles,
        )
        .await;
        self.login(email).await
    }

    /// An API key for the generic inbound channel of `tenant`.
    pub async fn api_key(&self, tenant: &str, webhook: Option<(&str, &str)>) -> String {
        let key = format!("key-{}", uuid_like());
        self.state
            .store
            .create_api_key(
                &loket_server::auth::sha256_hex(&key),
                tenant,
                "api",
                "test",
                webhook.map(|w| w.0),
                webhook.map(|w| w.1),
            )
            .await
            .unwrap();
        key
    }

    pub async fn inbound(&self, key: &str, body: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/v1/inbound", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a resident message on a tenant's chat widget; returns (token, conversation id).
    pub async fn widget_post(
        &self,
        tenant: &str,
        token: Option<&str>,
        text: &str,
    ) -> (String, i64) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/widget/{tenant}/messages", self.base))
            .json(&json!({"token": token, "name": "Inwoner Test", "text": text, "client_id": uuid_like()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        (
            v["token"].as_str().unwrap().to_string(),
            v["conversation_id"].as_i64().unwrap(),
        )
    }
}

impl Agent {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .send()
            .await
            .unwrap()
    }
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        f.push(("csrf", &self.csrf));
        self.client
            .post(format!("{}{path}", self.base))
            .form(&f)
            .send()
            .await
            .unwrap()
    }
    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }
    pub async fn online(&self) {
        assert_eq!(
            self.post("/api/v1/me/online", &json!({"online": true}))
                .await
                .status(),
            200
        );
    }
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no hidden {name}"))
        + needle.len();
    page[start..].split('"').next().unwrap().to_string()
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:x}-{:x}",
        loket_store::now_ms(),
        N.fetch_add(1, Ordering::Relaxed) + std::process::id() as u64 * 1_000_000
    )
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn inbound_body(external_id: &str, author: &str, text: &str) -> Value {
    json!({"external_id": external_id, "channel": "api", "author": {"id": author, "name": format!("Inwoner {author}")}, "text": text, "sent_at": "2026-11-29T10:00:00Z"})
}

/// Runs each named async test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(app) = $crate::helpers::spawn_app(loket_store::Backend::Sqlite).await { super::$name(app).await } } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(app) = $crate::helpers::spawn_app(loket_store::Backend::Postgres).await { super::$name(app).await } } )* }
    };
}

/// Captures every log line of the test process (installed once), for "never logged" checks.
pub fn log_buffer() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static BUF: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    BUF.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let b = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,hyper=info,hyper_util=info,h2=info,tower=info",
            ))
            .with_ansi(false)
            .with_writer(move || Writer(b.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for Writer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
