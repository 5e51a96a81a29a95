//! One application error, mapped once to RFC 9457 `application/problem+json` with a stable
//! `type`, or — for browser pages — to a readable Dutch page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use loket_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("niet gevonden")]
    NotFound,
    #[error("niet ingelogd")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("ongeldig CSRF-token: vernieuw de pagina en probeer het opnieuw")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnknownTenant(String),
    #[error("te veel pogingen; probeer het over {0} seconden opnieuw")]
    TooManyRequests(u64),
    #[error("het verzoek is te groot")]
    TooLarge,
    /// A webhook call whose signature does not match the shared secret.
    #[error("{0}")]
    BadSignature(String),
    #[error("interne fout")]
    Unexpected(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(m) => AppError::Invalid(m),
            e => AppError::Unexpected(anyhow::Error::new(e)),
        }
    }
}

/// The body of an RFC 9457 problem.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `https://loket.nl/problems/not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::BadSignature(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::UnknownTenant(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable slug for the problem `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            AppError::NotFound => "not-found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf",
            AppError::BadRequest(_) => "bad-request",
            AppError::Invalid(_) => "invalid",
            AppError::UnknownTenant(_) => "unknown-tenant",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too-many-requests",
            AppError::TooLarge => "payload-too-large",
            AppError::BadSignature(_) => "bad-signature",
            AppError::Unexpected(_) => "internal",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound => "Niet gevonden",
            AppError::Unauthorized => "Niet ingelogd",
            AppError::Forbidden(_) => "Geen toegang",
            AppError::Csrf => "Formulier verlopen",
            AppError::BadRequest(_) => "Ongeldig verzoek",
            AppError::Invalid(_) => "Ongeldige invoer",
            AppError::UnknownTenant(_) => "Onbekende gemeente",
            AppError::Conflict(_) => "Conflict",
            AppError::TooManyRequests(_) => "Te veel verzoeken",
            AppError::TooLarge => "Te groot",
            AppError::BadSignature(_) => "Ongeldige handtekening",
            AppError::Unexpected(_) => "Interne fout",
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("https://loket.nl/problems/{}", self.slug()),
            title: self.title().into(),
            status: self.status().as_u16(),
            detail: self.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Unexpected(e) = &self {
            tracing::error!(error = ?e, "unexpected error");
        }
        let mut resp = (
            self.status(),
            serde_json::to_string(&self.problem()).unwrap_or_default(),
        )
            .into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::TooManyRequests(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Turns axum's own rejections (bad JSON, wrong content type, too large) into problems.
pub fn from_json_rejection(r: axum::extract::rejection::JsonRejection) -> AppError {
    use axum::extract::rejection::JsonRejection::*;
    match r {
        JsonDataError(e) => AppError::Invalid(format!("ongeldige velden: {}", e.body_text())),
        JsonSyntaxError(e) => AppError::BadRequest(format!("geen geldige JSON: {}", e.body_text())),
        MissingJsonContentType(_) => {
            AppError::BadRequest("Content-Type moet application/json zijn".into())
        }
        BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        other => AppError::BadRequest(other.body_text()),
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// `Json` that answers malformed input with a problem instead of axum's plain-text rejection.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = AppError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(from_json_rejection(r)),
        }
    }
}
