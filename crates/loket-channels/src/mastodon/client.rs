//! The HTTP side: authorised requests, rate-limit bookkeeping, `Link` headers, and the mapping
//! of failures onto Dutch [`ChannelError`]s and [`DeliveryError`]s. The token is sent only in
//! the `Authorization` header and never appears in an error: reqwest errors are reduced to their
//! kind, without the URL.

use crate::DeliveryError;
use crate::adapter::ChannelError;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;

/// The scopes the token needs, as named in the admin form.
pub const SCOPES_HINT: &str = super::SCOPES;

/// How far in the future a `X-RateLimit-Reset` is believed; later (clock skew, odd proxies)
/// counts as unknown so a bogus value cannot block sending for days.
const MAX_RESET_AHEAD: chrono::TimeDelta = chrono::TimeDelta::minutes(3 * 60 + 15);

#[derive(Debug)]
pub enum ApiError {
    Network(NetKind),
    /// The server answered with a non-success status; `message` is its `error` field.
    Status {
        code: u16,
        message: String,
        path: String,
    },
    /// The rate limit is used up until `until` (a 429, or remaining 0 before we asked).
    Limited {
        until: DateTime<Utc>,
    },
    /// The body was not what the API documents.
    Decode {
        path: String,
        detail: String,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum NetKind {
    Timeout,
    Connect,
    Other,
}

impl ApiError {
    fn net(e: &reqwest::Error) -> Self {
        ApiError::Network(if e.is_timeout() {
            NetKind::Timeout
        } else if e.is_connect() {
            NetKind::Connect
        } else {
            NetKind::Other
        })
    }

    pub fn to_channel(&self) -> ChannelError {
        match self {
            ApiError::Network(k) => ChannelError::unreachable(net_text(*k)),
            ApiError::Status {
                code: 401 | 403, ..
            } => ChannelError::auth(auth_text(self)),
            ApiError::Status {
                code: 404, path, ..
            } => ChannelError::config(format!(
                "Mastodon kent {path} niet (HTTP 404): klopt het adres van de server?"
            )),
            ApiError::Status { code, message, .. } => {
                ChannelError::unreachable(format!("Mastodon gaf HTTP {code}{}", detail(message)))
            }
            ApiError::Limited { until } => ChannelError::unreachable(limited_text(*until)),
            ApiError::Decode { path, detail } => ChannelError::malformed(format!(
                "Mastodon stuurde een onleesbaar antwoord op {path}: {detail}"
            )),
        }
    }

    /// For replies: retry what may pass later (network, 5xx, 408, 429), give up on what will
    /// not (refused token, rejected status).
    pub fn to_delivery(&self) -> DeliveryError {
        match self {
            ApiError::Network(k) => DeliveryError::retry(net_text(*k)),
            ApiError::Status {
                code: 401 | 403, ..
            } => DeliveryError::fatal(auth_text(self)),
            ApiError::Status { code: 404, .. } => DeliveryError::fatal(
                "Mastodon kent het bericht niet (meer) waarop geantwoord wordt (HTTP 404)",
            ),
            ApiError::Status {
                code: 422, message, ..
            } => DeliveryError::fatal(format!(
                "Mastodon weigert de reactie (HTTP 422){}",
                detail(message)
            )),
            ApiError::Status { code, message, .. } if *code >= 500 || *code == 408 => {
                DeliveryError::retry(format!("Mastodon gaf HTTP {code}{}", detail(message)))
            }
            ApiError::Status { code, message, .. } => DeliveryError::fatal(format!(
                "Mastodon weigert de reactie (HTTP {code}){}",
                detail(message)
            )),
            ApiError::Limited { until } => DeliveryError::retry(limited_text(*until)),
            ApiError::Decode { path, detail } => DeliveryError::retry(format!(
                "Mastodon stuurde een onleesbaar antwoord op {path}: {detail}"
            )),
        }
    }
}

fn net_text(k: NetKind) -> &'static str {
    match k {
        NetKind::Timeout => "Mastodon: time-out",
        NetKind::Connect => "Mastodon onbereikbaar: verbinding mislukt",
        NetKind::Other => "Mastodon: netwerkfout",
    }
}

fn auth_text(e: &ApiError) -> String {
    let code = match e {
        ApiError::Status { code, .. } => *code,
        _ => 401,
    };
    format!(
        "Mastodon weigert het toegangstoken (HTTP {code}): controleer het token en de rechten ({SCOPES_HINT})"
    )
}

fn detail(message: &str) -> String {
    let m: String = message.trim().chars().take(300).collect();
    if m.is_empty() {
        String::new()
    } else {
        format!(": {m}")
    }
}

/// "Mastodon-limiet bereikt: opnieuw proberen over 42 s (na 14:05:00 UTC)".
pub fn limited_text(until: DateTime<Utc>) -> String {
    let secs = (until - Utc::now()).num_seconds().max(1);
    let wait = if secs >= 120 {
        format!("{} min", (secs + 59) / 60)
    } else {
        format!("{secs} s")
    };
    format!(
        "Mastodon-limiet bereikt: opnieuw proberen over {wait} (na {} UTC)",
        until.format("%H:%M:%S")
    )
}

#[derive(Debug, Default, Clone, Copy)]
struct RateState {
    remaining: Option<i64>,
    reset: Option<DateTime<Utc>>,
}

/// A page of a list endpoint plus what its `Link` header says about the next newer page.
pub struct Page<T> {
    pub items: Vec<T>,
    /// `min_id` of the `rel="prev"` link: where reading forward continues.
    pub prev_min_id: Option<String>,
}

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    timeout: Duration,
    rate: Mutex<RateState>,
}

impl Api {
    pub fn new(base: String, token: String) -> Self {
        // Never follows a redirect with the token.
        let http = crate::http::client_builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        Self {
            http,
            base,
            token,
            timeout: Duration::from_secs(30),
            rate: Mutex::new(RateState::default()),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Refuses to call while the last answer said the limit is used up and the reset time has
    /// not come.
    fn check_budget(&self) -> Result<(), ApiError> {
        let st = *self.rate.lock().unwrap();
        if let (Some(0), Some(reset)) = (st.remaining, st.reset) {
            let now = Utc::now();
            if reset > now && reset - now < MAX_RESET_AHEAD {
                return Err(ApiError::Limited { until: reset });
            }
        }
        Ok(())
    }

    fn note_limits(&self, headers: &HeaderMap, status: u16) {
        let remaining =
            header(headers, "x-ratelimit-remaining").and_then(|v| v.parse::<i64>().ok());
        let reset = header(headers, "x-ratelimit-reset").and_then(parse_reset);
        let mut st = self.rate.lock().unwrap();
        if status == 429 {
            st.remaining = Some(0);
            st.reset = reset
                .or_else(|| {
                    header(headers, "retry-after")
                        .and_then(|v| v.parse::<i64>().ok())
                        .map(|s| Utc::now() + chrono::TimeDelta::seconds(s))
                })
                .or_else(|| Some(Utc::now() + chrono::TimeDelta::seconds(60)));
        } else if remaining.is_some() || reset.is_some() {
            st.remaining = remaining;
            st.reset = reset;
        }
    }

    fn limited_until(&self) -> DateTime<Utc> {
        self.rate
            .lock()
            .unwrap()
            .reset
            .unwrap_or_else(|| Utc::now() + chrono::TimeDelta::seconds(60))
    }

    async fn execute(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
    ) -> Result<reqwest::Response, ApiError> {
        self.check_budget()?;
        let resp = req.send().await.map_err(|e| ApiError::net(&e))?;
        let status = resp.status().as_u16();
        self.note_limits(resp.headers(), status);
        if resp.status().is_success() {
            return Ok(resp);
        }
        if status == 429 {
            return Err(ApiError::Limited {
                until: self.limited_until(),
            });
        }
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_default();
        Err(ApiError::Status {
            code: status,
            message,
            path: path.to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET a JSON document. `auth` false for public endpoints (instance information).
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        auth: bool,
    ) -> Result<Page<T>, ApiError> {
        let (body, prev) = self.get_raw(path, query, auth).await?;
        let items = serde_json::from_slice::<Vec<T>>(&body).map_err(|e| ApiError::Decode {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Page {
            items,
            prev_min_id: prev,
        })
    }

    pub async fn get_one<T: DeserializeOwned>(
        &self,
        path: &str,
        auth: bool,
    ) -> Result<T, ApiError> {
        let (body, _) = self.get_raw(path, &[], auth).await?;
        serde_json::from_slice::<T>(&body).map_err(|e| ApiError::Decode {
            path: path.to_string(),
            detail: e.to_string(),
        })
    }

    async fn get_raw(
        &self,
        path: &str,
        query: &[(&str, &str)],
        auth: bool,
    ) -> Result<(Vec<u8>, Option<String>), ApiError> {
        let mut req = self
            .http
            .get(self.url(path))
            .query(query)
            .header("Accept", "application/json")
            .timeout(self.timeout);
        if auth {
            req = req.bearer_auth(&self.token);
        }
        let resp = self.execute(req, path).await?;
        let prev = header(resp.headers(), "link").and_then(|l| link_min_id(&l, "prev"));
        let body = resp.bytes().await.map_err(|e| ApiError::net(&e))?;
        Ok((body.to_vec(), prev))
    }

    /// POST /api/v1/statuses with an idempotency key; returns the new status's id.
    pub async fn post_status(
        &self,
        body: &serde_json::Value,
        idempotency_key: &str,
    ) -> Result<String, ApiError> {
        let path = "/api/v1/statuses";
        let req = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", idempotency_key)
            .header("Accept", "application/json")
            .json(body)
            .timeout(self.timeout);
        let resp = self.execute(req, path).await?;
        let body = resp.bytes().await.map_err(|e| ApiError::net(&e))?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| ApiError::Decode {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        v.get("id")
            .and_then(|id| id.as_str())
            .map(str::to_string)
            .ok_or_else(|| ApiError::Decode {
                path: path.to_string(),
                detail: "geen id in het antwoord".to_string(),
            })
    }

    /// Opens a server-sent events stream (no overall time-out: it stays open).
    pub async fn open_stream(&self, url: &str, path: &str) -> Result<reqwest::Response, ApiError> {
        let req = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("Accept", "text/event-stream")
            .header("Cache-Control", "no-cache");
        self.execute(req, path).await
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// Mastodon sends an ISO 8601 time; some proxies send Unix seconds.
fn parse_reset(v: String) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
        return Some(t.with_timezone(&Utc));
    }
    v.parse::<i64>()
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
}

/// The `min_id` query parameter of the link with relation `rel` in a `Link` header, e.g.
/// `<https://x/api/v1/notifications?min_id=34975861>; rel="prev"`.
pub fn link_min_id(link: &str, rel: &str) -> Option<String> {
    for part in link.split(',') {
        let part = part.trim();
        let (Some(open), Some(close)) = (part.find('<'), part.find('>')) else {
            continue;
        };
        if close < open {
            continue;
        }
        let url = &part[open + 1..close];
        let params = &part[close + 1..];
        let has_rel = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|r| r.trim_matches('"').split_whitespace().any(|r| r == rel))
                .unwrap_or(false)
        });
        if !has_rel {
            continue;
        }
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        for kv in query.split('&') {
            if let Some(v) = kv.strip_prefix("min_id=") {
                let v = v.split('#').next().unwrap_or("");
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_prev() {
        let l = "<https://mastodon.example/api/v1/notifications?max_id=34975535>; rel=\"next\", <https://mastodon.example/api/v1/notifications?min_id=34975861>; rel=\"prev\"";
        assert_eq!(link_min_id(l, "prev").as_deref(), Some("34975861"));
        assert_eq!(link_min_id(l, "next"), None);
        let l = "<https://mastodon.example/api/v1/conversations?limit=2&min_id=108888782724768580>; rel=\"prev\"";
        assert_eq!(
            link_min_id(l, "prev").as_deref(),
            Some("108888782724768580")
        );
        assert_eq!(link_min_id("garbage", "prev"), None);
    }

    #[test]
    fn errors_never_carry_the_token_and_are_dutch() {
        let e = ApiError::Status {
            code: 401,
            message: "The access token is invalid".into(),
            path: "/api/v1/notifications".into(),
        };
        let c = e.to_channel();
        assert_eq!(c.kind, crate::adapter::ChannelErrorKind::Auth);
        assert!(c.message.contains("toegangstoken"));
        assert!(!e.to_delivery().retryable);
        let l = ApiError::Limited {
            until: Utc::now() + chrono::TimeDelta::seconds(30),
        };
        assert!(l.to_delivery().retryable);
        assert!(l.to_delivery().message.contains("opnieuw proberen over"));
        assert!(
            ApiError::Status {
                code: 503,
                message: String::new(),
                path: String::new()
            }
            .to_delivery()
            .retryable
        );
        assert!(
            !ApiError::Status {
                code: 422,
                message: "Validation failed".into(),
                path: String::new()
            }
            .to_delivery()
            .retryable
        );
    }

    #[test]
    fn reset_formats() {
        assert!(parse_reset("2020-09-08T13:25:00.019685Z".into()).is_some());
        assert!(parse_reset("1700000000".into()).is_some());
        assert!(parse_reset("morgen".into()).is_none());
    }
}
