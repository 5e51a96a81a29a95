//! The generic API channel's way out: replies are POSTed to the configured webhook URL with an
//! HMAC-SHA256 signature over the exact body, so the receiver can prove they came from Loket.

use crate::{DeliveryError, Outgoing};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Header carrying `sha256=<hex hmac of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Loket-Signature";
/// Header carrying the outbox message id, so receivers can de-duplicate retries.
pub const DELIVERY_HEADER: &str = "X-Loket-Delivery";

/// `sha256=` followed by the hex HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Constant-time check of a signature header against a body.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Delivers replies to webhooks. Holds one HTTP client (connection pool) for all deliveries.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    http: reqwest::Client,
}

impl Default for WebhookClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

impl WebhookClient {
    pub fn new(timeout: Duration) -> Self {
        let http = crate::http::client_builder()
            .timeout(timeout)
            .build()
            .expect("HTTP client");
        Self { http }
    }

    /// POSTs the reply as JSON. 2xx is delivered; 4xx other than 408/429 is a permanent failure
    /// (the receiver rejects it, retrying will not help); anything else is retried.
    pub async fn deliver(
        &self,
        url: &str,
        secret: &str,
        out: &Outgoing,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(out).map_err(|e| DeliveryError::fatal(e.to_string()))?;
        let resp = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, sign(secret.as_bytes(), &body))
            .header(DELIVERY_HEADER, out.message_id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                DeliveryError::retry(format!(
                    "webhook onbereikbaar: {}",
                    crate::http::failure(&e)
                ))
            })?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(DeliveryError::fatal(format!(
                "webhook weigert het bericht: HTTP {}",
                status.as_u16()
            )))
        } else {
            Err(DeliveryError::retry(format!(
                "webhook gaf HTTP {}",
                status.as_u16()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_roundtrip() {
        let s = sign(b"geheim", b"{\"a\":1}");
        assert!(s.starts_with("sha256="));
        assert!(verify(b"geheim", b"{\"a\":1}", &s));
        assert!(!verify(b"anders", b"{\"a\":1}", &s));
        assert!(!verify(b"geheim", b"{\"a\":2}", &s));
        assert!(!verify(b"geheim", b"{\"a\":1}", "sha256=zz"));
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
