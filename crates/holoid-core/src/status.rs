//! Credential status for verifiers, online or offline, in the form of the IETF Token Status
//! List (draft-ietf-oauth-status-list): a list of 2-bit statuses (0 valid, 1 invalid, 2
//! suspended), packed from the least significant bit of byte 0 up, compressed with zlib
//! (RFC 1950, level 9) and sent base64url-encoded as `lst`, inside a JWT of type
//! `statuslist+jwt` that the issuer signs with Ed25519 (`alg: EdDSA`).
//!
//! A verifier that cannot tell the status — the list is past `exp`, signed by another key,
//! malformed, for another list, or too short for the credential's index — gets a
//! [`StatusError`], never a status: "unknown" must never read as "revoked" nor as "valid".

use std::fmt;
use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use crate::keys::{IssuerPublic, IssuerSecret};

/// Bits per status: two, for valid, invalid and suspended.
pub const BITS: u8 = 2;

/// The largest list a verifier inflates, bytes (16 million credentials at 2 bits).
pub const MAX_LIST_BYTES: usize = 4 << 20;

/// Entries in each of the issuer's status lists (2^20: 256 KiB raw, a few kB compressed);
/// a credential's index is drawn at random below it, so its position tells nothing.
pub const LIST_LEN: u32 = 1 << 20;

/// The JWT `typ` of a status list token.
pub const TOKEN_TYPE: &str = "statuslist+jwt";

/// One credential's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In force.
    Valid,
    /// Revoked for good (the holder died, the card was withdrawn).
    Invalid,
    /// Suspended for now (the phone was reported lost): may be resumed.
    Suspended,
    /// The value 3, which the draft leaves to applications; holoid never sets it and treats
    /// it as not valid.
    Reserved,
}

impl Status {
    /// The 2-bit value.
    pub fn bits(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Reserved => 3,
        }
    }

    /// The status of a 2-bit value (only the low two bits count).
    pub fn from_bits(v: u8) -> Status {
        match v & 3 {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            _ => Status::Reserved,
        }
    }

    /// `valid`, `invalid`, `suspended` or `reserved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Suspended => "suspended",
            Status::Reserved => "reserved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a credential's status is: list number and index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRef {
    /// The list (`/v1/status-lists/{list}`).
    pub list: u32,
    /// The index in it, assigned at random when the credential is enrolled.
    pub index: u32,
}

/// Why a status could not be known.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusError {
    /// Not a compact JWS of three base64url parts with JSON inside.
    Malformed(String),
    /// `typ` is not `statuslist+jwt` or `alg` not `EdDSA`.
    WrongType,
    /// The signature is not the issuer key's.
    BadSignature,
    /// The list expired at `exp` (seconds since 1970); it is now `now`.
    Expired {
        /// Its `exp`.
        exp: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Issued in the future (`iat` after now, beyond the allowed skew).
    NotYetIssued {
        /// Its `iat`.
        iat: u64,
    },
    /// Another list than the credential's.
    OtherList {
        /// The subject wanted.
        expected: String,
        /// The subject found.
        found: String,
    },
    /// `bits` is not 2.
    UnsupportedBits(u8),
    /// The list inflates past [`MAX_LIST_BYTES`], or does not inflate.
    BadList(String),
    /// The credential's index is past the list's end.
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// Entries in the list.
        len: usize,
    },
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusError::Malformed(why) => write!(f, "the status list is not a signed token: {why}"),
            StatusError::WrongType => write!(f, "the token is not an EdDSA-signed statuslist+jwt"),
            StatusError::BadSignature => {
                write!(
                    f,
                    "the status list's signature is not the issuer's (another issuer, or edited)"
                )
            }
            StatusError::Expired { exp, now } => write!(
                f,
                "the status list expired {} s ago: fetch a fresh one",
                now.saturating_sub(*exp)
            ),
            StatusError::NotYetIssued { iat } => {
                write!(
                    f,
                    "the status list is dated in the future (iat {iat}): check the clock"
                )
            }
            StatusError::OtherList { expected, found } => {
                write!(f, "the status list is {found}, the credential's is {expected}")
            }
            StatusError::UnsupportedBits(b) => write!(f, "the status list has {b} bits per entry, not 2"),
            StatusError::BadList(why) => write!(f, "the status list's entries cannot be read: {why}"),
            StatusError::IndexOutOfRange { index, len } => {
                write!(
                    f,
                    "the credential's index {index} is past the list's {len} entries"
                )
            }
        }
    }
}

impl std::error::Error for StatusError {}

/// A list of 2-bit statuses, all valid when made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `len` entries (rounded up to a multiple of 4), all valid.
    pub fn new(len: usize) -> StatusList {
        StatusList {
            bytes: vec![0; len.div_ceil(4)],
        }
    }

    /// A list over packed bytes (entry `i` in bits `2(i mod 4)..` of byte `i / 4`).
    pub fn from_bytes(bytes: Vec<u8>) -> StatusList {
        StatusList { bytes }
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 4
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status at `index`, or `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Status> {
        let byte = *self.bytes.get(index / 4)?;
        Some(Status::from_bits(byte >> ((index % 4) * 2)))
    }

    /// Sets the status at `index`; `false` (and nothing changed) past the end.
    pub fn set(&mut self, index: usize, status: Status) -> bool {
        let Some(byte) = self.bytes.get_mut(index / 4) else {
            return false;
        };
        let shift = (index % 4) * 2;
        *byte = (*byte & !(3 << shift)) | (status.bits() << shift);
        true
    }

    /// `lst`: zlib (level 9) of the bytes, base64url without padding.
    pub fn to_lst(&self) -> String {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&self.bytes).expect("writing to memory");
        B64.encode(z.finish().expect("writing to memory"))
    }

    /// The list an `lst` holds, refusing one that inflates past [`MAX_LIST_BYTES`].
    pub fn from_lst(lst: &str) -> Result<StatusList, StatusError> {
        let z = B64
            .decode(lst)
            .map_err(|e| StatusError::BadList(format!("lst is not base64url: {e}")))?;
        let mut bytes = Vec::new();
        flate2::read::ZlibDecoder::new(z.as_slice())
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusError::BadList(format!("lst does not inflate: {e}")))?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusError::BadList(format!("more than {MAX_LIST_BYTES} bytes")));
        }
        Ok(StatusList { bytes })
    }
}

/// The JWT header of a status list token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `EdDSA`.
    pub alg: String,
    /// `statuslist+jwt`.
    pub typ: String,
    /// The issuer key's id: the first 8 bytes of SHA-256 of its public key, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// The `status_list` claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListClaim {
    /// Bits per entry (2).
    pub bits: u8,
    /// The compressed entries.
    pub lst: String,
}

/// The claims of a status list token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The list's URI, e.g. `https://verifier.example/v1/status-lists/1`, or `holoid:status-list:1`.
    pub sub: String,
    /// Issued at, seconds since 1970.
    pub iat: u64,
    /// Expires at, seconds since 1970: after it the list says nothing.
    pub exp: u64,
    /// How long a verifier may cache it, seconds.
    pub ttl: u64,
    /// The entries.
    pub status_list: ListClaim,
}

/// The subject of list `n` when a verifier has no URL for it.
pub fn subject(list: u32) -> String {
    format!("holoid:status-list:{list}")
}

/// The issuer key's id in tokens.
pub fn key_id(key: &IssuerPublic) -> String {
    crate::encoding::to_hex(&crate::mac::sha256(&[&key.to_bytes()])[..8])
}

/// Signs a list as a compact JWS: `base64url(header).base64url(claims).base64url(signature)`.
pub fn sign(list: &StatusList, sub: &str, iat: u64, ttl: u64, exp: u64, key: &IssuerSecret) -> String {
    let header = Header {
        alg: "EdDSA".into(),
        typ: TOKEN_TYPE.into(),
        kid: Some(key_id(&key.public())),
    };
    let claims = Claims {
        sub: sub.into(),
        iat,
        exp,
        ttl,
        status_list: ListClaim {
            bits: BITS,
            lst: list.to_lst(),
        },
    };
    let input = format!(
        "{}.{}",
        B64.encode(serde_json::to_vec(&header).expect("plain data")),
        B64.encode(serde_json::to_vec(&claims).expect("plain data"))
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature))
}

/// A status list token whose signature, type and time were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedList {
    /// Its claims.
    pub claims: Claims,
    /// Its entries.
    pub list: StatusList,
}

impl VerifiedList {
    /// The status at `index`, or why it cannot be known.
    pub fn status(&self, index: u32) -> Result<Status, StatusError> {
        self.list.get(index as usize).ok_or(StatusError::IndexOutOfRange {
            index,
            len: self.list.len(),
        })
    }
}

/// How far in the future a list's `iat` may be (clock skew), seconds.
pub const MAX_SKEW_S: u64 = 300;

/// Checks a token: well formed, `typ` and `alg` as expected, signed by `key`, subject `sub`,
/// issued before `now` (within [`MAX_SKEW_S`]) and not past `exp`.
pub fn verify(token: &str, key: &IssuerPublic, sub: &str, now: u64) -> Result<VerifiedList, StatusError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(StatusError::Malformed("not three dot-separated parts".into()));
    };
    let decode = |part: &str, what: &str| {
        B64.decode(part)
            .map_err(|e| StatusError::Malformed(format!("the {what} is not base64url: {e}")))
    };
    let header: Header = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|e| StatusError::Malformed(format!("header: {e}")))?;
    if header.alg != "EdDSA" || header.typ != TOKEN_TYPE {
        return Err(StatusError::WrongType);
    }
    let signature: [u8; 64] = decode(s, "signature")?
        .try_into()
        .map_err(|_| StatusError::BadSignature)?;
    let input = &token[..h.len() + 1 + c.len()];
    if !key.verify(input.as_bytes(), &signature) {
        return Err(StatusError::BadSignature);
    }
    let claims: Claims = serde_json::from_slice(&decode(c, "claims")?)
        .map_err(|e| StatusError::Malformed(format!("claims: {e}")))?;
    if claims.sub != sub {
        return Err(StatusError::OtherList {
            expected: sub.into(),
            found: claims.sub,
        });
    }
    if claims.iat > now + MAX_SKEW_S {
        return Err(StatusError::NotYetIssued { iat: claims.iat });
    }
    if now >= claims.exp {
        return Err(StatusError::Expired { exp: claims.exp, now });
    }
    if claims.status_list.bits != BITS {
        return Err(StatusError::UnsupportedBits(claims.status_list.bits));
    }
    let list = StatusList::from_lst(&claims.status_list.lst)?;
    Ok(VerifiedList { claims, list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drafts_examples_read_back() {
        // draft-ietf-oauth-status-list §4.1, 2 bits: statuses 1 2 0 3 | 0 1 0 1 | 1 2 3 3.
        let list = StatusList::from_lst("eNo76fITAAPfAgc").unwrap();
        assert_eq!(list.as_bytes(), &[0xc9, 0x44, 0xf9]);
        let want = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(list.get(i), Some(Status::from_bits(*w)), "entry {i}");
        }
        assert_eq!(list.get(12), None);
        let mut made = StatusList::new(12);
        for (i, w) in want.iter().enumerate() {
            assert!(made.set(i, Status::from_bits(*w)));
        }
        assert_eq!(made, list);
        assert_eq!(StatusList::from_lst(&made.to_lst()).unwrap(), made);
    }

    #[test]
    fn set_changes_one_entry() {
        let mut l = StatusList::new(8);
        l.set(5, Status::Suspended);
        l.set(5, Status::Invalid);
        assert!(!l.set(8, Status::Invalid));
        for i in 0..8 {
            assert_eq!(
                l.get(i),
                Some(if i == 5 { Status::Invalid } else { Status::Valid })
            );
        }
    }

    fn signed(exp: u64) -> (String, IssuerSecret) {
        let key = IssuerSecret::from_bytes([7; 32]);
        let mut l = StatusList::new(1024);
        l.set(17, Status::Suspended);
        l.set(900, Status::Invalid);
        (sign(&l, &subject(1), 1_000, 3_600, exp, &key), key)
    }

    #[test]
    fn a_signed_list_verifies_and_tells_each_status() {
        let (token, key) = signed(5_000);
        let v = verify(&token, &key.public(), &subject(1), 2_000).unwrap();
        assert_eq!(v.status(17), Ok(Status::Suspended));
        assert_eq!(v.status(900), Ok(Status::Invalid));
        assert_eq!(v.status(18), Ok(Status::Valid));
        assert!(matches!(v.status(1024), Err(StatusError::IndexOutOfRange { .. })));
        assert_eq!(v.claims.ttl, 3_600);
    }

    #[test]
    fn an_unknown_status_is_an_error_never_a_status() {
        let (token, key) = signed(5_000);
        let other = IssuerSecret::from_bytes([8; 32]).public();
        assert_eq!(
            verify(&token, &other, &subject(1), 2_000),
            Err(StatusError::BadSignature)
        );
        assert!(matches!(
            verify(&token, &key.public(), &subject(1), 5_000),
            Err(StatusError::Expired { .. })
        ));
        assert!(matches!(
            verify(&token, &key.public(), &subject(2), 2_000),
            Err(StatusError::OtherList { .. })
        ));
        assert!(matches!(
            verify(&token, &key.public(), &subject(1), 1_000 - MAX_SKEW_S - 1),
            Err(StatusError::NotYetIssued { .. })
        ));
        // An edited claim (one entry flipped back to valid) breaks the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: Claims = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        let mut list = StatusList::from_lst(&claims.status_list.lst).unwrap();
        list.set(17, Status::Valid);
        claims.status_list.lst = list.to_lst();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(serde_json::to_vec(&claims).unwrap()),
            parts[2]
        );
        assert_eq!(
            verify(&forged, &key.public(), &subject(1), 2_000),
            Err(StatusError::BadSignature)
        );
        // alg none, another typ, garbage.
        let none = format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none","typ":"statuslist+jwt"}"#),
            parts[1]
        );
        assert_eq!(
            verify(&none, &key.public(), &subject(1), 2_000),
            Err(StatusError::WrongType)
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert!(matches!(
                verify(bad, &key.public(), &subject(1), 2_000),
                Err(StatusError::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; MAX_LIST_BYTES + 1]).unwrap();
        let lst = B64.encode(z.finish().unwrap());
        assert!(matches!(StatusList::from_lst(&lst), Err(StatusError::BadList(_))));
    }
}
