//! The keys of the system and their text encoding.
//!
//! - [`IssuerSecret`] / [`IssuerPublic`]: the issuer's Ed25519 key pair; it signs credentials.
//! - [`MasterKey`]: the issuer's 32-byte pattern master key `M`.
//! - [`DeviceKey`]: `K_dev = HMAC-SHA256(M, "holoid/v2/device" || epoch || credential id)`
//!   (epoch as 4 bytes big-endian), held by the wallet of one device enrolment; a verifier
//!   derives it from `M`. Enrolling a new phone raises the epoch, so the old phone's key —
//!   or a copy of it from a backup — draws a card that no longer verifies.
//!
//! Every key file holds one line, `LABEL:HEX`, where `LABEL` names the kind of key and
//! `HEX` is its 32 bytes in lowercase hexadecimal, e.g.
//! `holoid-master-key-v1:3b6a…(64 digits)`. Secret keys are zeroed when dropped and print
//! as `<redacted>` in `Debug` output. Pure: this module reads and writes strings, never files.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroize;

use crate::encoding::{HexError, from_hex, to_hex};
use crate::mac::hmac_sha256;

/// Domain label of the device key derivation (v2: with the device epoch).
pub const DEVICE_KEY_LABEL: &[u8] = b"holoid/v2/device";

/// The kinds of key file, each with its own first word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The pattern master key `M` (secret).
    Master,
    /// A device pattern key `K_dev` (secret).
    Device,
    /// The issuer's Ed25519 signing key (secret).
    IssuerSecret,
    /// The issuer's Ed25519 public key.
    IssuerPublic,
    /// The verifier service's Ed25519 key that signs digital copies and audit heads (secret).
    CopySecret,
    /// Its public key: what checks a copy's record and an audit head offline.
    CopyPublic,
}

impl KeyKind {
    const ALL: [KeyKind; 6] = [
        KeyKind::Master,
        KeyKind::Device,
        KeyKind::IssuerSecret,
        KeyKind::IssuerPublic,
        KeyKind::CopySecret,
        KeyKind::CopyPublic,
    ];

    /// The label that starts a file of this kind.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Master => "holoid-master-key-v1",
            KeyKind::Device => "holoid-device-key-v1",
            KeyKind::IssuerSecret => "holoid-issuer-secret-key-v1",
            KeyKind::IssuerPublic => "holoid-issuer-public-key-v1",
            KeyKind::CopySecret => "holoid-copy-signing-key-v1",
            KeyKind::CopyPublic => "holoid-copy-public-key-v1",
        }
    }

    /// Words for messages, with the article: "a pattern master key", …
    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Master => "a pattern master key",
            KeyKind::Device => "a device pattern key",
            KeyKind::IssuerSecret => "an issuer signing (secret) key",
            KeyKind::IssuerPublic => "an issuer public key",
            KeyKind::CopySecret => "a copy-signing (secret) key",
            KeyKind::CopyPublic => "a copy-signing public key",
        }
    }
}

/// Why a key text was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The text does not start with any holoid key label.
    NotAKey,
    /// A holoid key of another kind than the one asked for.
    WrongKind {
        /// The kind the caller needs.
        expected: KeyKind,
        /// The kind the text holds.
        found: KeyKind,
    },
    /// The key digits are not hexadecimal (offset counted from the start of the digits).
    BadEncoding {
        /// Byte offset of the first bad character.
        offset: usize,
    },
    /// The key has the wrong number of hex digits.
    WrongLength {
        /// Digits wanted (64 for 32 bytes).
        expected: usize,
        /// Digits found.
        found: usize,
    },
    /// The 32 bytes are not a valid Ed25519 public key (not a curve point).
    InvalidPublicKey,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotAKey => write!(
                f,
                "not a holoid key: a key file holds one line `LABEL:HEX` with LABEL one of {}",
                KeyKind::ALL.map(KeyKind::label).join(", ")
            ),
            KeyError::WrongKind { expected, found } => write!(
                f,
                "wrong kind of key: this is {} (`{}`), but {} (`{}`) is needed here",
                found.describe(),
                found.label(),
                expected.describe(),
                expected.label()
            ),
            KeyError::BadEncoding { offset } => write!(
                f,
                "bad key encoding: character {} of the key digits is not a hex digit (0-9, a-f)",
                offset + 1
            ),
            KeyError::WrongLength { expected, found } => write!(
                f,
                "wrong key length: {found} hex digits, but a key has exactly {expected} (32 bytes)"
            ),
            KeyError::InvalidPublicKey => {
                write!(f, "the 32 bytes are not a valid Ed25519 public key")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// Splits `LABEL:HEX` text and decodes the 32 bytes, checking the kind.
fn decode_key_text(text: &str, expected: KeyKind) -> Result<[u8; 32], KeyError> {
    let text = text.trim();
    let (label, digits) = text.split_once(':').ok_or(KeyError::NotAKey)?;
    let found = KeyKind::ALL
        .into_iter()
        .find(|k| k.label() == label)
        .ok_or(KeyError::NotAKey)?;
    if found != expected {
        return Err(KeyError::WrongKind { expected, found });
    }
    from_hex::<32>(digits).map_err(|e| match e {
        HexError::BadDigit(offset) => KeyError::BadEncoding { offset },
        HexError::WrongLength { expected, found } => KeyError::WrongLength { expected, found },
    })
}

fn encode_key_text(kind: KeyKind, bytes: &[u8; 32]) -> String {
    format!("{}:{}\n", kind.label(), to_hex(bytes))
}

macro_rules! secret_bytes_key {
    ($name:ident, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The key made of these 32 bytes.
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                $name(bytes)
            }

            /// The raw key bytes. Keep them out of logs.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Reads the one-line text form (see the module docs).
            pub fn from_text(text: &str) -> Result<Self, KeyError> {
                decode_key_text(text, $kind).map($name)
            }

            /// The one-line text form, ending in a newline.
            pub fn to_text(&self) -> String {
                encode_key_text($kind, &self.0)
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_bytes_key!(
    MasterKey,
    KeyKind::Master,
    "The issuer's 32-byte pattern master key `M`."
);
secret_bytes_key!(
    DeviceKey,
    KeyKind::Device,
    "A wallet's pattern key `K_dev`, bound to one credential id."
);

impl MasterKey {
    /// `K_dev = HMAC-SHA256(M, "holoid/v2/device" || be32(epoch) || credential_id)`: the key
    /// of one device enrolment of a credential.
    pub fn device_key(&self, credential_id: &str, epoch: u32) -> DeviceKey {
        DeviceKey(hmac_sha256(
            &self.0,
            &[DEVICE_KEY_LABEL, &epoch.to_be_bytes(), credential_id.as_bytes()],
        ))
    }

    /// The device key of the enrolment a credential document was issued for.
    pub fn device_key_for(&self, credential: &crate::credential::Credential) -> DeviceKey {
        self.device_key(&credential.id, credential.device_epoch)
    }
}

/// What a wallet draws with: something that computes HMAC-SHA256 under the device key
/// `K_dev`. The key itself ([`DeviceKey`]) is one; a platform keystore that holds the key and
/// only computes HMACs with it (Android Keystore / StrongBox, the iOS keychain through the
/// host app) is another, so the key need never enter holoid's memory. holoid asks for two
/// kinds of message: the window seed's (`"holoid/v1/window" ‖ be64(window)`, once per time
/// window) and the commitment's (`"holoid/v2/device-check"`, once when a card is opened).
pub trait DeviceMac: Send + Sync {
    /// `HMAC-SHA256(K_dev, message)`, or why the keystore could not compute it.
    fn device_hmac(&self, message: &[u8]) -> Result<[u8; 32], KeystoreError>;
}

/// A keystore that could not compute an HMAC (locked, key removed, hardware error): what it
/// said, never key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeystoreError(pub String);

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the device key's keystore failed: {}", self.0)
    }
}

impl std::error::Error for KeystoreError {}

impl DeviceMac for DeviceKey {
    fn device_hmac(&self, message: &[u8]) -> Result<[u8; 32], KeystoreError> {
        Ok(hmac_sha256(&self.0, &[message]))
    }
}

/// An Ed25519 signing key: the issuer's (signs credentials) or the verifier service's
/// copy-signing key (signs digital copies and audit heads); the same type, told apart by the
/// kind in their key files. Zeroed on drop; `Debug` shows only the public half.
pub struct IssuerSecret(SigningKey);

impl IssuerSecret {
    /// The signing key with this 32-byte secret seed (RFC 8032).
    pub fn from_bytes(seed: [u8; 32]) -> Self {
        IssuerSecret(SigningKey::from_bytes(&seed))
    }

    /// Reads the one-line text form of an issuer key (see the module docs).
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        Self::from_text_of(KeyKind::IssuerSecret, text)
    }

    /// Reads the one-line text form of a signing key of `kind` (`IssuerSecret` or
    /// `CopySecret`).
    pub fn from_text_of(kind: KeyKind, text: &str) -> Result<Self, KeyError> {
        let mut seed = decode_key_text(text, kind)?;
        let key = Self::from_bytes(seed);
        seed.zeroize();
        Ok(key)
    }

    /// The one-line text form of an issuer key, ending in a newline.
    pub fn to_text(&self) -> String {
        self.to_text_of(KeyKind::IssuerSecret)
    }

    /// The one-line text form as a key of `kind`, ending in a newline.
    pub fn to_text_of(&self, kind: KeyKind) -> String {
        let mut seed = self.0.to_bytes();
        let text = encode_key_text(kind, &seed);
        seed.zeroize();
        text
    }

    /// The matching public key.
    pub fn public(&self) -> IssuerPublic {
        IssuerPublic(self.0.verifying_key())
    }

    /// An Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for IssuerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IssuerSecret(<redacted>, public {})",
            to_hex(&self.0.verifying_key().to_bytes())
        )
    }
}

/// The issuer's Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IssuerPublic(VerifyingKey);

impl IssuerPublic {
    /// The public key with these 32 bytes, if they are a valid curve point.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(&bytes)
            .map(IssuerPublic)
            .map_err(|_| KeyError::InvalidPublicKey)
    }

    /// Reads the one-line text form (see the module docs).
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        Self::from_bytes(decode_key_text(text, KeyKind::IssuerPublic)?)
    }

    /// The one-line text form, ending in a newline.
    pub fn to_text(&self) -> String {
        encode_key_text(KeyKind::IssuerPublic, &self.0.to_bytes())
    }

    /// The one-line text form of the verifier service's copy-signing public key.
    pub fn to_copy_text(&self) -> String {
        encode_key_text(KeyKind::CopyPublic, &self.0.to_bytes())
    }

    /// Reads a copy-signing public key: [`IssuerPublic::to_copy_text`]'s form, or the issuer
    /// public form that copy key files had before they were labelled as copy keys.
    pub fn from_copy_text(text: &str) -> Result<Self, KeyError> {
        match decode_key_text(text, KeyKind::CopyPublic) {
            Err(KeyError::WrongKind {
                found: KeyKind::IssuerPublic,
                ..
            }) => Self::from_text(text),
            other => Self::from_bytes(other?),
        }
    }

    /// The 32 public key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// A short name for this key (16 hex digits: the first 8 bytes of
    /// `SHA-256("holoid/v1/key-id" ‖ key)`), carried beside signatures so that a verifier
    /// holding several keys (retired ones after a rotation) knows which one signed.
    pub fn key_id(&self) -> String {
        let h = crate::mac::sha256(&[b"holoid/v1/key-id", &self.0.to_bytes()]);
        to_hex(&h[..8])
    }

    /// Whether `signature` is this key's valid (strict RFC 8032) signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Debug for IssuerPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerPublic({})", to_hex(&self.0.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_public_keys_are_labelled_and_the_old_label_still_reads() {
        let k = IssuerSecret::from_bytes([3; 32]).public();
        assert!(k.to_copy_text().starts_with("holoid-copy-public-key-v1:"));
        assert_eq!(IssuerPublic::from_copy_text(&k.to_copy_text()), Ok(k));
        assert_eq!(IssuerPublic::from_copy_text(&k.to_text()), Ok(k));
        assert!(matches!(
            IssuerPublic::from_text(&k.to_copy_text()),
            Err(KeyError::WrongKind { .. })
        ));
        let secret = IssuerSecret::from_bytes([3; 32]).to_text_of(KeyKind::CopySecret);
        assert!(IssuerPublic::from_copy_text(&secret).is_err());
    }

    #[test]
    fn key_ids_are_short_stable_and_differ_between_keys() {
        let a = IssuerSecret::from_bytes([1; 32]).public();
        let b = IssuerSecret::from_bytes([2; 32]).public();
        assert_eq!(a.key_id().len(), 16);
        assert!(a.key_id().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.key_id(), IssuerSecret::from_bytes([1; 32]).public().key_id());
        assert_ne!(a.key_id(), b.key_id());
    }

    #[test]
    fn text_round_trip_and_kind_checks() {
        let m = MasterKey::from_bytes([7; 32]);
        let text = m.to_text();
        assert!(text.starts_with("holoid-master-key-v1:0707"));
        assert_eq!(MasterKey::from_text(&text).unwrap().as_bytes(), &[7; 32]);
        assert_eq!(
            DeviceKey::from_text(&text).unwrap_err(),
            KeyError::WrongKind {
                expected: KeyKind::Device,
                found: KeyKind::Master
            }
        );
        let issuer = IssuerSecret::from_bytes([9; 32]);
        let public = IssuerPublic::from_text(&issuer.public().to_text()).unwrap();
        assert_eq!(public, issuer.public());
        let back = IssuerSecret::from_text(&issuer.to_text()).unwrap();
        assert_eq!(back.public(), public);
    }

    #[test]
    fn secrets_never_print() {
        let m = MasterKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{m:?}"), "MasterKey(<redacted>)");
        let d = m.device_key("id", 1);
        assert!(!format!("{d:?}").contains("ab"));
        let i = IssuerSecret::from_bytes([0xcd; 32]);
        assert!(!format!("{i:?}").contains(&to_hex(&[0xcd; 32])));
    }
}
