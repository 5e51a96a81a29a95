//! Browser-test harness: Debian's chromedriver + headless Chromium, driven with fantoccini, plus
//! axe-core accessibility checks (WCAG 2.1 A/AA), screenshots and polling waits.
//!
//! Include it from a test binary with
//! `#[path = "support/browser.rs"] mod browser;`
//!
//! ```ignore
//! let Some(browser) = browser::Browser::start().await else { return };
//! let c = browser.session().await;
//! c.goto(&format!("http://{addr}/")).await.unwrap();
//! browser::wait_js(&c, "document.querySelector('main') !== null", 10, "main rendered").await;
//! let violations = browser::axe_violations(&c).await;
//! assert!(violations.is_empty(), "{}", browser::describe_violations(&violations));
//! c.close().await.unwrap();
//! ```
//!
//! Environment:
//! - `LOKET_REQUIRE_BROWSER=1`: a missing chromedriver or axe-core is a test failure, not a skip (CI sets it).
//! - `LOKET_CHROMEDRIVER` / `LOKET_CHROMIUM`: override the driver / browser binary.
//! - `LOKET_AXE_JS`: override the path of `axe.min.js`.
//!
//! Needs dev-dependencies `fantoccini`, `hyper-util` (features `client-legacy`, `http1`, `tokio`),
//! `serde_json` and `tokio`. It talks plain HTTP to the local driver, so no TLS feature of
//! fantoccini is used.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener, TcpStream as StdTcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// WCAG tags axe-core is restricted to.
pub const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const CHROMIUM_FLAGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=nl-NL",
];

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A running chromedriver (in its own process group) and the sessions opened through it.
pub struct Browser {
    child: Child,
    port: u16,
    log: PathBuf,
    /// Root of this driver's temp files (log, one `--user-data-dir` per session); removed on drop.
    dir: PathBuf,
    sessions: Mutex<Vec<String>>,
}

fn require_browser() -> bool {
    matches!(
        std::env::var("LOKET_REQUIRE_BROWSER")
            .as_deref()
            .map(str::trim),
        Ok("1" | "true" | "yes")
    )
}

/// Prints to the raw stderr handle, which libtest does not capture, so a skip is always visible.
fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOKET_CHROMEDRIVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let debian = PathBuf::from("/usr/bin/chromedriver");
    if debian.is_file() {
        return Some(debian);
    }
    find_on_path("chromedriver")
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOKET_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    let l =
        StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0 for chromedriver");
    l.local_addr().expect("local addr").port()
}

fn unique_dir(prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()))
}

fn request(method: &str, path: &str, port: u16) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
}

/// Whether `buf` holds a complete HTTP response. chromedriver answers `Connection: close` but
/// keeps the socket open, so the end is found from `Content-Length`, not from EOF.
fn response_complete(buf: &[u8]) -> bool {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match len {
        Some(len) => buf.len() >= head_end + 4 + len,
        None => false,
    }
}

/// One HTTP/1.1 request to the driver on 127.0.0.1 (bounded to 5 s); returns the raw response.
async fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let io = async {
        let mut s = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        s.write_all(request(method, path, port).as_bytes()).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = s.read(&mut chunk).await?;
            buf.extend_from_slice(&chunk[..n]);
            if n == 0 || response_complete(&buf) {
                return Ok(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), io)
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "driver did not answer",
            ))
        })
}

/// Blocking variant for `Drop`: best effort, short timeouts.
fn http_blocking(port: u16, method: &str, path: &str) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut s) = StdTcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    if s.write_all(request(method, path, port).as_bytes()).is_err() {
        return;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = s.read(&mut chunk) {
        buf.extend_from_slice(&chunk[..n]);
        if n == 0 || response_complete(&buf) {
            break;
        }
    }
}

fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

impl Browser {
    /// Starts chromedriver on a free port and waits until it answers `/status`.
    ///
    /// Returns `None` (after a loud line on stderr) when chromedriver is not installed, unless
    /// `LOKET_REQUIRE_BROWSER=1`, in which case it panics.
    pub async fn start() -> Option<Browser> {
        let Some(driver) = find_chromedriver() else {
            if require_browser() {
                panic!(
                    "LOKET_REQUIRE_BROWSER=1 but chromedriver was not found (/usr/bin/chromedriver or PATH); \
                     install it with `apt-get install chromium chromium-driver`"
                );
            }
            loud(
                "!!! browser tests SKIPPED: chromedriver not found !!! \
                 (apt-get install chromium chromium-driver; set LOKET_REQUIRE_BROWSER=1 to make this fatal)",
            );
            return None;
        };

        let mut last_err = String::new();
        for _attempt in 0..3 {
            match Self::spawn(&driver).await {
                Ok(b) => return Some(b),
                Err(e) => last_err = e,
            }
        }
        panic!(
            "chromedriver ({}) did not start: {last_err}",
            driver.display()
        );
    }

    async fn spawn(driver: &Path) -> Result<Browser, String> {
        let dir = unique_dir("loket-browser");
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let log = dir.join("chromedriver.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("create log: {e}"))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("clone log: {e}"))?;
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            // Chromium on Linux takes its locale (date fields, number formats) from the
            // environment, not from `--lang`: Dutch, as a Dutch agent's browser. It needs
            // Debian's chromium-l10n; without it Chromium falls back to en-US.
            .env("LANGUAGE", "nl")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            // Own process group, so drop can take down chromedriver and every Chromium it started.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", driver.display()))?;
        let mut browser = Browser {
            child,
            port,
            log,
            dir,
            sessions: Mutex::new(Vec::new()),
        };

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = browser.child.try_wait() {
                return Err(format!(
                    "chromedriver exited early ({status}) on port {port}; log:\n{}",
                    tail(&browser.log, 4000)
                ));
            }
            if let Ok(resp) = http(port, "GET", "/status").await {
                let compact: String = resp.chars().filter(|c| !c.is_whitespace()).collect();
                if compact.contains("\"ready\":true") {
                    return Ok(browser);
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver did not answer /status within 20 s on port {port}; log:\n{}",
                    tail(&browser.log, 4000)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The driver's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn webdriver_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new, isolated headless Chromium session with its own empty profile, Dutch UI language
    /// and a 1280×900 window.
    pub async fn session(&self) -> fantoccini::Client {
        self.session_with_downloads().await.0
    }

    /// A session as [`Browser::session`], and the directory its downloads are saved in
    /// (without asking).
    pub async fn session_with_downloads(&self) -> (fantoccini::Client, std::path::PathBuf) {
        let profile = self.dir.join(format!(
            "profile-{}",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let downloads = profile.join("downloads");
        std::fs::create_dir_all(&downloads).expect("create chromium profile dir");

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut chrome = json!({
            "args": args,
            "prefs": {
                "intl.accept_languages": "nl-NL,nl",
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        });
        if let Some(bin) = find_chromium() {
            chrome["binary"] = json!(bin.display().to_string());
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), chrome);

        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.webdriver_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "could not open a Chromium session via chromedriver on port {}: {e}\nchromedriver log:\n{}",
                    self.port,
                    tail(&self.log, 4000)
                )
            });
        if let Ok(Some(id)) = client.session_id().await {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id);
        }
        (client, downloads)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask chromedriver to quit every session it still has (a no-op for closed ones), so that
        // Chromium shuts down cleanly; then kill the whole process group as a safety net.
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|p| p.into_inner()));
        for id in sessions {
            http_blocking(self.port, "DELETE", &format!("/session/{id}"));
        }
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn axe_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LOKET_AXE_JS") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/browser/node_modules/axe-core/axe.min.js")
}

/// Runs axe-core in the current page, restricted to WCAG 2.1 A and AA rules, and returns the
/// violations as `{id, impact, help, helpUrl, nodes: [{target, html, failureSummary}]}`.
///
/// When `axe.min.js` is missing (`npm ci` not run in `tests/browser/`): panics if
/// `LOKET_REQUIRE_BROWSER=1`, otherwise prints a loud skip line and returns no violations.
pub async fn axe_violations(c: &fantoccini::Client) -> Vec<Value> {
    let path = axe_path();
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            if require_browser() {
                panic!(
                    "LOKET_REQUIRE_BROWSER=1 but axe-core is missing at {} ({e}); run `npm ci` in tests/browser/",
                    path.display()
                );
            }
            loud(&format!(
                "!!! accessibility check SKIPPED: axe-core not found at {} ({e}); run `npm ci` in tests/browser/ !!!",
                path.display()
            ));
            return Vec::new();
        }
    };

    // Evaluated through WebDriver rather than as an injected <script>, so a strict
    // Content-Security-Policy on the page cannot block it.
    let loaded = c
        .execute(
            &format!("if (!window.axe) {{\n{src}\n}}\nreturn typeof window.axe;"),
            vec![],
        )
        .await
        .expect("inject axe-core into the page");
    assert_eq!(loaded, json!("object"), "axe-core did not load in the page");

    let script = r#"
        const done = arguments[arguments.length - 1];
        const tags = arguments[0];
        window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
          .then(r => done(JSON.stringify(r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
              nodes: v.nodes.map(n => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
          })))))
          .catch(e => done('AXE-ERROR: ' + (e && e.stack || e)));
    "#;
    let out = c
        .execute_async(script, vec![json!(AXE_TAGS)])
        .await
        .expect("run axe-core");
    let text = out.as_str().unwrap_or_default();
    if let Some(err) = text.strip_prefix("AXE-ERROR: ") {
        panic!("axe-core failed in the page: {err}");
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(v)) => v,
        other => panic!("unexpected axe-core result {other:?} from {out}"),
    }
}

/// One line per violation and node, for assertion messages.
pub fn describe_violations(violations: &[Value]) -> String {
    let mut s = format!("{} accessibility violation(s):\n", violations.len());
    for v in violations {
        s.push_str(&format!(
            "- [{}] {}: {} ({})\n",
            v["impact"].as_str().unwrap_or("?"),
            v["id"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or(""),
            v["helpUrl"].as_str().unwrap_or(""),
        ));
        for n in v["nodes"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "    {} {}\n",
                n["target"],
                n["html"].as_str().unwrap_or("")
            ));
        }
    }
    s
}

/// Saves a PNG screenshot of the viewport to `path`, creating parent directories.
pub async fn screenshot(c: &fantoccini::Client, path: &Path) {
    let png = c.screenshot().await.expect("take screenshot");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("create screenshot dir {}: {e}", dir.display()));
    }
    std::fs::write(path, png)
        .unwrap_or_else(|e| panic!("write screenshot {}: {e}", path.display()));
}

/// Polls every 100 ms, up to `secs` seconds, until the JavaScript expression `js` is truthy in
/// the page. On timeout panics with `what`, the expression, the URL and the page's visible text.
pub async fn wait_js(c: &fantoccini::Client, js: &str, secs: u64, what: &str) {
    let script = format!("return !!({js});");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last_err: Option<String>;
    loop {
        match c.execute(&script, vec![]).await {
            Ok(Value::Bool(true)) => return,
            Ok(_) => last_err = None,
            Err(e) => last_err = Some(e.to_string()),
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("<unknown: {e}>"));
    let text = c
        .execute(
            "return document.body ? document.body.innerText : '<no body>';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let text: String = text.chars().take(4000).collect();
    panic!(
        "timed out after {secs} s waiting for {what}\n  expression: {js}\n  last error: {}\n  url: {url}\n  page text:\n{text}",
        last_err.as_deref().unwrap_or("none")
    );
}
