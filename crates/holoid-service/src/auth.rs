//! Who may do what: bearer tokens per person, each with a role and an office. Tokens are
//! random, shown once when made, and stored only as their SHA-256.

use std::fmt;
use std::str::FromStr;

use holoid_core::encoding::to_hex;
use holoid_core::mac::sha256;

/// What a token's holder may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Checks photos and makes, reads, lists and deletes copies of their own office.
    Officer,
    /// Reads the audit log and its verification status.
    Auditor,
    /// Registers credentials; reads and deletes copies of any office.
    Admin,
}

impl Role {
    /// `officer`, `auditor` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "officer" => Ok(Role::Officer),
            "auditor" => Ok(Role::Auditor),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("`{s}` is not a role: use officer, auditor or admin")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's public id (what the audit log records).
    pub token_id: String,
    /// Their role.
    pub role: Role,
    /// Their office.
    pub office: String,
    /// Their name (printed on the copies they make; never logged).
    pub name: String,
}

/// Prefix of every token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "holoid_";

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source works");
    b
}

/// A random id for checks, copies and tokens: 16 bytes, hex.
pub fn new_id() -> String {
    to_hex(&random_bytes::<16>())
}

/// A new token (32 random bytes) and its public id.
pub fn new_token() -> (String, String) {
    (
        format!("{TOKEN_PREFIX}{}", to_hex(&random_bytes::<32>())),
        new_id(),
    )
}

/// What the store keeps of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    to_hex(&sha256(&[b"holoid/v1/token", token.as_bytes()]))
}

/// The token in an `Authorization: Bearer …` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(TOKEN_PREFIX)).then_some(token.trim())
}

/// Office names: 1–64 characters of letters, digits, `-`, `_` and `.`.
pub fn valid_office(office: &str) -> bool {
    (1..=64).contains(&office.len())
        && office
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Counts events per key in fixed windows: after `limit` events within `window` of the first,
/// the key is refused until the window ends. Failed sign-ins per client address, checks per
/// token and per credential. Kept in this process's memory (each server counts its own), at
/// most [`Throttle::MAX_KEYS`] keys.
pub struct Throttle<K> {
    limit: u32,
    window: std::time::Duration,
    counts: std::sync::Mutex<std::collections::HashMap<K, (u32, std::time::Instant)>>,
}

impl<K: std::hash::Hash + Eq + Clone> Throttle<K> {
    /// Keys remembered at most; the oldest windows are dropped first.
    pub const MAX_KEYS: usize = 65_536;

    /// A throttle allowing `limit` events per `window`.
    pub fn new(limit: u32, window: std::time::Duration) -> Throttle<K> {
        Throttle {
            limit: limit.max(1),
            window,
            counts: std::sync::Mutex::default(),
        }
    }

    /// How long `key` must still wait at `now`, if it is refused.
    pub fn refused(&self, key: &K, now: std::time::Instant) -> Option<std::time::Duration> {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let &(count, since) = map.get(key)?;
        let left = self.window.checked_sub(now.saturating_duration_since(since))?;
        (count >= self.limit && !left.is_zero()).then_some(left)
    }

    /// Counts an event of `key` at `now`.
    pub fn count(&self, key: &K, now: std::time::Instant) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_KEYS && !map.contains_key(key) {
            let window = self.window;
            map.retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
            if map.len() >= Self::MAX_KEYS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (_, since))| *since)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let entry = map.entry(key.clone()).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// [`Throttle::refused`], else counts the event: `Err(wait)` when refused.
    pub fn admit(&self, key: &K, now: std::time::Instant) -> Result<(), std::time::Duration> {
        match self.refused(key, now) {
            Some(wait) => Err(wait),
            None => {
                self.count(key, now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_the_limit_until_its_window_ends() {
        use std::time::{Duration, Instant};
        let t = Throttle::<std::net::IpAddr>::new(3, Duration::from_secs(60));
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(t.refused(&a, start), None, "after {i} events");
            t.count(&a, start + Duration::from_secs(i));
        }
        let left = t.refused(&a, start + Duration::from_secs(10)).unwrap();
        assert_eq!(left, Duration::from_secs(50));
        let later = |s| start + Duration::from_secs(s);
        assert_eq!(t.refused(&b, later(10)), None, "another key is not");
        assert_eq!(t.refused(&a, later(60)), None, "the window ended");
        t.count(&a, later(61));
        assert_eq!(t.refused(&a, later(62)), None, "a new window");
        let checks = Throttle::<String>::new(2, Duration::from_secs(60));
        let k = "token".to_string();
        assert!(checks.admit(&k, start).is_ok() && checks.admit(&k, start).is_ok());
        assert_eq!(checks.admit(&k, later(1)), Err(Duration::from_secs(59)));
    }

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let (a, id_a) = new_token();
        let (b, id_b) = new_token();
        assert_ne!(a, b);
        assert_ne!(id_a, id_b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(bearer(&format!("Bearer {a}")), Some(a.as_str()));
        assert_eq!(bearer(&format!("bearer {a}")), Some(a.as_str()));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer abc"), None);
        assert_eq!("officer".parse(), Ok(Role::Officer));
        assert!("root".parse::<Role>().is_err());
        assert!(valid_office("seoul-jongno") && valid_office("부산.해운대"));
        assert!(!valid_office("") && !valid_office("a b") && !valid_office(&"x".repeat(65)));
    }
}
