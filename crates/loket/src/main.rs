//! The `loket` command line: run the server, the demo, migrations, admin commands and the text
//! engine's tools.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use loket_server::{Config, seed};
use std::path::PathBuf;

mod bench;
mod history;
mod text;

#[derive(Parser)]
#[command(name = "loket", version, about = "Loket — webcare voor alle Nederlandse gemeenten", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Loket with demo data on an embedded SQLite database.
    Demo(DemoArgs),
    /// Run Loket in production mode.
    Serve(ServeArgs),
    /// Apply database migrations and seed the municipalities, then exit.
    Migrate(ConfigArgs),
    /// Inspect tenants (municipalities, pools, the national entry).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage users and their roles.
    #[command(subcommand)]
    User(UserCmd),
    /// Analyse messages with the text engine (one JSON object per message).
    Analyse(text::AnalyseArgs),
    /// Evaluate the text engine on a labelled JSONL file.
    Eval(text::EvalArgs),
    /// Measure hot paths against a bare baseline.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Maintain the management-information rollups.
    #[command(subcommand)]
    Rollups(RollupsCmd),
}

#[derive(Subcommand)]
enum RollupsCmd {
    /// Recompute the rollups (hourly, daily, monthly) from the raw tables, e.g. for a database
    /// that had conversations before the rollups existed. Writes to the rollups wait meanwhile.
    Rebuild {
        /// Only this tenant (e.g. GM0344); all tenants when left out.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Directory for the embedded database (created when missing).
    #[arg(long, default_value = "./loket-data")]
    data_dir: PathBuf,
    /// Seconds between simulated resident messages (0 turns the stream off).
    #[arg(long, default_value_t = 45)]
    stream_every: u64,
    /// Generate this many days of history for all municipalities (e.g. 365) on first start.
    #[arg(long, alias = "history", value_parser = parse_days)]
    history_days: Option<u32>,
    /// Seed of the generated history (the same seed gives the same history).
    #[arg(long, default_value_t = 5)]
    history_seed: u64,
}

/// `365` or `365d`.
fn parse_days(s: &str) -> Result<u32, String> {
    s.trim_end_matches('d')
        .parse()
        .map_err(|_| format!("'{s}' is geen aantal dagen (bijvoorbeeld 365 of 365d)"))
}

#[derive(Args)]
struct ConfigArgs {
    /// TOML configuration file; every setting can also come from `LOKET_*` variables.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Subcommand)]
enum TenantCmd {
    /// List all tenants.
    List(ConfigArgs),
    /// Show one tenant with its settings.
    Show {
        /// Tenant code, e.g. GM0344.
        code: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user; the password is read from LOKET_PASSWORD or generated and printed.
    Add {
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Set a new password (from LOKET_PASSWORD, or generated and printed).
    Passwd {
        email: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Give a user a role in a tenant: agent, supervisor, woordvoerder, beheerder, coordinator.
    Grant {
        email: String,
        /// Tenant code, e.g. GM0344 or PV26.
        tenant: String,
        role: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOKET_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json { b.json().init() } else { b.init() }
}

fn load(args: &ConfigArgs) -> anyhow::Result<Config> {
    Config::load(args.config.as_deref()).map_err(|e| anyhow::anyhow!("configuratie: {e}"))
}

async fn store(cfg: &Config) -> anyhow::Result<loket_store::Store> {
    let s = loket_store::Store::connect(&cfg.database_url)
        .await
        // Only the part after any credentials is shown.
        .with_context(|| {
            let shown = cfg.database_url.rsplit('@').next().unwrap_or_default();
            format!("kan de database {shown} niet openen")
        })?;
    s.migrate().await.context("migraties")?;
    Ok(s)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

fn password_from_env_or_new() -> (String, bool) {
    match std::env::var("LOKET_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (
            format!("loket-{}", &loket_server::auth::random_token()[..16]),
            true,
        ),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A readable message, not a debug dump with a backtrace.
            eprintln!("Fout: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Command::Demo(_) | Command::Serve(_)) {
        // The text engine trains its models (about 2 s) on first use; start now, beside the
        // migrations and seeding, so the first message does not wait for all of it.
        std::thread::spawn(|| {
            loket_text::engine();
        });
    }
    match cli.command {
        Command::Demo(a) => demo(a).await,
        Command::Serve(a) => {
            let cfg = load(&a.config)?;
            init_tracing(cfg.log_json);
            let metrics = loket_server::install_metrics();
            let state = loket_server::build(cfg.clone(), metrics).await?;
            if state.store.tenant_count().await? == 0 {
                seed::tenants(&state.store).await?;
                seed::templates(&state.store).await?;
                state.reload_tenants().await?;
            }
            let listener = tokio::net::TcpListener::bind(&cfg.addr)
                .await
                .with_context(|| format!("kan niet luisteren op {}", cfg.addr))?;
            tracing::info!(addr = %listener.local_addr()?, "Loket serving");
            warm_benchmark(&state);
            loket_server::serve(listener, state, shutdown_signal()).await
        }
        Command::Migrate(a) => {
            let cfg = load(&a)?;
            let s = store(&cfg).await?;
            seed::tenants(&s).await?;
            seed::templates(&s).await?;
            println!(
                "Migraties uitgevoerd; {} tenants aanwezig.",
                s.tenant_count().await?
            );
            Ok(())
        }
        Command::Tenant(TenantCmd::List(a)) => {
            let s = store(&load(&a)?).await?;
            for t in s.tenants().await? {
                println!(
                    "{:<6}  {:<9}  {:<40}  {}",
                    t.code,
                    t.kind,
                    t.display_name,
                    t.pool_code.unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Tenant(TenantCmd::Show { code, config }) => {
            let s = store(&load(&config)?).await?;
            let code = loket_core::TenantCode::parse(&code)?;
            let t = s
                .tenant(code.as_str())
                .await
                .map_err(|_| anyhow::anyhow!("onbekende tenant {code}"))?;
            let settings: serde_json::Value = serde_json::from_str(&t.settings).unwrap_or_default();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"code": t.code, "kind": t.kind, "name": t.name, "display_name": t.display_name, "province": t.province_code, "pool": t.pool_code, "inhabitants": t.inhabitants, "settings": settings})
                )?
            );
            Ok(())
        }
        Command::User(cmd) => user(cmd).await,
        Command::Analyse(a) => text::analyse(a),
        Command::Eval(a) => text::eval(a),
        Command::Bench(b) => bench::run(b).await,
        Command::Rollups(RollupsCmd::Rebuild { tenant, config }) => {
            let s = store(&load(&config)?).await?;
            let r = s.rebuild_rollups(tenant.as_deref()).await?;
            println!(
                "Rollups herberekend voor {} tenants: {} uur-, {} dag- en {} maandrijen.",
                r.tenants, r.hourly_rows, r.daily_rows, r.monthly_rows
            );
            Ok(())
        }
    }
}

async fn user(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add {
            email,
            name,
            config,
        } => {
            let s = store(&load(&config)?).await?;
            let email = loket_core::Email::parse(&email)?;
            let (pw, generated) = password_from_env_or_new();
            loket_server::auth::check_password_policy(&pw).map_err(|e| anyhow::anyhow!(e))?;
            let id = s
                .create_user(
                    email.as_str(),
                    name.trim(),
                    &loket_server::auth::hash_password(&pw)?,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Gebruiker {email} aangemaakt (id {id}).");
            if generated {
                println!("Wachtwoord: {pw}");
            }
        }
        UserCmd::Passwd { email, config } => {
            let s = store(&load(&config)?).await?;
            let u = s
                .user_by_email(&email.to_lowercase())
                .await
                .map_err(|_| anyhow::anyhow!("onbekende gebruiker {email}"))?;
            let (pw, generated) = password_from_env_or_new();
            loket_server::auth::check_password_policy(&pw).map_err(|e| anyhow::anyhow!(e))?;
            s.set_password(u.id, &loket_server::auth::hash_password(&pw)?)
                .await?;
            println!("Wachtwoord van {email} gewijzigd.");
            if generated {
                println!("Nieuw wachtwoord: {pw}");
            }
        }
        UserCmd::Grant {
            email,
            tenant,
            role,
            config,
        } => {
            let s = store(&load(&config)?).await?;
            let u = s
                .user_by_email(&email.to_lowercase())
                .await
                .map_err(|_| anyhow::anyhow!("onbekende gebruiker {email}"))?;
            let code = loket_core::TenantCode::parse(&tenant)?;
            if s.tenant(code.as_str()).await.is_err() {
                bail!("onbekende tenant {code}");
            }
            let Some(r) = loket_core::Role::parse(&role) else {
                bail!(
                    "onbekende rol {role}: kies agent, supervisor, woordvoerder, beheerder of coordinator"
                )
            };
            s.grant(u.id, code.as_str(), r.as_str()).await?;
            println!("{email} is nu {} bij {code}.", r.as_str());
        }
    }
    Ok(())
}

async fn demo(a: DemoArgs) -> anyhow::Result<()> {
    init_tracing(false);
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("kan {} niet aanmaken", a.data_dir.display()))?;
    let db = a.data_dir.join("loket.db");
    let creds = a.data_dir.join("demo-wachtwoorden.txt");
    // The credentials file is written last: without it, an earlier first start was interrupted
    // while seeding, and the half-made demo database is started afresh.
    if db.exists() && !creds.exists() {
        println!(
            "  Onvolledige demo-gegevens gevonden in {}; ze worden opnieuw aangemaakt.",
            a.data_dir.display()
        );
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(a.data_dir.join(format!("loket.db{suffix}")));
        }
    }
    let fresh = !db.exists();
    let cfg = Config {
        addr: a.addr.clone(),
        database_url: format!("sqlite://{}", db.display()),
        base_url: format!("http://{}", a.addr),
        ..Config::default()
    };
    let metrics = loket_server::install_metrics();
    let state = loket_server::build(cfg, metrics).await?;
    if fresh || state.store.user_count().await? == 0 {
        seed::tenants(&state.store).await?;
        seed::templates(&state.store).await?;
        state.reload_tenants().await?;
        let users = seed::demo(&state).await?;
        let mut text = String::from("Demo-accounts (e-mail / wachtwoord / rollen)\n");
        for u in &users {
            let roles: Vec<String> = u.roles.iter().map(|(t, r)| format!("{r}@{t}")).collect();
            text += &format!(
                "{:<28} {:<20} {:<16} {}\n",
                u.email,
                u.password,
                u.name,
                roles.join(", ")
            );
        }
        if let Some(days) = a.history_days {
            println!("  Historie van {days} dagen aanmaken voor alle gemeenten…");
            let end = loket_store::rollups::hour_of(loket_store::now_ms());
            let g = history::generate(&state.store, days, a.history_seed, 1.0, end).await?;
            println!(
                "  {} gesprekken en {} berichten voor {} gemeenten in {:.0} s",
                g.conversations, g.messages, g.tenants, g.seconds
            );
            // The demo teams' members handled the history (satisfaction per team and agent).
            let codes: Vec<String> = state.tenants().keys().cloned().collect();
            let mut members: std::collections::BTreeMap<String, Vec<(i64, i64)>> =
                Default::default();
            for team in state.store.teams(&codes).await? {
                for user in state.store.team_members(team.id).await? {
                    members
                        .entry(team.tenant_code.clone())
                        .or_default()
                        .push((team.id, user));
                }
            }
            for (tenant, m) in &members {
                state.store.assign_history(tenant, m).await?;
            }
        }
        let tmp = creds.with_extension("tmp");
        std::fs::write(&tmp, &text)?;
        std::fs::rename(&tmp, &creds)?;
    }
    let listener = tokio::net::TcpListener::bind(&a.addr)
        .await
        .with_context(|| format!("kan niet luisteren op {}", a.addr))?;
    let addr = listener.local_addr()?;
    println!();
    println!("  Loket demo draait op  http://{addr}/");
    println!(
        "  Webchat-voorbeeld:    http://{addr}/widget/demo/GM0344   (landelijk: /widget/demo/NL)"
    );
    println!("  API-documentatie:     http://{addr}/api/docs");
    println!("  Gegevens in:          {}", a.data_dir.display());
    println!();
    if let Ok(text) = std::fs::read_to_string(&creds) {
        for line in text.lines() {
            println!("  {line}");
        }
    }
    println!();
    println!(
        "  Klaar in {:.1} s. Stoppen met Ctrl+C.",
        started.elapsed().as_secs_f64()
    );
    if a.stream_every > 0 {
        let st = state.clone();
        let every = a.stream_every;
        tokio::spawn(async move {
            let mut i = 0usize;
            loop {
                let jitter = rand::random::<u64>() % every.max(1);
                tokio::time::sleep(std::time::Duration::from_secs(every / 2 + jitter)).await;
                let (tenant, who, text) = seed::STREAM[i % seed::STREAM.len()];
                let id = format!("stream-{}-{}", loket_store::now_ms(), i);
                if let Err(e) = seed::simulate(&st, tenant, who, text, &id).await {
                    tracing::warn!(error = %e, "simulated message failed");
                }
                i += 1;
            }
        });
    }
    warm_benchmark(&state);
    loket_server::serve(listener, state, shutdown_signal()).await
}

/// Computes the benchmark's sums of all municipalities in the background right after start-up,
/// so that the first visitor of the benchmark page does not wait for them.
fn warm_benchmark(state: &loket_server::state::AppState) {
    let state = state.clone();
    tokio::spawn(async move { loket_server::insight::BenchmarkCache::warm(&state).await });
}
