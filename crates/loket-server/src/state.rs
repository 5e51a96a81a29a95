//! Shared application state: the store, a cache of tenants, the live hub and the limiters.

use crate::config::Config;
use crate::hub::Hub;
use loket_core::TenantKind;
use loket_core::tenant::TenantSettings;
use loket_store::{Store, TenantRow};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// A tenant with its settings parsed once.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub code: String,
    pub kind: TenantKind,
    pub name: String,
    pub display_name: String,
    pub province_code: Option<String>,
    pub pool_code: Option<String>,
    pub inhabitants: Option<i64>,
    pub settings: TenantSettings,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            kind: TenantKind::parse(&r.kind).unwrap_or(TenantKind::Gemeente),
            settings: TenantSettings::from_json(&r.settings),
            code: r.code,
            name: r.name,
            display_name: r.display_name,
            province_code: r.province_code,
            pool_code: r.pool_code,
            inhabitants: r.inhabitants,
        }
    }
}

impl Tenant {
    pub fn is_open_now(&self) -> bool {
        loket_core::calendar::is_open(&self.settings.hours, chrono::Utc::now())
    }
}

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub hub: Hub,
    pub tenants: RwLock<Arc<HashMap<String, Tenant>>>,
    /// Serialises reloads so that a slow periodic reload cannot overwrite a newer one.
    reload_lock: tokio::sync::Mutex<()>,
    pub login_failures: Mutex<HashMap<String, Vec<Instant>>>,
    pub webhooks: loket_channels::webhook::WebhookClient,
    pub signalen: loket_channels::signalen::SignalenClient,
    pub outbox_wake: tokio::sync::Notify,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Key for HMAC-derived tokens; random per process when not configured.
    pub secret: Vec<u8>,
    /// Seals tenant credentials for outside systems (Klantinteracties tokens).
    pub sealer: crate::secrets::SecretBox,
    /// HTTP client for outside APIs (Klantinteracties).
    pub http: reqwest::Client,
    /// Resident channel accounts: pull runners and built adapters.
    pub channels: crate::channels::Runtime,
    /// Per-municipality sums for the anonymous benchmark, recomputed at most every few minutes.
    pub benchmark_cache: crate::insight::BenchmarkCache,
    /// Dashboard reads run side by side, but at most [`FIGURE_READS`] at once in the whole
    /// process, so intake and the inbox always find a free database connection.
    pub figure_reads: tokio::sync::Semaphore,
}

/// How many dashboard reads may use a database connection at the same time: half of the
/// SQLite pool (8).
pub const FIGURE_READS: usize = 4;

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub async fn new(
        config: Config,
        store: Store,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> anyhow::Result<Self> {
        let secret = if config.secret_key.0.is_empty() {
            use rand::RngCore;
            let mut k = vec![0u8; 32];
            rand::thread_rng().fill_bytes(&mut k);
            k
        } else {
            config.secret_key.0.as_bytes().to_vec()
        };
        let sealer =
            crate::secrets::SecretBox::for_config(&config.secret_key.0, &config.database_url)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("Loket/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let hub = Hub::new();
        let state = AppState {
            inner: Arc::new(Inner {
                config,
                store,
                hub,
                tenants: RwLock::new(Arc::new(HashMap::new())),
                reload_lock: tokio::sync::Mutex::new(()),
                login_failures: Mutex::new(HashMap::new()),
                webhooks: Default::default(),
                signalen: Default::default(),
                outbox_wake: tokio::sync::Notify::new(),
                metrics,
                secret,
                sealer,
                http,
                channels: Default::default(),
                benchmark_cache: Default::default(),
                figure_reads: tokio::sync::Semaphore::new(FIGURE_READS),
            }),
        };
        state.reload_tenants().await?;
        Ok(state)
    }

    /// Re-reads all tenants (after an admin change, and periodically for other nodes' changes).
    pub async fn reload_tenants(&self) -> anyhow::Result<()> {
        let _guard = self.reload_lock.lock().await;
        let rows = self.store.tenants().await?;
        let map: HashMap<String, Tenant> = rows
            .into_iter()
            .map(|r| (r.code.clone(), Tenant::from(r)))
            .collect();
        *self.tenants.write().expect("tenant lock") = Arc::new(map);
        Ok(())
    }

    pub fn tenants(&self) -> Arc<HashMap<String, Tenant>> {
        self.tenants.read().expect("tenant lock").clone()
    }

    pub fn tenant(&self, code: &str) -> Option<Tenant> {
        self.tenants().get(code).cloned()
    }

    /// "Gemeente Utrecht" for a code, or the code itself.
    pub fn tenant_label(&self, code: &str) -> String {
        self.tenant(code)
            .map(|t| t.display_name)
            .unwrap_or_else(|| code.to_string())
    }
}
