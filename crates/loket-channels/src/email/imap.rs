//! Reading the municipality's mailbox over IMAP: connect, read what is new after a cursor,
//! and wait for more with IDLE (or by polling).

use super::parse::{self, MAX_MESSAGE_BYTES};
use crate::adapter::{Batch, ChannelError, Event, InboundMessage};
use async_imap::types::{Fetch, Mailbox};
use futures::TryStreamExt;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// How long to wait for the server to accept a connection or answer a short command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fetch of message bodies may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);
/// Servers may drop an IDLE after 30 minutes (RFC 2177): re-issue it before that.
pub const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// When an IDLE brings nothing at all for this long (not even the server's keepalive), it is
/// ended and re-issued: that finds a connection that died without closing.
const IDLE_SILENCE: Duration = Duration::from_secs(5 * 60);
/// At most this many messages per batch…
pub const BATCH_MESSAGES: usize = 100;
/// …and at most this many bytes (at least one message, whatever its size).
pub const BATCH_BYTES: u64 = 50 * 1024 * 1024;
/// After a UIDVALIDITY change, messages that arrived in these last days are read again.
const RESET_DAYS: u64 = 14;

/// How the connection to a mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    StartTls,
    /// No encryption: only for a server on the same machine or in tests.
    None,
}

impl Security {
    /// Reads the admin's choice: "tls"/"ja"/"ssl", "starttls", "geen"/"nee".
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "tls" | "ja" | "ssl" | "ssl/tls" | "implicit" => Some(Security::Tls),
            "starttls" | "start-tls" => Some(Security::StartTls),
            "geen" | "nee" | "none" | "plain" | "uit" => Some(Security::None),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: String,
    pub mailbox: String,
}

impl Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}

/// Any byte stream an IMAP session can run over (plain TCP or TLS).
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

pub type Session = async_imap::Session<Box<dyn ImapIo>>;

/// Position in a mailbox: `"<uidvalidity>:<last_uid>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (v, u) = s.trim().split_once(':')?;
        Some(Cursor {
            uid_validity: v.parse().ok()?,
            last_uid: u.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.uid_validity, self.last_uid)
    }
}

/// A Dutch description of an I/O failure.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "verbinding geweigerd".into(),
        TimedOut => "geen antwoord (time-out)".into(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
            "verbinding verbroken".into()
        }
        NotFound => "servernaam onbekend".into(),
        _ => {
            let text = e.to_string();
            if text.contains("lookup") || text.contains("Name or service") {
                "servernaam onbekend".into()
            } else {
                format!("netwerkfout ({text})")
            }
        }
    }
}

fn imap_failure(what: &str, e: async_imap::error::Error) -> ChannelError {
    use async_imap::error::Error;
    match e {
        Error::Io(io) => ChannelError::unreachable(format!("IMAP: {what}: {}", io_reason(&io))),
        Error::ConnectionLost => {
            ChannelError::unreachable(format!("IMAP: {what}: verbinding verbroken"))
        }
        Error::No(m) | Error::Bad(m) => {
            ChannelError::unreachable(format!("IMAP: {what}: de server weigerde ({m})"))
        }
        other => ChannelError::unreachable(format!("IMAP: {what}: {other}")),
    }
}

async fn timed<T, E>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
    map: impl FnOnce(E) -> ChannelError,
) -> Result<T, ChannelError> {
    match timeout(limit, fut).await {
        Ok(r) => r.map_err(map),
        Err(_) => Err(ChannelError::unreachable(format!(
            "IMAP: {what}: geen antwoord binnen {} seconden",
            limit.as_secs()
        ))),
    }
}

/// A rustls client configuration with the ring provider and the Mozilla roots.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, ChannelError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ChannelError::config(format!("TLS-instellingen: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn tls_wrap(stream: TcpStream, host: &str) -> Result<Box<dyn ImapIo>, ChannelError> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| ChannelError::config(format!("‘{host}’ is geen geldige servernaam")))?;
    let connector = tokio_rustls::TlsConnector::from(tls_config()?);
    let tls = timed(
        COMMAND_TIMEOUT,
        "TLS",
        connector.connect(name, stream),
        |e| {
            ChannelError::unreachable(format!(
                "IMAP: beveiligde verbinding met {host} mislukt ({e})"
            ))
        },
    )
    .await?;
    Ok(Box::new(tls))
}

/// Connects and logs in; the session has no mailbox selected yet.
pub async fn connect(s: &ImapSettings) -> Result<Session, ChannelError> {
    let addr = format!("{}:{}", s.host, s.port);
    let tcp = timed(
        COMMAND_TIMEOUT,
        "verbinden",
        TcpStream::connect(&addr),
        |e| {
            ChannelError::unreachable(format!(
                "IMAP-server {addr} is niet bereikbaar: {}",
                io_reason(&e)
            ))
        },
    )
    .await?;
    let stream: Box<dyn ImapIo> = match s.security {
        Security::Tls => tls_wrap(tcp, &s.host).await?,
        Security::None => Box::new(tcp),
        Security::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            read_greeting(&mut client).await?;
            timed(
                COMMAND_TIMEOUT,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
                |e| imap_failure("STARTTLS", e),
            )
            .await?;
            tls_wrap(client.into_inner(), &s.host).await?
        }
    };
    let mut client = async_imap::Client::new(stream);
    if s.security != Security::StartTls {
        read_greeting(&mut client).await?;
    }
    match timeout(COMMAND_TIMEOUT, client.login(&s.user, &s.password)).await {
        Err(_) => Err(ChannelError::unreachable(
            "IMAP: inloggen: geen antwoord van de server",
        )),
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(_), _))) => Err(ChannelError::auth(format!(
            "IMAP: inloggen als {} geweigerd; controleer gebruikersnaam en wachtwoord",
            s.user
        ))),
        Ok(Err((e, _))) => Err(imap_failure("inloggen", e)),
    }
}

async fn read_greeting<T: ImapIo>(client: &mut async_imap::Client<T>) -> Result<(), ChannelError> {
    match timeout(COMMAND_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(ChannelError::unreachable(
            "IMAP: de server sloot de verbinding zonder begroeting",
        )),
        Ok(Err(e)) => Err(ChannelError::unreachable(format!(
            "IMAP: begroeting: {}",
            io_reason(&e)
        ))),
        Err(_) => Err(ChannelError::unreachable(
            "IMAP: de server stuurde geen begroeting (is dit wel een IMAP-poort?)",
        )),
    }
}

/// Opens the mailbox read-only (EXAMINE: reading never changes flags).
pub async fn examine(session: &mut Session, mailbox: &str) -> Result<Mailbox, ChannelError> {
    timed(
        COMMAND_TIMEOUT,
        "map openen",
        session.examine(mailbox),
        |e| match e {
            async_imap::error::Error::No(_) => ChannelError::config(format!(
                "IMAP: de map ‘{mailbox}’ bestaat niet of is niet te openen"
            )),
            e => imap_failure("map openen", e),
        },
    )
    .await
}

/// The position just after the newest message (nothing before it will be read).
async fn current_position(session: &mut Session, mbox: &Mailbox) -> Result<Cursor, ChannelError> {
    let uid_validity = mbox.uid_validity.unwrap_or(0);
    let last_uid = match mbox.uid_next {
        Some(next) => next.saturating_sub(1),
        None => timed(COMMAND_TIMEOUT, "zoeken", session.uid_search("ALL"), |e| {
            imap_failure("zoeken", e)
        })
        .await?
        .into_iter()
        .max()
        .unwrap_or(0),
    };
    Ok(Cursor {
        uid_validity,
        last_uid,
    })
}

/// IMAP date for SEARCH SINCE, `RESET_DAYS` ago.
fn since_date() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_sub(RESET_DAYS * 86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{day}-{}-{year}", MONTHS[(month - 1) as usize])
}

/// UID sets of at most this many ids per command.
const UIDS_PER_COMMAND: usize = 500;

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `UID FETCH set items`: every answer, within [`FETCH_TIMEOUT`]; `what` names the step in errors.
async fn uid_fetch(
    session: &mut Session,
    set: &str,
    items: &str,
    what: &str,
) -> Result<Vec<Fetch>, ChannelError> {
    timed(
        FETCH_TIMEOUT,
        what,
        async {
            let stream = session.uid_fetch(set, items).await?;
            stream.try_collect::<Vec<_>>().await
        },
        |e| imap_failure(what, e),
    )
    .await
}

/// (uid, size) of the given messages, or of everything after `after` when `uids` is `None`.
async fn sizes(
    session: &mut Session,
    uids: Option<&[u32]>,
    after: u32,
) -> Result<Vec<(u32, u64)>, ChannelError> {
    let sets: Vec<String> = match uids {
        Some(list) => list.chunks(UIDS_PER_COMMAND).map(uid_set).collect(),
        None => vec![format!("{}:*", after.saturating_add(1))],
    };
    let mut out = Vec::new();
    for set in sets {
        let fetches = uid_fetch(session, &set, "(UID RFC822.SIZE)", "berichten opvragen").await?;
        for f in fetches {
            // "n:*" also returns the newest message when its UID is below n.
            if let Some(uid) = f.uid.filter(|u| *u > after) {
                out.push((uid, u64::from(f.size.unwrap_or(0))));
            }
        }
    }
    out.sort_unstable();
    out.dedup_by_key(|(uid, _)| *uid);
    Ok(out)
}

fn received_ms(f: &Fetch) -> i64 {
    f.internal_date()
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        })
}

/// Fetches and parses the given messages without marking them read (BODY.PEEK).
async fn fetch_messages(
    session: &mut Session,
    wanted: &[(u32, u64)],
) -> Result<Vec<(u32, InboundMessage)>, ChannelError> {
    let small: Vec<u32> = wanted
        .iter()
        .filter(|(_, size)| *size <= MAX_MESSAGE_BYTES as u64)
        .map(|(uid, _)| *uid)
        .collect();
    let mut out = Vec::new();
    for chunk in small.chunks(UIDS_PER_COMMAND) {
        let set = uid_set(chunk);
        let fetches = uid_fetch(
            session,
            &set,
            "(UID INTERNALDATE BODY.PEEK[])",
            "berichten ophalen",
        )
        .await?;
        for f in &fetches {
            let (Some(uid), Some(body)) = (f.uid, f.body()) else {
                continue;
            };
            out.push((uid, parse::parse(body, received_ms(f))));
        }
    }
    for &(uid, size) in wanted.iter().filter(|(_, s)| *s > MAX_MESSAGE_BYTES as u64) {
        let set = uid.to_string();
        let fetches = uid_fetch(
            session,
            &set,
            "(UID INTERNALDATE BODY.PEEK[HEADER])",
            "kopregels ophalen",
        )
        .await?;
        for f in &fetches {
            if let (Some(uid), Some(header)) = (f.uid, f.header()) {
                out.push((uid, parse::parse_oversized(header, size, received_ms(f))));
            }
        }
    }
    out.sort_by_key(|(uid, _)| *uid);
    Ok(out)
}

/// Reads what is new after `from` in the examined mailbox. Returns the batch (events plus the
/// cursor to store) and whether more messages are waiting beyond the batch limits.
pub async fn read_new(
    session: &mut Session,
    mbox: &Mailbox,
    from: Option<Cursor>,
) -> Result<(Batch, Cursor, bool), ChannelError> {
    let now = current_position(session, mbox).await?;
    let Some(from) = from else {
        return Ok((
            Batch {
                events: Vec::new(),
                cursor: Some(now.to_string()),
            },
            now,
            false,
        ));
    };
    let reset = from.uid_validity != now.uid_validity;
    let candidates = if reset {
        tracing::warn!(
            old = from.uid_validity,
            new = now.uid_validity,
            "IMAP UIDVALIDITY changed; re-reading the last {RESET_DAYS} days"
        );
        let found: BTreeSet<u32> = timed(
            COMMAND_TIMEOUT,
            "zoeken",
            session.uid_search(format!("SINCE {}", since_date())),
            |e| imap_failure("zoeken", e),
        )
        .await?
        .into_iter()
        .collect();
        let list: Vec<u32> = found.into_iter().collect();
        if list.is_empty() {
            Vec::new()
        } else {
            sizes(session, Some(&list), 0).await?
        }
    } else {
        sizes(session, None, from.last_uid).await?
    };

    let mut chosen = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in &candidates {
        let counted = size.min(MAX_MESSAGE_BYTES as u64);
        if !chosen.is_empty() && (chosen.len() >= BATCH_MESSAGES || bytes + counted > BATCH_BYTES) {
            break;
        }
        bytes += counted;
        chosen.push((uid, size));
    }
    let more = chosen.len() < candidates.len();
    let messages = fetch_messages(session, &chosen).await?;

    let last_uid = match chosen.last() {
        Some(&(uid, _)) if more => uid,
        Some(&(uid, _)) => uid.max(if reset { now.last_uid } else { 0 }),
        None if reset => now.last_uid,
        None => from.last_uid,
    };
    let cursor = Cursor {
        uid_validity: now.uid_validity,
        last_uid,
    };
    let events = messages
        .into_iter()
        .map(|(_, m)| Event::Message(m))
        .collect();
    Ok((
        Batch {
            events,
            cursor: Some(cursor.to_string()),
        },
        cursor,
        more,
    ))
}

/// How `listen` learns about new mail.
#[derive(Debug, Clone, Copy)]
pub struct ListenOptions {
    /// Poll interval when the server has no IDLE.
    pub poll: Duration,
    /// Re-issue IDLE after this long even when nothing happened.
    pub idle_renew: Duration,
    /// Use polling even when the server offers IDLE.
    pub force_poll: bool,
}

/// Waits for new mail and sends every batch on `tx`, until the connection fails (Err) or `tx`
/// is closed (Ok). Anything after `cursor` already waiting is sent first.
pub async fn listen(
    settings: &ImapSettings,
    cursor: Option<Cursor>,
    tx: mpsc::Sender<Batch>,
    opts: ListenOptions,
) -> Result<(), ChannelError> {
    let mut session = connect(settings).await?;
    let mut mbox = examine(&mut session, &settings.mailbox).await?;
    let caps = timed(
        COMMAND_TIMEOUT,
        "mogelijkheden",
        session.capabilities(),
        |e| imap_failure("mogelijkheden", e),
    )
    .await?;
    let use_idle = caps.has_str("IDLE") && !opts.force_poll;
    drop(caps);
    let mut pos = match cursor {
        Some(c) => c,
        None => current_position(&mut session, &mbox).await?,
    };

    loop {
        // Drain: everything after the cursor, in limited batches.
        loop {
            while session.unsolicited_responses.try_recv().is_ok() {}
            let (batch, next, more) = read_new(&mut session, &mbox, Some(pos)).await?;
            let changed = next != pos || !batch.events.is_empty();
            pos = next;
            if changed && tx.send(batch).await.is_err() {
                return Ok(());
            }
            // New mail announced while we were fetching: read again before waiting.
            let mut announced = false;
            while let Ok(r) = session.unsolicited_responses.try_recv() {
                announced |= matches!(r, async_imap::types::UnsolicitedResponse::Exists(_));
            }
            if !more && !announced {
                break;
            }
        }
        if tx.is_closed() {
            return Ok(());
        }

        if use_idle {
            let mut idle = session.idle();
            timed(COMMAND_TIMEOUT, "IDLE", idle.init(), |e| {
                imap_failure("IDLE", e)
            })
            .await?;
            let deadline = Instant::now() + opts.idle_renew;
            let woke = {
                let (wait, _stop) = idle.wait_with_timeout(opts.idle_renew.min(IDLE_SILENCE));
                tokio::select! {
                    r = wait => Some(r.map(|_| ())),
                    _ = tokio::time::sleep_until(deadline) => Some(Ok(())),
                    _ = tx.closed() => None,
                }
            };
            match woke {
                None => return Ok(()),
                Some(Err(e)) => return Err(imap_failure("wachten op nieuwe berichten", e)),
                Some(Ok(())) => {}
            }
            session = timed(COMMAND_TIMEOUT, "IDLE beëindigen", idle.done(), |e| {
                imap_failure("IDLE beëindigen", e)
            })
            .await?;
        } else {
            tokio::select! {
                _ = tokio::time::sleep(opts.poll) => {}
                _ = tx.closed() => return Ok(()),
            }
            timed(COMMAND_TIMEOUT, "NOOP", session.noop(), |e| {
                imap_failure("verbinding controleren", e)
            })
            .await?;
        }
        // UIDVALIDITY or UIDNEXT may have changed: look at the mailbox again.
        mbox = examine(&mut session, &settings.mailbox).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor::parse("1795986874:42").unwrap();
        assert_eq!(c.uid_validity, 1_795_986_874);
        assert_eq!(c.last_uid, 42);
        assert_eq!(c.to_string(), "1795986874:42");
        assert!(Cursor::parse("x:1").is_none());
        assert!(Cursor::parse("12").is_none());
    }

    #[test]
    fn security_choices() {
        assert_eq!(Security::parse("ja"), Some(Security::Tls));
        assert_eq!(Security::parse(" TLS "), Some(Security::Tls));
        assert_eq!(Security::parse("starttls"), Some(Security::StartTls));
        assert_eq!(Security::parse("nee"), Some(Security::None));
        assert_eq!(Security::parse("geen"), Some(Security::None));
        assert_eq!(Security::parse("misschien"), None);
    }

    #[test]
    fn since_date_is_an_imap_date() {
        let d = since_date();
        let parts: Vec<&str> = d.split('-').collect();
        assert_eq!(parts.len(), 3, "{d}");
        assert!(parts[0].parse::<u32>().is_ok_and(|n| (1..=31).contains(&n)));
        assert_eq!(parts[1].len(), 3);
        assert!(parts[2].parse::<u32>().is_ok_and(|y| y >= 2024));
    }
}
