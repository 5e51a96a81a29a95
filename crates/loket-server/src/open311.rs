//! Open311 GeoReport v2 at `/open311/v2/`, so existing Open311 apps can report problems in public
//! space to every municipality: `services` (the taxonomy's `melding` topics), service
//! definitions, `POST requests` (starts a report conversation in the right municipality),
//! `GET requests`, one request and `tokens`. JSON or XML by the `.json`/`.xml` suffix (XML
//! without one); errors in the spec's own format (`[{code, description}]` / `<errors>`).
//!
//! `jurisdiction_id` is a tenant code: a municipality's CBS code (`GM0344`) or `NL`, the national
//! entry, where the text engine routes by coordinates (point in polygon) or the address. A client
//! posts with a Loket API key: a municipality's key for its own jurisdiction, a key of `NL` for
//! any. The `service_request_id` is the id of the conversation; reads need no key (as the spec
//! says) and show only what this module stored for the public API: the description with personal
//! data redacted, the location and the state — never the resident's name or contact details.

use crate::auth::{random_token, sha256_hex};
use crate::error::AppError;
use crate::intake::{self, InboundRequest, MAX_TEXT_CHARS};
use crate::state::{AppState, Tenant};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use loket_core::{ConversationState, TenantCode, TenantKind};
use loket_store::{NewOpen311, Open311Filter, Open311Row, StoreError};
use loket_text::Topic;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{resource}", get(get_resource).post(post_resource))
        .route("/services/{code}", get(service_definition))
        .route("/requests/{id}", get(request))
        .route("/tokens/{token}", get(token))
}

/// Most requests one `GET requests` returns (the spec's default limit).
pub const MAX_REQUESTS: i64 = 1000;
/// Longest span of `start_date`–`end_date`, and the default window.
const MAX_SPAN_MS: i64 = 90 * 86_400_000;
const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Output format, chosen by the suffix of the last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// Splits `services.json` into (`services`, JSON). Without a known suffix the whole segment is
/// the name and the format is XML, the spec's required one (service codes contain dots).
pub fn split_format(segment: &str) -> (&str, Format) {
    if let Some(name) = segment.strip_suffix(".json") {
        (name, Format::Json)
    } else if let Some(name) = segment.strip_suffix(".xml") {
        (name, Format::Xml)
    } else {
        (segment, Format::Xml)
    }
}

/// An error in the spec's format, with the HTTP status the spec asks for.
#[derive(Debug)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
    pub format: Format,
}

impl Open311Error {
    fn new(format: Format, status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            format,
        }
    }
    fn bad(format: Format, d: impl Into<String>) -> Self {
        Self::new(format, StatusCode::BAD_REQUEST, d)
    }
    fn not_found(format: Format, d: impl Into<String>) -> Self {
        Self::new(format, StatusCode::NOT_FOUND, d)
    }
    fn forbidden(format: Format, d: impl Into<String>) -> Self {
        Self::new(format, StatusCode::FORBIDDEN, d)
    }
    fn from_app(format: Format, e: AppError) -> Self {
        let status = match &e {
            AppError::NotFound | AppError::UnknownTenant(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::BadRequest(_) | AppError::Conflict(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Forbidden(_) | AppError::Unauthorized => StatusCode::FORBIDDEN,
            other => other.status(),
        };
        if let AppError::Unexpected(err) = &e {
            tracing::error!(error = ?err, "open311: unexpected error");
        }
        Self::new(format, status, e.to_string())
    }
    fn from_store(format: Format, e: StoreError, what: &str) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(format, format!("{what} niet gevonden")),
            e => Self::from_app(format, AppError::from(e)),
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let rec: Rec = vec![
            ("code", V::I(self.status.as_u16() as i64)),
            ("description", V::S(self.description)),
        ];
        let mut resp = render_list(self.format, "errors", "error", vec![rec]);
        *resp.status_mut() = self.status;
        resp
    }
}

type O311<T> = Result<T, Open311Error>;

// ---- a tiny document model, rendered as JSON (Spark convention) or XML ----------------------

/// A value of a record field.
#[derive(Debug, Clone)]
enum V {
    S(String),
    I(i64),
    F(f64),
    B(bool),
    Null,
    /// A nested list: in XML its items are elements named by the first field.
    L(&'static str, Vec<Rec>),
}

type Rec = Vec<(&'static str, V)>;

fn opt(v: Option<String>) -> V {
    v.map(V::S).unwrap_or(V::Null)
}

fn json_of(v: &V) -> serde_json::Value {
    use serde_json::Value;
    match v {
        V::S(s) => Value::String(s.clone()),
        V::I(i) => Value::from(*i),
        V::F(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        V::B(b) => Value::Bool(*b),
        V::Null => Value::Null,
        V::L(_, items) => Value::Array(items.iter().map(json_rec).collect()),
    }
}

fn json_rec(r: &Rec) -> serde_json::Value {
    serde_json::Value::Object(r.iter().map(|(k, v)| (k.to_string(), json_of(v))).collect())
}

/// Escapes text for XML element content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn xml_rec(out: &mut String, name: &str, r: &Rec) {
    out.push_str(&format!("<{name}>"));
    for (k, v) in r {
        match v {
            V::Null => out.push_str(&format!("<{k}/>")),
            V::S(s) => out.push_str(&format!("<{k}>{}</{k}>", xml_escape(s))),
            V::I(i) => out.push_str(&format!("<{k}>{i}</{k}>")),
            V::F(f) => out.push_str(&format!("<{k}>{f}</{k}>")),
            V::B(b) => out.push_str(&format!("<{k}>{b}</{k}>")),
            V::L(item, items) => {
                out.push_str(&format!("<{k}>"));
                for i in items {
                    xml_rec(out, item, i);
                }
                out.push_str(&format!("</{k}>"));
            }
        }
    }
    out.push_str(&format!("</{name}>"));
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

fn respond(format: Format, body: String) -> Response {
    let ct = match format {
        Format::Json => "application/json; charset=utf-8",
        Format::Xml => "text/xml; charset=utf-8",
    };
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// A list document: a JSON array, or `<root><item>…</item>…</root>`.
fn render_list(format: Format, root: &str, item: &str, items: Vec<Rec>) -> Response {
    let body = match format {
        Format::Json => serde_json::Value::Array(items.iter().map(json_rec).collect()).to_string(),
        Format::Xml => {
            let mut out = String::from(XML_DECL);
            out.push_str(&format!("<{root}>"));
            for i in &items {
                xml_rec(&mut out, item, i);
            }
            out.push_str(&format!("</{root}>"));
            out
        }
    };
    respond(format, body)
}

/// A single-object document: a JSON object, or `<root>…</root>`.
fn render_one(format: Format, root: &str, rec: Rec) -> Response {
    let body = match format {
        Format::Json => json_rec(&rec).to_string(),
        Format::Xml => {
            let mut out = String::from(XML_DECL);
            xml_rec(&mut out, root, &rec);
            out
        }
    };
    respond(format, body)
}

// ---- parameters ----------------------------------------------------------------------------

/// Query-string and form parameters; an empty value counts as absent (the spec's "optional").
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }
    /// The last non-empty value (a form field overrides the same field in the query string).
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }
    /// All values, over repeated and comma-separated declarations.
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// The tenant a `jurisdiction_id` names: a municipality or the national entry.
fn jurisdiction(state: &AppState, format: Format, p: &Params) -> O311<Tenant> {
    let raw = p.get("jurisdiction_id").ok_or_else(|| {
        Open311Error::bad(
            format,
            "jurisdiction_id ontbreekt: geef de CBS-code van de gemeente (bijv. GM0344) of NL",
        )
    })?;
    let unknown = || {
        Open311Error::not_found(
            format,
            format!(
                "jurisdiction_id '{}' niet gevonden: gebruik de CBS-code van een gemeente (bijv. GM0344) of NL",
                raw.chars().take(40).collect::<String>()
            ),
        )
    };
    let code = TenantCode::parse(raw).map_err(|_| unknown())?;
    state
        .tenant(code.as_str())
        .filter(|t| t.kind != TenantKind::Regio)
        .ok_or_else(unknown)
}

/// Whether a request belongs to a jurisdiction: posted to it, or in it now.
fn in_jurisdiction(r: &Open311Row, j: &Tenant) -> bool {
    r.jurisdiction_id == j.code || r.tenant_code == j.code
}

/// The services: the taxonomy's `melding` sub-topics.
pub fn services() -> impl Iterator<Item = &'static Topic> {
    loket_text::topics::leaves().filter(|t| t.kind == "melding")
}

fn service(format: Format, code: &str) -> O311<&'static Topic> {
    services().find(|t| t.code == code).ok_or_else(|| {
        Open311Error::not_found(
            format,
            format!(
                "service_code '{}' niet gevonden",
                code.chars().take(80).collect::<String>()
            ),
        )
    })
}

fn service_rec(t: &Topic) -> Rec {
    let group = t
        .parent
        .and_then(loket_text::topics::get)
        .map(|g| g.label_nl)
        .unwrap_or("");
    let mut keywords = vec![t.label_en.to_string()];
    if let Some(s) = t.signalen_category {
        keywords.push(s.to_string());
    }
    vec![
        ("service_code", V::S(t.code.into())),
        ("service_name", V::S(t.label_nl.into())),
        (
            "description",
            V::S(format!("Melding: {} ({})", t.label_nl, t.label_en)),
        ),
        ("metadata", V::B(false)),
        ("type", V::S("realtime".into())),
        ("keywords", V::S(keywords.join(", "))),
        ("group", V::S(group.into())),
    ]
}

fn w3(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn is_closed(state: &str) -> bool {
    matches!(
        ConversationState::parse(state),
        Some(ConversationState::Opgelost | ConversationState::Gesloten)
    )
}

fn status_notes(state: &str) -> &'static str {
    match ConversationState::parse(state) {
        Some(ConversationState::Nieuw) => "Ontvangen",
        Some(ConversationState::Open) => "In behandeling",
        Some(ConversationState::Wachtend) => "Wacht op een reactie van de melder",
        Some(ConversationState::Opgelost) => "Opgelost",
        Some(ConversationState::Gesloten) => "Afgesloten",
        None => "",
    }
}

fn request_rec(state: &AppState, r: &Open311Row) -> Rec {
    let closed = is_closed(&r.state);
    let service_name = loket_text::topics::get(&r.service_code)
        .map(|t| t.label_nl.to_string())
        .unwrap_or_default();
    let updated = if closed {
        r.resolved_at.unwrap_or(r.updated_at)
    } else {
        r.updated_at
    };
    vec![
        ("service_request_id", V::S(r.conversation_id.to_string())),
        (
            "status",
            V::S(if closed { "closed" } else { "open" }.into()),
        ),
        ("status_notes", V::S(status_notes(&r.state).into())),
        ("service_name", V::S(service_name)),
        ("service_code", V::S(r.service_code.clone())),
        ("description", V::S(r.description.clone())),
        (
            "agency_responsible",
            V::S(state.tenant_label(&r.tenant_code)),
        ),
        ("service_notice", V::Null),
        ("requested_datetime", V::S(w3(r.created_at))),
        ("updated_datetime", V::S(w3(updated))),
        ("expected_datetime", V::Null),
        ("address", opt(r.address.clone())),
        ("address_id", opt(r.address_id.clone())),
        ("zipcode", opt(r.zipcode.clone())),
        ("lat", r.lat.map(V::F).unwrap_or(V::Null)),
        ("long", r.lon.map(V::F).unwrap_or(V::Null)),
        ("media_url", opt(r.media_url.clone())),
    ]
}

// ---- handlers ------------------------------------------------------------------------------

/// `GET services.{format}` and `GET requests.{format}`.
#[tracing::instrument(skip_all, fields(resource = %resource))]
async fn get_resource(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (name, format) = split_format(&resource);
    let p = Params::parse(q.unwrap_or_default().as_bytes());
    let result = match name {
        "services" => list_services(&state, format, &p),
        "requests" => list_requests(&state, format, &p).await,
        _ => Err(Open311Error::not_found(format, "onbekende Open311-bron")),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn list_services(state: &AppState, format: Format, p: &Params) -> O311<Response> {
    jurisdiction(state, format, p)?;
    Ok(render_list(
        format,
        "services",
        "service",
        services().map(service_rec).collect(),
    ))
}

/// Parses a w3/RFC 3339 time (with a time zone, as the spec demands) into Unix milliseconds.
fn parse_w3(format: Format, name: &str, v: &str) -> O311<i64> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|d| d.timestamp_millis())
        .map_err(|_| {
            Open311Error::bad(
                format,
                format!(
                    "{name} is geen geldige datum-tijd met tijdzone (bijv. 2026-01-01T00:00:00Z)"
                ),
            )
        })
}

async fn list_requests(state: &AppState, format: Format, p: &Params) -> O311<Response> {
    let j = jurisdiction(state, format, p)?;
    let limit = match p.get("page_size") {
        None => MAX_REQUESTS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_REQUESTS).contains(n))
            .ok_or_else(|| {
                Open311Error::bad(format, format!("page_size moet 1 tot {MAX_REQUESTS} zijn"))
            })?,
    };
    let ids = p.all("service_request_id");
    let mut f = Open311Filter {
        jurisdiction: j.code.clone(),
        limit,
        ..Default::default()
    };
    if !ids.is_empty() {
        if ids.len() > MAX_REQUESTS as usize {
            return Err(Open311Error::bad(
                format,
                format!("hoogstens {MAX_REQUESTS} service_request_id's tegelijk"),
            ));
        }
        // Ids that are not numbers name no request: they simply match nothing.
        f.ids = ids.iter().filter_map(|s| s.parse().ok()).collect();
        if f.ids.is_empty() {
            return Ok(render_list(format, "service_requests", "request", vec![]));
        }
    } else {
        let now = loket_store::now_ms();
        let start = p
            .get("start_date")
            .map(|v| parse_w3(format, "start_date", v))
            .transpose()?;
        let end = p
            .get("end_date")
            .map(|v| parse_w3(format, "end_date", v))
            .transpose()?;
        let (from, until) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, (s + MAX_SPAN_MS).min(now)),
            (None, Some(e)) => (e - MAX_SPAN_MS, e),
            (None, None) => (now - MAX_SPAN_MS, now),
        };
        if until < from {
            return Err(Open311Error::bad(format, "end_date ligt voor start_date"));
        }
        if until - from > MAX_SPAN_MS {
            return Err(Open311Error::bad(
                format,
                "start_date en end_date mogen hoogstens 90 dagen uit elkaar liggen",
            ));
        }
        f.from = from;
        f.until = until;
        f.service_codes = p
            .all("service_code")
            .into_iter()
            .map(String::from)
            .collect();
        let statuses = p.all("status");
        for s in &statuses {
            if !matches!(*s, "open" | "closed") {
                return Err(Open311Error::bad(
                    format,
                    format!(
                        "status '{}' bestaat niet: gebruik open of closed",
                        s.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
        let open = statuses.contains(&"open");
        let closed = statuses.contains(&"closed");
        f.closed = match (open, closed) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        };
    }
    let rows = state
        .store
        .open311_requests(&f)
        .await
        .map_err(|e| Open311Error::from_store(format, e, "verzoeken"))?;
    Ok(render_list(
        format,
        "service_requests",
        "request",
        rows.iter().map(|r| request_rec(state, r)).collect(),
    ))
}

/// `GET services/{service_code}.{format}`: the definition (Loket asks no extra attributes).
#[tracing::instrument(skip_all)]
async fn service_definition(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (code, format) = split_format(&segment);
    let p = Params::parse(q.unwrap_or_default().as_bytes());
    let result = (|| {
        jurisdiction(&state, format, &p)?;
        let t = service(format, code)?;
        Ok::<_, Open311Error>(render_one(
            format,
            "service_definition",
            vec![
                ("service_code", V::S(t.code.into())),
                ("attributes", V::L("attribute", vec![])),
            ],
        ))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET requests/{service_request_id}.{format}`.
#[tracing::instrument(skip_all)]
async fn request(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (id, format) = split_format(&segment);
    let p = Params::parse(q.unwrap_or_default().as_bytes());
    let result = async {
        let j = jurisdiction(&state, format, &p)?;
        let missing = || Open311Error::not_found(format, "service_request_id niet gevonden");
        let id: i64 = id.parse().map_err(|_| missing())?;
        let r = state
            .store
            .open311_request(id)
            .await
            .map_err(|e| Open311Error::from_store(format, e, "service_request_id"))?;
        if !in_jurisdiction(&r, &j) {
            return Err(missing());
        }
        Ok(render_list(
            format,
            "service_requests",
            "request",
            vec![request_rec(&state, &r)],
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET tokens/{token}.{format}`: the service_request_id a token stands for.
#[tracing::instrument(skip_all)]
async fn token(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (tok, format) = split_format(&segment);
    let p = Params::parse(q.unwrap_or_default().as_bytes());
    let result = async {
        let j = jurisdiction(&state, format, &p)?;
        let missing = || Open311Error::not_found(format, "token niet gevonden");
        if tok.is_empty() || tok.len() > 100 {
            return Err(missing());
        }
        let r = state
            .store
            .open311_by_token(tok)
            .await
            .map_err(|e| Open311Error::from_store(format, e, "token"))?;
        if !in_jurisdiction(&r, &j) {
            return Err(missing());
        }
        Ok(render_list(
            format,
            "service_requests",
            "request",
            vec![vec![
                ("service_request_id", V::S(r.conversation_id.to_string())),
                ("token", V::S(r.token)),
            ]],
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST requests.{format}` (form-encoded): a new report conversation.
#[tracing::instrument(skip_all, fields(resource = %resource))]
async fn post_resource(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (name, format) = split_format(&resource);
    if name != "requests" {
        return Open311Error::new(
            format,
            StatusCode::METHOD_NOT_ALLOWED,
            "alleen requests accepteert POST",
        )
        .into_response();
    }
    create_request(&state, format, q, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Reads a bounded free-text field.
fn field<'a>(format: Format, p: &'a Params, name: &str, max: usize) -> O311<Option<&'a str>> {
    match p.get(name) {
        Some(v) if v.chars().count() > max => Err(Open311Error::bad(
            format,
            format!("{name} is langer dan {max} tekens"),
        )),
        v => Ok(v),
    }
}

fn coordinate(format: Format, p: &Params, name: &str, limit: f64) -> O311<Option<f64>> {
    p.get(name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= limit)
                .ok_or_else(|| {
                    Open311Error::bad(format, format!("{name} is geen geldige WGS84-coördinaat"))
                })
        })
        .transpose()
}

/// The municipality a point lies in, by the text engine's municipal boundaries.
fn municipality_at(lat: f64, lon: f64) -> Option<String> {
    let a = loket_text::engine().analyse(&loket_text::Input {
        text: "",
        lat: Some(lat),
        lon: Some(lon),
        history: &[],
    });
    a.gemeente.map(|g| g.code)
}

async fn create_request(
    state: &AppState,
    format: Format,
    query: Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> O311<Response> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Open311Error::new(
                format,
                StatusCode::PAYLOAD_TOO_LARGE,
                "het verzoek is te groot",
            )
        } else {
            Open311Error::bad(format, "het verzoek kon niet worden gelezen")
        }
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ok = ct
            .to_str()
            .map(|s| {
                s.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
            .unwrap_or(false);
        if !ok {
            return Err(Open311Error::bad(
                format,
                "Content-Type moet application/x-www-form-urlencoded zijn",
            ));
        }
    }
    let mut p = Params::parse(query.unwrap_or_default().as_bytes());
    p.extend(Params::parse(&body));

    // The key first: without a valid one nothing else is worth checking.
    let key = p.get("api_key").ok_or_else(|| {
        Open311Error::forbidden(
            format,
            "api_key ontbreekt: een melding insturen vraagt een API-sleutel",
        )
    })?;
    let key = state.store.api_key(&sha256_hex(key)).await.map_err(|_| {
        Open311Error::forbidden(format, "ongeldige api_key: de melding is niet aangenomen")
    })?;
    let j = jurisdiction(state, format, &p)?;
    if key.tenant_code != j.code && key.tenant_code != TenantCode::NATIONAL {
        return Err(Open311Error::forbidden(
            format,
            format!(
                "deze api_key hoort bij {} en mag alleen meldingen voor jurisdiction_id {} insturen",
                state.tenant_label(&key.tenant_code),
                key.tenant_code
            ),
        ));
    }
    let code = p
        .get("service_code")
        .ok_or_else(|| Open311Error::bad(format, "service_code ontbreekt"))?;
    let topic = service(format, code)?;

    let lat = coordinate(format, &p, "lat", 90.0)?;
    let lon = coordinate(format, &p, "long", 180.0)?;
    if lat.is_some() != lon.is_some() {
        return Err(Open311Error::bad(format, "lat en long horen samen"));
    }
    let address = field(format, &p, "address_string", 300)?;
    let address_id = field(format, &p, "address_id", 200)?;
    if lat.is_none() && address.is_none() && address_id.is_none() {
        return Err(Open311Error::bad(
            format,
            "een locatie ontbreekt: geef lat en long, address_string of address_id",
        ));
    }
    // A municipality's jurisdiction takes reports inside its own boundaries only; on NL the
    // coordinates route the report (intake), and outside every municipality it stays in triage.
    if let (Some(la), Some(lo)) = (lat, lon)
        && j.kind == TenantKind::Gemeente
        && let Some(at) = municipality_at(la, lo)
        && at != j.code
    {
        return Err(Open311Error::bad(
            format,
            format!(
                "de locatie ligt in {} ({at}), niet in jurisdiction_id {}",
                state.tenant_label(&at),
                j.code
            ),
        ));
    }
    let description = field(format, &p, "description", MAX_DESCRIPTION_CHARS)?.unwrap_or("");
    let media_url = field(format, &p, "media_url", 1000)?;
    if let Some(u) = media_url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(Open311Error::bad(
            format,
            "media_url moet een http(s)-adres zijn",
        ));
    }
    let email = field(format, &p, "email", 200)?;
    let phone = field(format, &p, "phone", 50)?;
    let account_id = field(format, &p, "account_id", 200)?;
    let device_id = field(format, &p, "device_id", 200)?;
    let first = field(format, &p, "first_name", 100)?.unwrap_or("");
    let last = field(format, &p, "last_name", 100)?.unwrap_or("");

    // What the agent reads: the description, then the details the client sent.
    let mut extra = vec![format!(
        "Onderwerp (Open311): {} ({})",
        topic.label_nl, topic.code
    )];
    if let Some(a) = address {
        extra.push(format!("Adres: {a}"));
    }
    if let (Some(la), Some(lo)) = (lat, lon) {
        extra.push(format!("Coördinaten: {la:.6}, {lo:.6}"));
    }
    if let Some(a) = address_id {
        extra.push(format!("Adres-id: {a}"));
    }
    if let Some(u) = media_url {
        extra.push(format!("Foto: {u}"));
    }
    let contact: Vec<&str> = [email, phone].into_iter().flatten().collect();
    if !contact.is_empty() {
        extra.push(format!("Contact: {}", contact.join(", ")));
    }
    let extra = extra.join("\n");
    let room = MAX_TEXT_CHARS.saturating_sub(extra.chars().count() + 2);
    let lead: String = if description.is_empty() {
        format!("Melding: {}", topic.label_nl)
    } else if description.chars().count() > room {
        description
            .chars()
            .take(room.saturating_sub(1))
            .collect::<String>()
            + "…"
    } else {
        description.to_string()
    };
    let text = format!("{lead}\n\n{extra}");

    let token = random_token();
    // One person across reports: by e-mail, else by the client's own account or device id.
    let author_id = match (email, account_id, device_id) {
        (Some(e), _, _) => format!("email:{}", e.to_lowercase()),
        (None, Some(a), _) => format!("key{}:account:{a}", key.id),
        (None, None, Some(d)) => format!("key{}:device:{d}", key.id),
        _ => format!("request:{token}"),
    };
    let author_name = format!("{first} {last}").trim().to_string();
    let author_name = if author_name.is_empty() {
        "Melder (Open311)".to_string()
    } else {
        author_name
    };
    let ingested = intake::accept(
        state,
        InboundRequest {
            tenant: j.code.clone(),
            channel: "open311".into(),
            external_id: format!("open311:{token}"),
            author_id,
            author_name,
            text,
            sent_at: loket_store::now_ms(),
            lat,
            lon,
            api_key_id: Some(key.id),
            widget_token: None,
            open311: Some(NewOpen311 {
                token: token.clone(),
                jurisdiction_id: j.code.clone(),
                service_code: topic.code.to_string(),
                description: loket_text::redact(description),
                lat,
                lon,
                address: address.map(String::from),
                address_id: address_id.map(String::from),
                zipcode: None,
                media_url: media_url.map(String::from),
            }),
            channel_info: None,
        },
    )
    .await
    .map_err(|e| Open311Error::from_app(format, e))?;
    let now_in = state
        .store
        .conversation_system(ingested.conversation_id)
        .await
        .map(|c| state.tenant_label(&c.tenant_code))
        .unwrap_or_else(|_| j.display_name.clone());
    metrics::counter!("loket_open311_requests_total").increment(1);
    Ok(render_list(
        format,
        "service_requests",
        "request",
        vec![vec![
            (
                "service_request_id",
                V::S(ingested.conversation_id.to_string()),
            ),
            // Also the token, so a client can use `tokens/{token}` as well.
            ("token", V::S(token)),
            (
                "service_notice",
                V::S(format!("Uw melding is ontvangen door {now_in}.")),
            ),
            ("account_id", opt(account_id.map(String::from))),
        ]],
    ))
}

/// A 404 in the spec's format for any other path under `/open311/`.
pub fn not_found(path: &str) -> Response {
    let last = path.rsplit('/').next().unwrap_or("");
    let (_, format) = split_format(last);
    Open311Error::not_found(format, "onbekende Open311-bron").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_suffix() {
        assert_eq!(split_format("services.json"), ("services", Format::Json));
        assert_eq!(split_format("services.xml"), ("services", Format::Xml));
        assert_eq!(split_format("services"), ("services", Format::Xml));
        assert_eq!(
            split_format("openbare-ruimte.bestrating.json"),
            ("openbare-ruimte.bestrating", Format::Json)
        );
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn services_are_the_melding_topics() {
        let all: Vec<_> = services().collect();
        assert!(!all.is_empty());
        assert!(
            all.iter()
                .all(|t| t.kind == "melding" && t.parent.is_some())
        );
        assert!(all.iter().any(|t| t.code == "openbare-ruimte.bestrating"));
    }

    #[test]
    fn params_treat_empty_as_absent_and_split_commas() {
        let p = Params::parse(b"status=open,closed&status=&service_code=a&service_code=b,c&x=");
        assert_eq!(p.all("status"), vec!["open", "closed"]);
        assert_eq!(p.all("service_code"), vec!["a", "b", "c"]);
        assert_eq!(p.get("x"), None);
    }

    #[test]
    fn coordinates_locate_a_municipality() {
        assert_eq!(municipality_at(52.0907, 5.1214).as_deref(), Some("GM0344"));
    }
}

/// The Open311 endpoints in the OpenAPI document (the handlers above take the format from the
/// path segment, so these describe each resource on its own).
pub mod doc {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// One error of the spec's error list.
    #[derive(Serialize, ToSchema)]
    pub struct Open311ErrorItem {
        /// The HTTP status: 400, 403, 404 or 413.
        pub code: u16,
        pub description: String,
    }

    /// A service: a `melding` topic of the taxonomy.
    #[derive(Serialize, ToSchema)]
    pub struct Open311Service {
        /// Topic code, e.g. `openbare-ruimte.bestrating`.
        pub service_code: String,
        pub service_name: String,
        pub description: String,
        /// Always false: Loket asks no extra attributes.
        pub metadata: bool,
        /// Always `realtime`.
        #[serde(rename = "type")]
        pub kind: String,
        pub keywords: String,
        pub group: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Open311ServiceDefinition {
        pub service_code: String,
        /// Always empty.
        pub attributes: Vec<String>,
    }

    /// What `POST requests` answers (a list of one).
    #[derive(Serialize, ToSchema)]
    pub struct Open311Created {
        /// The id of the conversation the report started.
        pub service_request_id: String,
        /// Also accepted by `tokens/{token}`.
        pub token: String,
        pub service_notice: String,
        pub account_id: Option<String>,
    }

    /// A service request as the public API shows it (no name or contact details).
    #[derive(Serialize, ToSchema)]
    pub struct Open311Request {
        pub service_request_id: String,
        /// `open` or `closed` (the conversation is resolved or closed).
        pub status: String,
        pub status_notes: String,
        pub service_name: String,
        pub service_code: String,
        /// With personal data redacted.
        pub description: String,
        /// The municipality the request is with now.
        pub agency_responsible: String,
        pub service_notice: Option<String>,
        pub requested_datetime: String,
        pub updated_datetime: String,
        pub expected_datetime: Option<String>,
        pub address: Option<String>,
        pub address_id: Option<String>,
        pub zipcode: Option<String>,
        pub lat: Option<f64>,
        pub long: Option<f64>,
        pub media_url: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Open311Token {
        pub service_request_id: String,
        pub token: String,
    }

    /// The services of a jurisdiction.
    #[utoipa::path(get, path = "/open311/v2/services.{format}", tag = "Open311",
        params(("format" = String, Path, description = "`json` or `xml`"),
               ("jurisdiction_id" = String, Query, description = "CBS code (GM0344) or NL")),
        responses((status = 200, body = [Open311Service]), (status = 400, body = [Open311ErrorItem]), (status = 404, body = [Open311ErrorItem])))]
    pub fn services() {}

    /// A service definition.
    #[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "Open311",
        params(("service_code" = String, Path), ("format" = String, Path, description = "`json` or `xml`"),
               ("jurisdiction_id" = String, Query, description = "CBS code (GM0344) or NL")),
        responses((status = 200, body = Open311ServiceDefinition), (status = 400, body = [Open311ErrorItem]), (status = 404, body = [Open311ErrorItem])))]
    pub fn service_definition() {}

    /// Reports a problem (form-encoded): a new conversation in the municipality where it is.
    /// Fields: `api_key`, `jurisdiction_id`, `service_code`, `lat`+`long` or `address_string` or
    /// `address_id`, and optionally `description`, `media_url`, `email`, `phone`, `first_name`,
    /// `last_name`, `account_id`, `device_id`.
    #[utoipa::path(post, path = "/open311/v2/requests.{format}", tag = "Open311",
        params(("format" = String, Path, description = "`json` or `xml`")),
        request_body(content_type = "application/x-www-form-urlencoded", description = "the spec's fields"),
        responses((status = 200, body = [Open311Created]), (status = 400, body = [Open311ErrorItem]),
                  (status = 403, body = [Open311ErrorItem]), (status = 404, body = [Open311ErrorItem]), (status = 413, body = [Open311ErrorItem])))]
    pub fn post_request() {}

    /// Requests of a jurisdiction, newest first (at most 90 days, at most 1000).
    #[utoipa::path(get, path = "/open311/v2/requests.{format}", tag = "Open311",
        params(("format" = String, Path, description = "`json` or `xml`"),
               ("jurisdiction_id" = String, Query, description = "CBS code (GM0344) or NL"),
               ("service_request_id" = Option<String>, Query, description = "comma-separated ids; overrides the other filters"),
               ("service_code" = Option<String>, Query, description = "comma-separated"),
               ("start_date" = Option<String>, Query, description = "w3 date-time with time zone"),
               ("end_date" = Option<String>, Query, description = "w3 date-time with time zone"),
               ("status" = Option<String>, Query, description = "`open`, `closed` or both"),
               ("page_size" = Option<i64>, Query, description = "1–1000")),
        responses((status = 200, body = [Open311Request]), (status = 400, body = [Open311ErrorItem]), (status = 404, body = [Open311ErrorItem])))]
    pub fn get_requests() {}

    /// One request.
    #[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "Open311",
        params(("service_request_id" = String, Path), ("format" = String, Path, description = "`json` or `xml`"),
               ("jurisdiction_id" = String, Query, description = "CBS code (GM0344) or NL")),
        responses((status = 200, body = [Open311Request]), (status = 404, body = [Open311ErrorItem])))]
    pub fn get_request() {}

    /// The request a token stands for.
    #[utoipa::path(get, path = "/open311/v2/tokens/{token}.{format}", tag = "Open311",
        params(("token" = String, Path), ("format" = String, Path, description = "`json` or `xml`"),
               ("jurisdiction_id" = String, Query, description = "CBS code (GM0344) or NL")),
        responses((status = 200, body = [Open311Token]), (status = 404, body = [Open311ErrorItem])))]
    pub fn token() {}
}
