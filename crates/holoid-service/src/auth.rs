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

/// What an officer's token lets its holder see of a check: chosen when the token is made,
/// enforced by the service on every answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The holder's whole registered record (name, birth date, age, resident number, address,
    /// portrait) and copies: public offices and banks. The default.
    Identity,
    /// Only whether the holder is at least `over` years old, and the registered portrait to
    /// compare the face: shops. No name, birth date, credential id, copies or status.
    Age {
        /// The age threshold in completed years (19 for alcohol and tobacco in Korea).
        over: u8,
    },
    /// An unattended kiosk: checks only; the decision and its reasons, no personal data.
    Kiosk,
}

impl View {
    /// The age threshold of an `age` view when none is given.
    pub const DEFAULT_AGE: u8 = 19;

    /// `identity`, `age` or `kiosk`.
    pub fn kind(self) -> &'static str {
        match self {
            View::Identity => "identity",
            View::Age { .. } => "age",
            View::Kiosk => "kiosk",
        }
    }

    /// The view stored as (`kind`, age threshold): `None`/unknown kinds are refused, so a
    /// hand-edited row never widens what a token sees.
    pub fn from_stored(kind: Option<&str>, over: Option<i64>) -> Result<View, String> {
        match kind {
            None | Some("identity") => Ok(View::Identity),
            Some("kiosk") => Ok(View::Kiosk),
            Some("age") => over
                .and_then(|o| u8::try_from(o).ok())
                .filter(|o| (1..=120).contains(o))
                .map(|over| View::Age { over })
                .ok_or_else(|| format!("age view with threshold {over:?}")),
            Some(other) => Err(format!("`{other}` is not a view")),
        }
    }

    /// The age threshold, for an `age` view.
    pub fn age_over(self) -> Option<u8> {
        match self {
            View::Age { over } => Some(over),
            _ => None,
        }
    }
}

impl FromStr for View {
    type Err = String;

    /// `identity`, `kiosk`, `age` (19 and over) or `age:N`.
    fn from_str(s: &str) -> Result<View, String> {
        let bad = || format!("`{s}` is not a view: use identity, age, age:N (N from 1 to 120) or kiosk");
        match s.split_once(':') {
            None if s == "age" => Ok(View::Age {
                over: View::DEFAULT_AGE,
            }),
            None => View::from_stored(Some(s), None).map_err(|_| bad()),
            Some(("age", n)) => n
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=120).contains(n))
                .map(|over| View::Age { over })
                .ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            View::Age { over } => write!(f, "age:{over}"),
            v => f.write_str(v.kind()),
        }
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
    /// What their token lets them see.
    pub view: View,
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
        assert_eq!("identity".parse(), Ok(View::Identity));
        assert_eq!("kiosk".parse(), Ok(View::Kiosk));
        assert_eq!("age".parse(), Ok(View::Age { over: 19 }));
        assert_eq!("age:20".parse(), Ok(View::Age { over: 20 }));
        for bad in ["age:0", "age:121", "age:x", "kiosk:1", "all", ""] {
            assert!(bad.parse::<View>().is_err(), "{bad}");
        }
        assert_eq!(View::Age { over: 18 }.to_string(), "age:18");
        assert_eq!(View::from_stored(None, None), Ok(View::Identity));
        assert_eq!(
            View::from_stored(Some("age"), Some(19)),
            Ok(View::Age { over: 19 })
        );
        assert!(View::from_stored(Some("age"), None).is_err());
        assert!(View::from_stored(Some("everything"), None).is_err());
        assert!(valid_office("seoul-jongno") && valid_office("부산.해운대"));
        assert!(!valid_office("") && !valid_office("a b") && !valid_office(&"x".repeat(65)));
    }
}
