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

/// Failed sign-ins per client address: after `limit` failures within `window` of the first,
/// the address is refused until the window ends. Kept in this process's memory (each server
/// counts its own), at most [`SignInThrottle::MAX_ADDRESSES`] addresses.
pub struct SignInThrottle {
    limit: u32,
    window: std::time::Duration,
    failures: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (u32, std::time::Instant)>>,
}

impl SignInThrottle {
    /// Addresses remembered at most; the oldest windows are dropped first.
    pub const MAX_ADDRESSES: usize = 65_536;

    /// A throttle allowing `limit` failures per `window`.
    pub fn new(limit: u32, window: std::time::Duration) -> SignInThrottle {
        SignInThrottle {
            limit: limit.max(1),
            window,
            failures: std::sync::Mutex::default(),
        }
    }

    /// How long `ip` must still wait at `now`, if it is refused.
    pub fn refused(&self, ip: std::net::IpAddr, now: std::time::Instant) -> Option<std::time::Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let &(count, since) = map.get(&ip)?;
        let left = self.window.checked_sub(now.saturating_duration_since(since))?;
        (count >= self.limit && !left.is_zero()).then_some(left)
    }

    /// Counts a failed sign-in from `ip` at `now`.
    pub fn failed(&self, ip: std::net::IpAddr, now: std::time::Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_ADDRESSES {
            let window = self.window;
            map.retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
            if map.len() >= Self::MAX_ADDRESSES
                && let Some(oldest) = map.iter().min_by_key(|(_, (_, since))| *since).map(|(ip, _)| *ip)
            {
                map.remove(&oldest);
            }
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_the_limit_until_its_window_ends() {
        use std::time::{Duration, Instant};
        let t = SignInThrottle::new(3, Duration::from_secs(60));
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(t.refused(a, start), None, "after {i} failures");
            t.failed(a, start + Duration::from_secs(i));
        }
        let left = t.refused(a, start + Duration::from_secs(10)).unwrap();
        assert_eq!(left, Duration::from_secs(50));
        assert_eq!(
            t.refused(b, start + Duration::from_secs(10)),
            None,
            "another address is not"
        );
        assert_eq!(
            t.refused(a, start + Duration::from_secs(60)),
            None,
            "the window ended"
        );
        t.failed(a, start + Duration::from_secs(61));
        assert_eq!(
            t.refused(a, start + Duration::from_secs(62)),
            None,
            "a new window"
        );
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
