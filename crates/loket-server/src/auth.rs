//! Passwords (argon2id), sessions in the database (only a hash of the cookie is stored), CSRF
//! tokens, the login limiter, and the `CurrentUser` extractor that knows which tenants a user
//! may see — the scope of every query.

use crate::error::AppError;
use crate::state::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use loket_core::Role;
use loket_core::TenantKind;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "loket_session";
/// Pre-login CSRF cookie (double submit): the login form must echo it.
pub const LOGIN_CSRF_COOKIE: &str = "loket_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn argon() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("argon2 params"),
    )
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(argon()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hash: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A password policy that a person can meet: long rather than complicated.
pub fn check_password_policy(p: &str) -> Result<(), String> {
    if p.chars().count() < 12 {
        return Err("het wachtwoord moet minstens 12 tekens hebben".into());
    }
    if p.len() > 1024 {
        return Err("het wachtwoord is te lang".into());
    }
    Ok(())
}

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Constant-time string comparison for tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

impl AppState {
    /// Whether another login attempt for this key (e-mail, or IP) is allowed now; returns the
    /// seconds to wait otherwise.
    pub fn login_allowed(&self, key: &str, max: u32) -> Result<(), u64> {
        let window = Duration::from_secs(15 * 60);
        let mut map = self.login_failures.lock().expect("limiter lock");
        let now = Instant::now();
        let v = map.entry(key.to_string()).or_default();
        v.retain(|t| now.duration_since(*t) < window);
        if v.len() as u32 >= max {
            let oldest = v[0];
            return Err(window
                .saturating_sub(now.duration_since(oldest))
                .as_secs()
                .max(1));
        }
        Ok(())
    }

    pub fn login_failed(&self, key: &str) {
        let mut map = self.login_failures.lock().expect("limiter lock");
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(key.to_string()).or_default().push(Instant::now());
    }

    pub fn login_succeeded(&self, key: &str) {
        self.login_failures
            .lock()
            .expect("limiter lock")
            .remove(key);
    }
}

/// The logged-in user, with the roles per tenant and the tenants whose conversations they see.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub first_name: String,
    pub email: String,
    pub language: String,
    pub online: bool,
    pub csrf: String,
    pub roles: BTreeMap<String, BTreeSet<Role>>,
    /// Tenants whose conversations this user may see now: own memberships plus municipalities
    /// whose inbox is currently handed to a pool the user works for.
    pub visible: Vec<String>,
    token_hash: String,
}

impl CurrentUser {
    pub fn has_role(&self, tenant: &str, role: Role) -> bool {
        self.roles.get(tenant).is_some_and(|r| r.contains(&role))
    }

    pub fn can_see(&self, tenant: &str) -> bool {
        self.visible.iter().any(|t| t == tenant)
    }

    /// Administers `tenant` directly (beheerder of the tenant itself).
    pub fn administers(&self, tenant: &str) -> bool {
        self.has_role(tenant, Role::Beheerder)
    }

    /// Tenants the user administers.
    pub fn admin_tenants(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, r)| r.contains(&Role::Beheerder))
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// May move conversations out of `tenant` to another tenant: coordinators anywhere they work,
    /// supervisors of the tenant itself.
    pub fn may_transfer_from(&self, tenant: &str, state: &AppState) -> bool {
        if self.has_role(tenant, Role::Coordinator) || self.has_role(tenant, Role::Supervisor) {
            return true;
        }
        // A pool coordinator may move conversations of the municipalities the pool serves.
        state
            .tenant(tenant)
            .and_then(|t| t.pool_code)
            .is_some_and(|pool| self.has_role(&pool, Role::Coordinator))
    }

    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        if tokens_equal(token, &self.csrf) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    pub fn is_english(&self) -> bool {
        self.language == "en"
    }
}

/// Works out what a user may see right now.
pub async fn visible_tenants(
    state: &AppState,
    roles: &BTreeMap<String, BTreeSet<Role>>,
) -> Vec<String> {
    let tenants = state.tenants();
    let mut out: BTreeSet<String> = roles.keys().cloned().collect();
    let pools: Vec<&String> = roles
        .keys()
        .filter(|c| tenants.get(*c).is_some_and(|t| t.kind == TenantKind::Regio))
        .collect();
    if !pools.is_empty() {
        let now = chrono::Utc::now();
        for t in tenants.values() {
            let Some(pool) = &t.pool_code else { continue };
            if !pools.contains(&pool) {
                continue;
            }
            let waiting = match t.settings.handover {
                loket_core::tenant::PoolHandover::Backlog { .. } => {
                    state.store.waiting_count(&t.code).await.unwrap_or(0) as u32
                }
                _ => 0,
            };
            if t.settings.handover.pool_serves(
                loket_core::calendar::is_open(&t.settings.hours, now),
                waiting,
            ) {
                out.insert(t.code.clone());
            }
        }
    }
    out.into_iter().collect()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
        let token_hash = sha256_hex(token);
        let session = state
            .store
            .session(&token_hash)
            .await
            .map_err(|_| AppError::Unauthorized)?;
        let user = state
            .store
            .user(session.user_id)
            .await
            .map_err(|_| AppError::Unauthorized)?;
        let mut roles: BTreeMap<String, BTreeSet<Role>> = BTreeMap::new();
        for m in state.store.memberships(user.id).await? {
            if let Some(r) = Role::parse(&m.role) {
                roles.entry(m.tenant_code).or_default().insert(r);
            }
        }
        let visible = visible_tenants(state, &roles).await;
        let first_name = user
            .name
            .split_whitespace()
            .next()
            .unwrap_or(&user.name)
            .to_string();
        let u = CurrentUser {
            id: user.id,
            name: user.name,
            first_name,
            email: user.email,
            language: user.language,
            online: user.online,
            csrf: session.csrf,
            roles,
            visible,
            token_hash,
        };
        // Mutating API calls authenticated by cookie must carry the CSRF token in a header.
        // Nested routers see a stripped path: look at the original one.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let m = &parts.method;
        if path.starts_with("/api/")
            && !(m == axum::http::Method::GET || m == axum::http::Method::HEAD)
        {
            let h = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            u.check_csrf(h)?;
        }
        parts.extensions.insert(u.clone());
        Ok(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_roundtrip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn token_compare() {
        assert!(tokens_equal("abc", "abc"));
        assert!(!tokens_equal("abc", "abd"));
        assert!(!tokens_equal("abc", "ab"));
    }
}
