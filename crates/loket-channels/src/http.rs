//! What the crate's HTTP clients (webhooks, Signalen, Mastodon, Meta) share.

/// A client builder with Loket's user agent that never follows a redirect: a redirect would
/// take a token or a signed body to an address nobody configured.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("Loket/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
}

/// What went wrong on the way, for logs and the UI. reqwest's own message names the URL, which
/// may carry a token: it is not shown.
pub(crate) fn failure(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "time-out"
    } else if e.is_connect() {
        "verbinding mislukt"
    } else {
        "fout bij verzenden"
    }
}
