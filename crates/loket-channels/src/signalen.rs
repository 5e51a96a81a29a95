//! The way out to a municipality's Signalen installation: a report is POSTed to its public API
//! (`/signals/v1/public/signals`) and Signalen answers with the id of the new signal.

use crate::DeliveryError;
use std::time::Duration;

/// Path of the public signal endpoint under a Signalen base URL.
pub const PUBLIC_SIGNALS_PATH: &str = "/signals/v1/public/signals";

/// Posts signals. Holds one HTTP client (connection pool) for all forwards.
#[derive(Clone, Debug)]
pub struct SignalenClient {
    http: reqwest::Client,
}

impl Default for SignalenClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(15))
    }
}

impl SignalenClient {
    pub fn new(timeout: Duration) -> Self {
        let http = crate::http::client_builder()
            .timeout(timeout)
            .build()
            .expect("HTTP client");
        Self { http }
    }

    /// POSTs one signal. 2xx is accepted and yields the id Signalen returned (`signal_id`, or
    /// `id` in older versions; `None` when the answer carries neither). 4xx other than 408/429
    /// is permanent (Signalen rejects the payload); anything else is retried.
    pub async fn post_signal(
        &self,
        endpoint: &str,
        signal: &serde_json::Value,
    ) -> Result<Option<String>, DeliveryError> {
        let resp = self
            .http
            .post(endpoint)
            .header("Accept", "application/json")
            .json(signal)
            .send()
            .await
            .map_err(|e| {
                DeliveryError::retry(if e.is_timeout() {
                    "Signalen: time-out"
                } else if e.is_connect() {
                    "Signalen onbereikbaar: verbinding mislukt"
                } else {
                    "Signalen: fout bij verzenden"
                })
            })?;
        let status = resp.status();
        if status.is_success() {
            let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
            Ok(signal_id(&body))
        } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            let detail: String = resp
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            Err(DeliveryError::fatal(format!(
                "Signalen weigert de melding: HTTP {} {detail}",
                status.as_u16()
            )))
        } else {
            Err(DeliveryError::retry(format!(
                "Signalen gaf HTTP {}",
                status.as_u16()
            )))
        }
    }
}

/// The id in a Signalen answer: `signal_id`, else `id` (string or number).
pub fn signal_id(body: &serde_json::Value) -> Option<String> {
    ["signal_id", "id"].iter().find_map(|k| match body.get(*k) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_id_from_new_and_old_answers() {
        let new = serde_json::json!({"signal_id": "0b6b0f5e-1b1a-4c1e-9d7a-2f4e9c1a0b11"});
        assert_eq!(
            signal_id(&new).as_deref(),
            Some("0b6b0f5e-1b1a-4c1e-9d7a-2f4e9c1a0b11")
        );
        assert_eq!(
            signal_id(&serde_json::json!({"id": 1234})).as_deref(),
            Some("1234")
        );
        assert_eq!(signal_id(&serde_json::json!({"id": ""})), None);
        assert_eq!(signal_id(&serde_json::Value::Null), None);
    }
}
