//! Persistence for Loket on embedded SQLite (default) and PostgreSQL (scale-out).
//!
//! One set of queries serves both backends: every method body is written once and expanded for
//! each pool by [`with_pool!`]; only the migrations and full-text search differ per backend.
//! See `docs/adr/0001-one-store-two-databases.md`.

pub mod activity;
pub mod admin;
pub mod channels;
pub mod conversations;
pub mod csat;
pub mod dashboard;
pub mod history;
pub mod insight;
pub mod klantinteracties;
mod model;
pub mod open311;
pub mod outbox;
pub mod rollups;
mod search;
pub mod summaries;
mod tenants;
mod users;

pub use channels::{
    AttachmentRow, ChannelAccountRow, ChannelAccountUpdate, NewAttachment, NewChannelInfo,
};
pub use model::*;
pub use search::search_tokens;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Errors at the storage boundary. `RowNotFound` becomes [`StoreError::NotFound`] here, once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("niet gevonden")]
    NotFound,
    /// A stale update (version mismatch) or a uniqueness conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("ongeldige invoer: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("migratie: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref d) if d.is_unique_violation() => {
                StoreError::Conflict(d.message().to_string())
            }
            e => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Expands one body for each backend: `$p` is the concrete pool in each arm.
macro_rules! with_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// The store: cheap to clone, shared by all handlers.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Connects to `sqlite://path` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?,
            )
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged message survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                // 32 MiB of page cache per connection (SQLite's default is 2 MiB): the
                // national rollup projections of a year (~10 MB) stay in memory between
                // page views instead of being read from the OS again (ADR 0008).
                .pragma("cache_size", "-32768")
                .busy_timeout(Duration::from_secs(10));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?,
            )
        } else {
            return Err(StoreError::Invalid(format!(
                "database_url moet beginnen met sqlite:// of postgres:// (gekregen: {})",
                url.split(':').next().unwrap_or("")
            )));
        };
        Ok(Self { pool })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs the numbered migrations of this backend; safe to call at every start.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        self.fill_rollup_tiers().await
    }

    /// Whether the database answers (for `/ready`).
    pub async fn ping(&self) -> bool {
        with_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }
}

/// Current time in Unix milliseconds, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `$start, $start+1, …` placeholders for an `IN (…)` list of `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub mod testing {
    //! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database on the
    //! server named by `LOKET_TEST_POSTGRES` (e.g. `postgres://root@127.0.0.1:5432/test`).
    //! Without that variable the PostgreSQL suite is skipped, and says so loudly.

    use super::{Backend, Store};
    use std::io::Write;
    use std::sync::Once;

    /// Environment variable that enables the PostgreSQL suite.
    pub const PG_ENV: &str = "LOKET_TEST_POSTGRES";

    /// A test database; the SQLite file lives in a temp dir that is removed with it.
    pub struct TestDb {
        pub store: Store,
        pub url: String,
        _dir: Option<TempDir>,
    }

    struct TempDir(std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A migrated, empty store on `backend`, or `None` when PostgreSQL is not enabled.
    pub async fn fresh(backend: Backend) -> Option<TestDb> {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("loket-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                (
                    format!("sqlite://{}", dir.join("loket.db").display()),
                    Some(TempDir(dir)),
                )
            }
            Backend::Postgres => {
                let Ok(base) = std::env::var(PG_ENV) else {
                    static WARN: Once = Once::new();
                    WARN.call_once(|| {
                        // Written to the raw stderr handle so the test harness does not swallow it.
                        let _ = writeln!(
                            std::io::stderr(),
                            "\n!!! PostgreSQL suite SKIPPED: set {PG_ENV}=postgres://root@127.0.0.1:5432/test to run it (.ci/run does) !!!\n"
                        );
                    });
                    return None;
                };
                let name = format!("loket_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Store::connect(&base)
                    .await
                    .expect("connect to PostgreSQL admin database");
                if let super::Pool::Postgres(p) = &admin.pool {
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(p)
                        .await
                        .expect("create test database");
                }
                admin.close().await;
                let url = match base.rsplit_once('/') {
                    Some((head, _)) => format!("{head}/{name}"),
                    None => format!("{base}/{name}"),
                };
                (url, None)
            }
        };
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate test database");
        Some(TestDb {
            store,
            url,
            _dir: dir,
        })
    }

    /// `(conversations, held on behalf of another tenant, whose `behalf_code` column disagrees
    /// with the rollups' attribution rule)`: the generated column (migration 0014) and
    /// `rollups::BEHALF` must name the same tenant for every conversation.
    pub async fn behalf_check(store: &Store) -> (i64, i64, i64) {
        let sql = format!(
            "SELECT COUNT(*),
                    COALESCE(SUM(CASE WHEN c.behalf_code <> c.tenant_code THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN c.behalf_code <> {} THEN 1 ELSE 0 END), 0)
             FROM conversations c JOIN tenants t ON t.code = c.tenant_code",
            crate::rollups::BEHALF
        );
        crate::with_pool!(store, p => {
            let (n, other, wrong): (i64, i64, i64) =
                sqlx::query_as(&sql).fetch_one(p).await.expect("behalf check");
            (n, other, wrong)
        })
    }

    /// `(behalf tenant, start, first response, its deadline, first resolution, the
    /// resolution deadline set at the start)` of every conversation: to check the rollups'
    /// service-level counters against `loket_core`'s definition.
    #[allow(clippy::type_complexity)]
    pub async fn sla_facts(
        store: &Store,
    ) -> Vec<(
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    )> {
        crate::with_pool!(store, p => sqlx::query_as(
            "SELECT behalf_code, created_at, first_response_at, first_response_due, first_resolved_at, initial_resolution_due
             FROM conversations ORDER BY id")
            .fetch_all(p).await.expect("sla facts"))
    }
}

/// Opens a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so
/// that concurrent writers queue on the busy timeout instead of failing when a read lock is
/// upgraded; PostgreSQL needs nothing special.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

pub mod bench {
    //! The bare baseline for `loket bench intake`: the rows one inbound message produces, inserted
    //! with plain SQL in one transaction each, with the same durability — no server, no routing,
    //! no analysis, no search tokens.

    use super::{BeginWrite, Result, Store, now_ms};

    /// Inserts `n` messages (contact, identity, conversation, message, event) one transaction each.
    pub async fn bare_inserts(store: &Store, tenant: &str, n: usize) -> Result<()> {
        for i in 0..n {
            let now = now_ms();
            with_pool!(store, p => {
                let mut tx = p.begin_write().await?;
                let contact: i64 = sqlx::query_scalar("INSERT INTO contacts (name, created_at) VALUES ($1, $2) RETURNING id").bind("Bench").bind(now).fetch_one(&mut *tx).await?;
                let identity: i64 = sqlx::query_scalar("INSERT INTO identities (contact_id, channel, external_id, display_name, created_at) VALUES ($1, 'bare', $2, 'Bench', $3) RETURNING id")
                    .bind(contact).bind(format!("bare-a-{i}-{now}")).bind(now).fetch_one(&mut *tx).await?;
                let conv: i64 = sqlx::query_scalar("INSERT INTO conversations (tenant_code, origin_tenant_code, channel, contact_id, identity_id, subject, state, priority, created_at, updated_at, last_inbound_at)
                    VALUES ($1, $1, 'bare', $2, $3, 'bench', 'nieuw', 'normaal', $4, $4, $4) RETURNING id")
                    .bind(tenant).bind(contact).bind(identity).bind(now).fetch_one(&mut *tx).await?;
                sqlx::query("INSERT INTO messages (conversation_id, direction, channel, external_id, author_name, body, created_at) VALUES ($1, 'in', 'bare', $2, 'Bench', $3, $4)")
                    .bind(conv).bind(format!("bare-m-{i}-{now}")).bind("Er ligt een losse stoeptegel op de stoep bij ons huis, kan iemand dat komen maken?").bind(now).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO events (conversation_id, tenant_code, actor_name, kind, detail, created_at) VALUES ($1, $2, 'Bench', 'aangemaakt', '', $3)")
                    .bind(conv).bind(tenant).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
            });
        }
        Ok(())
    }
}
