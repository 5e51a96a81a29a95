//! Local stand-ins for platforms that cannot run here (Mastodon, Meta's Graph API) and the
//! start-up of the real mail servers (Dovecot, an SMTP server from PyPI), for tests only:
//! enabled by the `standin` feature, never in a production build.

pub mod mail;
pub mod mastodon;
pub mod meta;
