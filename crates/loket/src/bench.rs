//! `loket bench`: hot paths measured against a bare baseline in the same run, so that the ratio
//! means something on a noisy machine.

use clap::Subcommand;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Inbound messages per second through the HTTP API and through the WhatsApp webhook path
    /// into SQLite, against plain SQL inserts of the same rows with the same durability.
    Intake {
        /// Messages per measurement.
        #[arg(long, default_value_t = 1000)]
        messages: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Messages analysed per second by the text engine on one core, against lower-casing and
    /// splitting the same texts.
    Text {
        #[arg(long, default_value_t = 20000)]
        messages: usize,
    },
    /// A tenant's 30-day and 365-day dashboard figures from the rollups (hourly rows only, up to
    /// daily, up to monthly) against a scan of the raw tables, on a generated history of all
    /// municipalities (SQLite, or PostgreSQL with `--postgres`). Fails when any of them
    /// disagrees with the raw scan.
    Dashboard {
        /// Days of generated history.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Volume relative to the realistic default (1.0 is about 2.1 million conversations a year).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// SQLite file with history: used when it exists, else generated there and kept.
        #[arg(long)]
        database: Option<std::path::PathBuf>,
        /// The tenant whose figures are computed.
        #[arg(long, default_value = "GM0363")]
        tenant: String,
        /// Runs per measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Only the pages through the server (skips the raw scans, which take minutes).
        #[arg(long)]
        pages_only: bool,
        /// A PostgreSQL database (`postgres://…`) instead of SQLite: used when it holds
        /// conversations, else migrated and generated there and kept.
        #[arg(long, conflicts_with = "database")]
        postgres: Option<String>,
    },
}

const TEXTS: &[&str] = &[
    "Er ligt al twee weken een losse stoeptegel voor Oudegracht 112 in Utrecht, mijn moeder is er bijna over gestruikeld.",
    "Wanneer wordt het grofvuil opgehaald in Leidsche Rijn? Ik kan online geen afspraak maken.",
    "De lantaarnpaal bij de speeltuin doet het al dagen niet, 's avonds is het daar echt donker.",
    "Mijn container is vanochtend niet geleegd terwijl hij op tijd aan de straat stond in Zwolle.",
    "Top geregeld met de nieuwe fietsenstalling bij het station, complimenten aan de gemeente!",
    "Hoe vraag ik een parkeervergunning aan voor mijn nieuwe auto? Ik woon in Haarlem.",
];

pub async fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Intake {
            messages,
            concurrency,
        } => intake(messages, concurrency).await,
        BenchCmd::Dashboard {
            days,
            scale,
            database,
            tenant,
            repeat,
            pages_only,
            postgres,
        } => {
            let target = match postgres {
                Some(url) => History::Postgres(url),
                None => History::Sqlite(database),
            };
            dashboard(days, scale, target, &tenant, repeat, pages_only).await
        }
        BenchCmd::Text { messages } => {
            text(messages);
            Ok(())
        }
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    format!("{cores} cores, {cpu}")
}

async fn intake(n: usize, concurrency: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("loket-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Baseline: the same rows, plain SQL, same SQLite settings, no server.
    let bare =
        loket_store::Store::connect(&format!("sqlite://{}", dir.join("bare.db").display())).await?;
    bare.migrate().await?;
    loket_server::seed::tenants(&bare).await?;
    let t0 = Instant::now();
    loket_store::bench::bare_inserts(&bare, "GM0344", n).await?;
    let bare_rate = n as f64 / t0.elapsed().as_secs_f64();
    bare.close().await;

    // The real path: HTTP → auth → validation → analysis → routing → store → hub.
    let cfg = loket_server::Config {
        database_url: format!("sqlite://{}", dir.join("api.db").display()),
        ..loket_server::Config::default()
    };
    let state = loket_server::build(cfg, None).await?;
    loket_server::seed::tenants(&state.store).await?;
    state.reload_tenants().await?;
    state
        .store
        .create_api_key(
            &loket_server::auth::sha256_hex("bench-key"),
            "GM0344",
            "api",
            "bench",
            None,
            None,
        )
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state_for_bench = state.clone();
    let server = tokio::spawn(loket_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/inbound");
    let api_rate = drive(n, concurrency, 202, move |i| {
        let body = serde_json::json!({"external_id": format!("b-{i}"), "channel": "api", "author": {"id": format!("a-{i}"), "name": "Bench"},
            "text": TEXTS[i % TEXTS.len()], "sent_at": "2026-11-29T12:00:00Z"});
        client.post(&url).bearer_auth("bench-key").json(&body)
    })
    .await?;

    // The webhook path: signed WhatsApp Cloud API deliveries to a channel account's URL.
    let url = whatsapp_account(&state_for_bench, addr).await?;
    let client = reqwest::Client::new();
    let webhook_rate = drive(n, concurrency, 200, move |i| {
        let body = serde_json::to_vec(&whatsapp_payload(i, TEXTS[i % TEXTS.len()]))
            .expect("JSON of a literal");
        let sig = loket_channels::webhook::sign(APP_SECRET.as_bytes(), &body);
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
    })
    .await?;
    let _ = tx.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("machine:            {}", machine());
    println!("messages:           {n} (API concurrency {concurrency})");
    println!("bare SQL inserts:   {bare_rate:>10.0} msg/s");
    println!("API intake:         {api_rate:>10.0} msg/s");
    println!("ratio API/bare:     {:>10.2}", api_rate / bare_rate);
    println!("WhatsApp webhook:   {webhook_rate:>10.0} msg/s");
    println!("ratio webhook/bare: {:>10.2}", webhook_rate / bare_rate);
    Ok(())
}

/// Sends requests `0..n` from `concurrency` concurrent clients; each must answer `expect`.
/// Returns requests per second.
async fn drive(
    n: usize,
    concurrency: usize,
    expect: u16,
    request: impl Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> anyhow::Result<f64> {
    let request = std::sync::Arc::new(request);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(concurrency) {
                let r = request(i).send().await?;
                anyhow::ensure!(r.status() == expect, "HTTP {}", r.status());
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

const APP_SECRET: &str = "bench-app-secret";

/// A WhatsApp channel account on Utrecht with sealed secrets; returns its webhook URL.
async fn whatsapp_account(
    state: &loket_server::state::AppState,
    addr: std::net::SocketAddr,
) -> anyhow::Result<String> {
    let key = "bench-webhook-key";
    let seal = |field: &str, v: &str| {
        (
            field.to_string(),
            state
                .sealer
                .seal(v, &loket_server::channels::aad("GM0344", key, field)),
        )
    };
    let secrets: std::collections::BTreeMap<String, String> = [
        seal("access_token", "bench-token"),
        seal("app_secret", APP_SECRET),
        seal("verify_token", "bench-verify"),
    ]
    .into_iter()
    .collect();
    state
        .store
        .create_channel_account(
            "GM0344",
            "whatsapp",
            key,
            &loket_store::ChannelAccountUpdate {
                name: "bench".into(),
                settings: serde_json::json!({"phone_number_id": "106540352242922", "graph_base_url": "http://127.0.0.1:9"}).to_string(),
                secrets: serde_json::to_string(&secrets)?,
                enabled: true,
            },
        )
        .await?;
    Ok(format!("http://{addr}/kanalen/{key}/webhook"))
}

/// One text message in the documented WhatsApp Cloud API webhook envelope.
fn whatsapp_payload(i: usize, text: &str) -> serde_json::Value {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": format!("316{i:08}")}],
            "messages": [{"from": format!("316{i:08}"), "id": format!("wamid.bench{i}"),
                "timestamp": (loket_store::now_ms() / 1000).to_string(), "type": "text", "text": {"body": text}}]
        }}]}]
    })
}

fn text(n: usize) {
    let engine = loket_text::engine();
    let t0 = Instant::now();
    let mut sink = 0usize;
    for i in 0..n {
        let t = TEXTS[i % TEXTS.len()];
        sink += t.to_lowercase().split_whitespace().count();
    }
    let base = n as f64 / t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    for i in 0..n {
        let a = engine.analyse(&loket_text::Input::text(TEXTS[i % TEXTS.len()]));
        sink += a.language.len();
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    println!("machine:            {}", machine());
    println!("baseline (lowercase+split): {base:>12.0} msg/s");
    println!("engine.analyse:             {rate:>12.0} msg/s");
    println!(
        "ratio engine/baseline:      {:>12.4}   (checksum {sink})",
        rate / base
    );
}

/// The figures a dashboard shows for one tenant and period.
#[derive(Debug, PartialEq)]
struct DashboardFigures {
    volume_in: i64,
    volume_out: i64,
    contacts: i64,
    frt_median_s: Option<u64>,
    frt_p90_s: Option<u64>,
    resolutions: i64,
    resolution_median_s: Option<u64>,
    resolution_p90_s: Option<u64>,
    reopen_rate_pct: Option<f64>,
    sentiment_pct: [Option<f64>; 3],
}

fn figures(rows: &[loket_store::rollups::RollupRow]) -> DashboardFigures {
    let t = loket_store::rollups::RollupRow::total(rows);
    let with_sentiment = t.sentiment_negative + t.sentiment_neutral + t.sentiment_positive;
    let pct = |n: i64, of: i64| (of > 0).then(|| 100.0 * n as f64 / of as f64);
    DashboardFigures {
        volume_in: t.inbound,
        volume_out: t.outbound,
        contacts: t.new_conversations,
        frt_median_s: t.first_response_hist.percentile(50),
        frt_p90_s: t.first_response_hist.percentile(90),
        resolutions: t.resolutions,
        resolution_median_s: t.resolution_hist.percentile(50),
        resolution_p90_s: t.resolution_hist.percentile(90),
        reopen_rate_pct: pct(t.reopens, t.resolutions),
        sentiment_pct: [
            pct(t.sentiment_negative, with_sentiment),
            pct(t.sentiment_neutral, with_sentiment),
            pct(t.sentiment_positive, with_sentiment),
        ],
    }
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Where the dashboard benchmark's history lives.
enum History {
    /// A SQLite file (a temporary one when none is given).
    Sqlite(Option<std::path::PathBuf>),
    /// A PostgreSQL database URL.
    Postgres(String),
}

/// Generates `days` of history into `store` (migrated, tenants seeded).
async fn generate_into(
    store: &loket_store::Store,
    days: u32,
    scale: f64,
    end: i64,
) -> anyhow::Result<()> {
    store.migrate().await?;
    loket_server::seed::tenants(store).await?;
    let g = crate::history::generate(store, days, 5, scale, end).await?;
    println!(
        "history: {} conversations, {} messages, {} municipalities, {days} days, generated and written in {:.1} s ({:.0} conversations/s)",
        g.conversations,
        g.messages,
        g.tenants,
        g.seconds,
        g.conversations as f64 / g.seconds
    );
    Ok(())
}

async fn dashboard(
    days: u32,
    scale: f64,
    target: History,
    tenant: &str,
    repeat: usize,
    pages_only: bool,
) -> anyhow::Result<()> {
    let repeat = repeat.max(1);
    let end = loket_store::rollups::hour_of(loket_store::now_ms());
    // A given database that does not exist yet (or, on PostgreSQL, holds no conversations) is
    // generated there and kept, so a second run can measure again without generating.
    let database = match target {
        History::Sqlite(database) => database,
        History::Postgres(url) => {
            let store = loket_store::Store::connect(&url).await?;
            store.migrate().await?;
            if store.conversation_count().await? == 0 {
                generate_into(&store, days, scale, end).await?;
            }
            return measure(store, None, url, tenant, repeat, pages_only, end).await;
        }
    };
    let existing = database.as_ref().filter(|p| p.exists()).cloned();
    let (store, dir, store_url) = match existing {
        Some(path) => (
            loket_store::Store::connect(&format!("sqlite://{}", path.display())).await?,
            None,
            format!("sqlite://{}", path.display()),
        ),
        None => {
            let (path, dir) = match database {
                Some(path) => (path, None),
                None => {
                    let dir = std::env::temp_dir()
                        .join(format!("loket-bench-dash-{}", std::process::id()));
                    std::fs::create_dir_all(&dir)?;
                    (dir.join("loket.db"), Some(dir))
                }
            };
            let url = format!("sqlite://{}", path.display());
            let store = loket_store::Store::connect(&url).await?;
            generate_into(&store, days, scale, end).await?;
            (store, dir, url)
        }
    };
    measure(store, dir, store_url, tenant, repeat, pages_only, end).await
}

/// The reads against the raw scan (unless `pages_only`), then the pages, on `store`; removes
/// the temporary `dir` afterwards.
async fn measure(
    store: loket_store::Store,
    dir: Option<std::path::PathBuf>,
    store_url: String,
    tenant: &str,
    repeat: usize,
    pages_only: bool,
    end: i64,
) -> anyhow::Result<()> {
    store.migrate().await?;
    println!("machine: {}", machine());
    println!(
        "tenant: {tenant}; median of {repeat} runs; figures: volume in/out, contacts, FRT median/p90, resolutions with median/p90, reopen rate, sentiment mix"
    );
    let tenants = vec![tenant.to_string()];
    use loket_store::rollups::Tier;
    let windows: &[i64] = if pages_only { &[] } else { &[30, 365] };
    for &window in windows {
        let from = end - window * 86_400_000;
        // Raw scan first (the baseline), then the rollups read three ways: hourly rows only
        // (`rollups_hourly`), days with hourly edges (`rollups`), and whole months as one row
        // (`rollups_totals`).
        let mut raw_ms = vec![];
        let mut raw = None;
        for _ in 0..repeat {
            let t0 = Instant::now();
            let rows = store.rollups_raw(&tenants, from, end).await?;
            let f = figures(&rows);
            raw_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
            raw = Some(f);
        }
        let raw = raw.unwrap_or_else(|| unreachable!());
        let w = median_ms(raw_ms);
        println!(
            "{window:>3} days: raw scan {w:>8.1} ms | contacts {}, FRT median {:?} s, p90 {:?} s, reopen {:.1} %",
            raw.contacts,
            raw.frt_median_s,
            raw.frt_p90_s,
            raw.reopen_rate_pct.unwrap_or(0.0)
        );
        for (label, tier) in [
            ("hourly", Tier::Hour),
            ("days", Tier::Day),
            ("days+months", Tier::Month),
        ] {
            let mut ms = vec![];
            let mut got = None;
            for _ in 0..repeat {
                let t0 = Instant::now();
                let rows = store.rollups_up_to(&tenants, from, end, tier).await?;
                let f = figures(&rows);
                ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                got = Some((f, rows.len()));
            }
            let (f, nrows) = got.unwrap_or_else(|| unreachable!());
            anyhow::ensure!(
                f == raw,
                "rollups ({label}) and raw scan disagree:\n{f:?}\n{raw:?}"
            );
            let r = median_ms(ms);
            println!(
                "     rollups, {label:<15} {r:>8.1} ms ({nrows:>6} rows) | raw/rollups {:>7.1}x",
                w / r
            );
        }
    }
    let db_url = store_url.clone();
    store.close().await;
    pages(&db_url, tenant, repeat).await?;
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// Whole pages through the server on the same database, as a supervisor sees them (HTTP,
/// session, every query of the page, rendering): the tenant dashboard for 30 and 365 days, the
/// national dashboard for 7 days, and the benchmark (first request computes the sums of all
/// municipalities, later ones reuse them for five minutes). Baseline: `/health` on the same
/// server, the cost of a request that does nothing.
async fn pages(db_url: &str, tenant: &str, repeat: usize) -> anyhow::Result<()> {
    let cfg = loket_server::Config {
        database_url: db_url.to_string(),
        ..loket_server::Config::default()
    };
    let state = loket_server::build(cfg, None).await?;
    loket_server::seed::tenants(&state.store).await?;
    state.reload_tenants().await?;
    let email = format!("bench-{}@loket.invalid", std::process::id());
    let user = state
        .store
        .create_user(&email, "Bench Supervisor", "-")
        .await?;
    state.store.grant(user, tenant, "supervisor").await?;
    state.store.grant(user, "NL", "coordinator").await?;
    let token = loket_server::auth::random_token();
    state
        .store
        .create_session(
            &loket_server::auth::sha256_hex(&token),
            user,
            "bench",
            3_600_000,
        )
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // A regional pool (the national coordinator may open every dashboard).
    let pool = state
        .tenants()
        .values()
        .filter(|t| t.kind == loket_core::TenantKind::Regio)
        .map(|t| t.code.clone())
        .min()
        .unwrap_or_else(|| "NL".into());
    let server = tokio::spawn(loket_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let cookie = format!("loket_session={token}");
    let get = |path: String| {
        let client = client.clone();
        let cookie = cookie.clone();
        async move {
            let t0 = Instant::now();
            let r = client
                .get(format!("http://{addr}{path}"))
                .header("cookie", cookie)
                .send()
                .await?;
            let status = r.status();
            let steps = r
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .map(loket_server::timing::ServerTiming::parse)
                .unwrap_or_default();
            let body = r.bytes().await?;
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            Ok::<(f64, usize, Vec<(String, f64)>), anyhow::Error>((
                t0.elapsed().as_secs_f64() * 1000.0,
                body.len(),
                steps,
            ))
        }
    };
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(364);
    let mut health = vec![];
    for _ in 0..repeat.max(5) {
        health.push(get("/health".into()).await?.0);
    }
    let base = median_ms(health);
    println!(
        "pages (HTTP, session, queries, rendering), median of {repeat}; baseline /health {base:.2} ms"
    );
    let (first, _, _) = get(format!("/admin/{tenant}/benchmark")).await?;
    println!("  benchmark, first request (sums of all municipalities) {first:>8.1} ms");
    for (label, path) in [
        (
            "dashboard 30 days",
            format!("/dashboard/{tenant}?periode=30d"),
        ),
        (
            "dashboard 365 days",
            format!("/dashboard/{tenant}?periode=aangepast&van={year_ago}&tot={today}"),
        ),
        (
            "national dashboard 7 days",
            "/dashboard/NL?periode=7d".to_string(),
        ),
        (
            "national dashboard 30 days",
            "/dashboard/NL?periode=30d".to_string(),
        ),
        (
            "national dashboard 365 days",
            format!("/dashboard/NL?periode=aangepast&van={year_ago}&tot={today}"),
        ),
        (
            "pool dashboard 30 days",
            format!("/dashboard/{pool}?periode=30d"),
        ),
        (
            "benchmark (cached sums)",
            format!("/admin/{tenant}/benchmark"),
        ),
        (
            "staffing grid (bezetting)",
            format!("/admin/{tenant}/bezetting"),
        ),
        ("pool staffing grid", format!("/admin/{pool}/bezetting")),
    ] {
        let mut ms = vec![];
        let mut size = 0;
        // Per step of the page (its Server-Timing header): the median over the runs.
        let mut steps: Vec<(String, Vec<f64>)> = vec![];
        for _ in 0..repeat {
            let (t, n, st) = get(path.clone()).await?;
            ms.push(t);
            size = n;
            for (name, d) in st {
                match steps.iter_mut().find(|s| s.0 == name) {
                    Some(s) => s.1.push(d),
                    None => steps.push((name, vec![d])),
                }
            }
        }
        let m = median_ms(ms);
        println!(
            "  {label:<28} {m:>8.1} ms ({:>4} kB) | page/health {:>7.0}x",
            size / 1024,
            m / base
        );
        if !steps.is_empty() {
            let parts: Vec<String> = steps
                .into_iter()
                .map(|(n, d)| format!("{n} {:.1}", median_ms(d)))
                .collect();
            println!("      steps (ms): {}", parts.join(", "));
        }
    }
    let _ = tx.send(());
    let _ = server.await;
    Ok(())
}
