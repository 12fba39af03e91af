//! Issuance by a one-time QR code: the offer an office shows, the request a phone sends, and
//! the device key sealed to that phone.
//!
//! 1. An officer asks the service for an **offer** for a registered credential. The offer is a
//!    random 16-byte id and a random 32-byte secret, shown as the text
//!    `HOLOID:OFFER1:<ID>:<SECRET>` (upper-case hex, so a QR code holds it in its dense
//!    alphanumeric mode) and as a QR code of that text. The secret is
//!    `HMAC-SHA256(M, "holoid/v2/offer" ‖ id)`: every server holding the master key can show
//!    the QR code again and check a phone's request, and the database holds no secret at all
//!    (whoever reads it cannot enrol a phone). The offer is good for one enrolment within five
//!    minutes.
//! 2. The phone makes a fresh X25519 key pair ([`WalletKeyPair`]) and sends an
//!    [`EnrolRequest`]: the offer text and its public key.
//! 3. The service derives the next device epoch's key `K_dev`, signs the enrolment's credential
//!    document, and answers an [`Enrolment`]: the document, the portrait and `K_dev` sealed to
//!    the phone's key with HPKE (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256),
//!    HKDF-SHA256, ChaCha20-Poly1305; `info` = `holoid/v2/enrol`, the associated data the
//!    document's exact text, so a changed document does not open).
//! 4. The phone opens the key ([`Enrolment::finish`]), checks it against the document's
//!    commitment, the portrait against its hash and (when it knows the issuer's key) the
//!    issuer's signature, and keeps the three.
//!
//! Everything here is pure: the randomness comes from the operating system through `hpke`'s
//! key generation and sealing (`getrandom`), nothing is read or written.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64_STD, URL_SAFE_NO_PAD as B64_URL};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::credential::{Credential, CredentialError, SignedCredential};
use crate::encoding::{from_hex, to_hex};
use crate::keys::{DeviceKey, IssuerPublic, IssuerSecret, MasterKey};
use crate::mac::hmac_sha256;
use crate::status::StatusRef;

/// How an offer's text begins.
pub const OFFER_PREFIX: &str = "HOLOID:OFFER1:";
/// HPKE's `info` for the sealed device key.
pub const SEAL_INFO: &[u8] = b"holoid/v2/enrol";
/// Domain label of an offer's secret.
const OFFER_SECRET_LABEL: &[u8] = b"holoid/v2/offer";
/// How long an offer may be used after it is made, seconds.
pub const OFFER_LIFE_S: u64 = 300;
/// The largest portrait an enrolment carries, bytes (base64 text is a third larger).
pub const MAX_PORTRAIT_BYTES: usize = 4 << 20;

type Kem = X25519HkdfSha256;

/// What went wrong in an enrolment. The messages name the part, never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnrolError {
    /// The offer text is not an offer (what is wrong with it).
    BadOffer(String),
    /// The phone's public key is not 32 base64url bytes of a usable X25519 key.
    BadPublicKey,
    /// The sealed key is not well formed (which part).
    BadSealedKey(&'static str),
    /// The sealed key does not open with this phone's key and this document: it was sealed to
    /// another phone, or the document or the key was changed on the way.
    Unopenable,
    /// The enrolment's credential document or portrait is not acceptable.
    Credential(CredentialError),
    /// The portrait is not base64 or is too large.
    BadPortrait(String),
}

impl fmt::Display for EnrolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnrolError::BadOffer(why) => write!(f, "not an enrolment offer: {why}"),
            EnrolError::BadPublicKey => f.write_str(
                "the device public key must be 32 bytes of a usable X25519 key, base64url without padding",
            ),
            EnrolError::BadSealedKey(part) => write!(f, "the sealed device key's {part} is not well formed"),
            EnrolError::Unopenable => f.write_str(
                "the sealed device key does not open: it was sealed to another key pair, or the \
                 credential document or the key was changed on the way",
            ),
            EnrolError::Credential(e) => write!(f, "the enrolled credential: {e}"),
            EnrolError::BadPortrait(why) => write!(f, "the enrolled portrait: {why}"),
        }
    }
}

impl std::error::Error for EnrolError {}

impl From<CredentialError> for EnrolError {
    fn from(e: CredentialError) -> EnrolError {
        EnrolError::Credential(e)
    }
}

/// A one-time enrolment offer: its public id and its secret (zeroed on drop).
pub struct Offer {
    /// The offer's id (public: it names the offer in URLs and the audit log).
    pub id: [u8; 16],
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Offer {{ id: {}, secret: <redacted> }}", self.id_hex())
    }
}

impl Offer {
    /// The offer `id` (drawn at random by the caller), its secret derived from the master key.
    pub fn issued(master: &MasterKey, id: [u8; 16]) -> Offer {
        Offer {
            id,
            secret: Zeroizing::new(Self::secret_of(master, &id)),
        }
    }

    fn secret_of(master: &MasterKey, id: &[u8; 16]) -> [u8; 32] {
        hmac_sha256(master.as_bytes(), &[OFFER_SECRET_LABEL, id])
    }

    /// The id as lower-case hex (as URLs and the store write it).
    pub fn id_hex(&self) -> String {
        to_hex(&self.id)
    }

    /// The text the QR code holds and the phone sends: `HOLOID:OFFER1:<ID>:<SECRET>`.
    pub fn to_text(&self) -> String {
        format!(
            "{OFFER_PREFIX}{}:{}",
            self.id_hex().to_uppercase(),
            to_hex(&self.secret[..]).to_uppercase()
        )
    }

    /// Reads an offer's text (surrounding white space and letter case do not matter).
    pub fn parse(text: &str) -> Result<Offer, EnrolError> {
        let t = text.trim();
        let rest = t
            .get(..OFFER_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(OFFER_PREFIX))
            .map(|_| &t[OFFER_PREFIX.len()..])
            .ok_or_else(|| EnrolError::BadOffer(format!("it does not begin with `{OFFER_PREFIX}`")))?;
        let (id, secret) = rest
            .split_once(':')
            .ok_or_else(|| EnrolError::BadOffer("it lacks the `:` between id and secret".into()))?;
        let id = from_hex::<16>(&id.to_ascii_lowercase())
            .map_err(|_| EnrolError::BadOffer("its id is not 32 hex digits".into()))?;
        let mut secret_bytes = from_hex::<32>(&secret.to_ascii_lowercase())
            .map_err(|_| EnrolError::BadOffer("its secret is not 64 hex digits".into()))?;
        let offer = Offer {
            id,
            secret: Zeroizing::new(secret_bytes),
        };
        secret_bytes.zeroize();
        Ok(offer)
    }

    /// Whether this offer's secret is the one the master key gives its id (constant time).
    pub fn is_issued_by(&self, master: &MasterKey) -> bool {
        let mut expected = Zeroizing::new(Self::secret_of(master, &self.id));
        let same = expected.ct_eq(&self.secret[..]).into();
        expected.zeroize();
        same
    }
}

/// `POST /v1/enrol`'s body: the offer and the phone's fresh public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The offer's text, as the QR code holds it.
    pub offer: String,
    /// The phone's X25519 public key, 32 bytes, base64url without padding.
    pub device_public_key: String,
}

/// The device key sealed to one phone (HPKE base mode; see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedKey {
    /// HPKE's encapsulated key (32 bytes), base64url without padding.
    pub enc: String,
    /// The sealed 32-byte key and its 16-byte tag, base64url without padding.
    pub ciphertext: String,
}

/// `POST /v1/enrol`'s answer: what the phone keeps, the device key sealed to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The credential.
    pub credential_id: String,
    /// The device enrolment this phone now holds (earlier ones have ended).
    pub device_epoch: u32,
    /// The enrolment's signed credential document, as the exact text the key was sealed
    /// with (keep it as it is: it is the file `credential.json`).
    pub credential: String,
    /// The portrait the document names, PNG, standard base64.
    pub portrait_png: String,
    /// `K_dev`, sealed to the phone's public key.
    pub sealed_device_key: SealedKey,
}

/// What an enrolled phone holds, checked.
pub struct Enrolled {
    /// The credential document (signature checked when the issuer's key was given).
    pub credential: SignedCredential,
    /// Its exact text, to store as `credential.json`.
    pub credential_json: String,
    /// The device key, checked against the document's commitment.
    pub device_key: DeviceKey,
    /// The portrait, checked against the document's hash.
    pub portrait_png: Vec<u8>,
}

impl fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrolled")
            .field("credential_id", &self.credential.credential.id)
            .field("device_epoch", &self.credential.credential.device_epoch)
            .field("device_key", &self.device_key)
            .finish_non_exhaustive()
    }
}

/// A phone's enrolment key pair (X25519; the secret half is zeroed on drop).
pub struct WalletKeyPair {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: <Kem as hpke::Kem>::PublicKey,
}

impl fmt::Debug for WalletKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WalletKeyPair {{ public: {}, secret: <redacted> }}",
            self.public_text()
        )
    }
}

impl WalletKeyPair {
    /// A fresh key pair from the operating system's random numbers.
    pub fn generate() -> WalletKeyPair {
        let (secret, public) = Kem::gen_keypair();
        WalletKeyPair { secret, public }
    }

    /// The key pair derived from 32 bytes of keying material (RFC 9180 DeriveKeyPair): for a
    /// host that draws its own randomness, and for tests.
    pub fn derive(ikm: &[u8; 32]) -> WalletKeyPair {
        let (secret, public) = Kem::derive_keypair(ikm);
        WalletKeyPair { secret, public }
    }

    /// The key pair whose secret half is these 32 bytes (as [`Self::secret_bytes`] gave them).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Result<WalletKeyPair, EnrolError> {
        let secret =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(|_| EnrolError::BadPublicKey)?;
        let public = Kem::sk_to_pk(&secret);
        Ok(WalletKeyPair { secret, public })
    }

    /// The secret half's 32 bytes, for a host that keeps the pair between two calls. Keep them
    /// out of logs; they are zeroed when dropped.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The public half, 32 bytes.
    pub fn public_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.public.to_bytes());
        out
    }

    /// The public half as the request sends it (base64url, no padding).
    pub fn public_text(&self) -> String {
        B64_URL.encode(self.public_bytes())
    }

    /// The request for this offer.
    pub fn request(&self, offer: &Offer) -> EnrolRequest {
        EnrolRequest {
            offer: offer.to_text(),
            device_public_key: self.public_text(),
        }
    }

    /// Opens a device key sealed to this pair with `credential_json` as its associated data.
    pub fn open(&self, sealed: &SealedKey, credential_json: &str) -> Result<DeviceKey, EnrolError> {
        let enc = B64_URL
            .decode(&sealed.enc)
            .map_err(|_| EnrolError::BadSealedKey("encapsulated key"))?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc)
            .map_err(|_| EnrolError::BadSealedKey("encapsulated key"))?;
        let ct = B64_URL
            .decode(&sealed.ciphertext)
            .map_err(|_| EnrolError::BadSealedKey("ciphertext"))?;
        if ct.len() != 32 + 16 {
            return Err(EnrolError::BadSealedKey("ciphertext"));
        }
        let plain = Zeroizing::new(
            hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
                &OpModeR::Base,
                &self.secret,
                &enc,
                SEAL_INFO,
                &ct,
                credential_json.as_bytes(),
            )
            .map_err(|_| EnrolError::Unopenable)?,
        );
        let mut key = [0u8; 32];
        key.copy_from_slice(&plain);
        let device_key = DeviceKey::from_bytes(key);
        key.zeroize();
        Ok(device_key)
    }
}

/// Reads a phone's public key as the request sends it.
fn parse_public_key(text: &str) -> Result<<Kem as hpke::Kem>::PublicKey, EnrolError> {
    let bytes = B64_URL
        .decode(text.trim())
        .map_err(|_| EnrolError::BadPublicKey)?;
    if bytes.len() != 32 || bytes.iter().all(|b| *b == 0) {
        return Err(EnrolError::BadPublicKey);
    }
    <Kem as hpke::Kem>::PublicKey::from_bytes(&bytes).map_err(|_| EnrolError::BadPublicKey)
}

/// Checks a phone's public key as the service receives it (before anything is issued).
pub fn check_public_key(text: &str) -> Result<(), EnrolError> {
    parse_public_key(text).map(|_| ())
}

/// Seals `key` to the phone whose public key is `device_public_key` (base64url), bound to
/// `credential_json`, the exact document text sent with it.
pub fn seal_device_key(
    device_public_key: &str,
    key: &DeviceKey,
    credential_json: &str,
) -> Result<SealedKey, EnrolError> {
    let pk = parse_public_key(device_public_key)?;
    // A low-order point makes the shared secret zero; HPKE refuses it as an encapsulation error.
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        SEAL_INFO,
        key.as_bytes(),
        credential_json.as_bytes(),
    )
    .map_err(|_| EnrolError::BadPublicKey)?;
    Ok(SealedKey {
        enc: B64_URL.encode(enc.to_bytes()),
        ciphertext: B64_URL.encode(ct),
    })
}

impl Enrolment {
    /// Opens and checks what the service answered: the sealed key opens with `keys` and this
    /// exact document, the key is the one the document commits to, the portrait is the one it
    /// names, and, when `issuer` is given, the issuer signed the document.
    pub fn finish(
        &self,
        keys: &WalletKeyPair,
        issuer: Option<&IssuerPublic>,
    ) -> Result<Enrolled, EnrolError> {
        let signed = SignedCredential::from_json(&self.credential)?;
        if let Some(issuer) = issuer {
            signed.verify(issuer)?;
        } else {
            signed.credential.validate()?;
        }
        let c = &signed.credential;
        if c.id != self.credential_id || c.device_epoch != self.device_epoch {
            return Err(EnrolError::Credential(CredentialError::InvalidField {
                field: "id",
                reason: "the answer's credential id or device epoch differs from its document's".into(),
            }));
        }
        let device_key = keys.open(&self.sealed_device_key, &self.credential)?;
        c.check_device_key(&device_key)?;
        if self.portrait_png.len() > MAX_PORTRAIT_BYTES / 3 * 4 + 4 {
            return Err(EnrolError::BadPortrait(format!(
                "larger than {} MiB",
                MAX_PORTRAIT_BYTES >> 20
            )));
        }
        let portrait_png = B64_STD
            .decode(&self.portrait_png)
            .map_err(|_| EnrolError::BadPortrait("not standard base64".into()))?;
        c.portrait.check(&portrait_png)?;
        Ok(Enrolled {
            credential_json: self.credential.clone(),
            credential: signed,
            device_key,
            portrait_png,
        })
    }
}

/// The issuer's side of an enrolment: for the holder whose record is `record` (any of the
/// credential's documents), the document of device enrolment `epoch` with status entry
/// `status`, signed with `issuer`, and its `K_dev` (derived from `master`) sealed to the phone
/// whose public key is `device_public_key`; `portrait_png` is the record's portrait.
pub fn issue(
    record: &Credential,
    epoch: u32,
    status: StatusRef,
    master: &MasterKey,
    issuer: &IssuerSecret,
    device_public_key: &str,
    portrait_png: &[u8],
) -> Result<Enrolment, EnrolError> {
    check_public_key(device_public_key)?;
    let device_key = master.device_key(&record.id, epoch);
    let c = Credential {
        device_epoch: epoch,
        device_key_check: Credential::device_key_commitment(&device_key),
        status,
        ..record.clone()
    };
    let credential = c.sign(issuer)?.to_json();
    let sealed_device_key = seal_device_key(device_public_key, &device_key, &credential)?;
    Ok(Enrolment {
        credential_id: record.id.clone(),
        device_epoch: epoch,
        credential,
        portrait_png: portrait_text(portrait_png),
        sealed_device_key,
    })
}

/// Encodes a portrait for an [`Enrolment`].
pub fn portrait_text(png: &[u8]) -> String {
    B64_STD.encode(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoIdentity;

    fn master() -> MasterKey {
        MasterKey::from_bytes([3; 32])
    }

    fn offer() -> Offer {
        Offer::issued(&master(), [7; 16])
    }

    #[test]
    fn an_offer_reads_back_whatever_its_case_and_spacing() {
        let o = offer();
        let text = o.to_text();
        assert!(text.starts_with("HOLOID:OFFER1:07070707"), "{text}");
        assert_eq!(text.len(), OFFER_PREFIX.len() + 32 + 1 + 64);
        // Upper-case hex and `:` only: QR's alphanumeric mode.
        assert!(
            text.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == ':')
        );
        for t in [text.clone(), text.to_lowercase(), format!("  {text}\n")] {
            let back = Offer::parse(&t).unwrap();
            assert_eq!(back.id, o.id);
            assert!(back.is_issued_by(&master()));
        }
        let secret_hex = &text[OFFER_PREFIX.len() + 33..];
        assert!(
            !format!("{o:?}").to_uppercase().contains(&secret_hex[..16]),
            "the secret stays out of Debug"
        );
    }

    #[test]
    fn a_malformed_offer_is_refused_with_the_part_named() {
        let good = offer().to_text();
        let cases = [
            ("", "begin with"),
            ("HOLOID:OFFER2:00:00", "begin with"),
            (&good[..OFFER_PREFIX.len() + 32], "lacks the `:`"),
            (&good[..good.len() - 1], "secret is not 64"),
            (&good.replacen("07", "0G", 1), "id is not 32"),
        ];
        for (text, want) in cases {
            let e = Offer::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "`{text}`: {e}");
        }
        // Another id with this secret, or this id under another master key: not issued.
        let moved = good.replacen("07070707", "07070708", 1);
        assert!(!Offer::parse(&moved).unwrap().is_issued_by(&master()));
        assert!(!offer().is_issued_by(&MasterKey::from_bytes([4; 32])));
    }

    fn enrolment(keys: &WalletKeyPair) -> (DemoIdentity, Enrolment) {
        let demo = DemoIdentity::generate(3);
        let doc = demo.enrolment(2);
        let json = doc.to_json();
        let k = demo.master.device_key_for(&doc.credential);
        let sealed = seal_device_key(&keys.public_text(), &k, &json).unwrap();
        let e = Enrolment {
            credential_id: doc.credential.id.clone(),
            device_epoch: 2,
            credential: json,
            portrait_png: portrait_text(&demo.portrait_png),
            sealed_device_key: sealed,
        };
        (demo, e)
    }

    #[test]
    fn the_issuers_side_makes_what_the_demo_issuer_signs() {
        let demo = DemoIdentity::generate(3);
        let keys = WalletKeyPair::derive(&[6; 32]);
        let doc = demo.enrolment(2);
        let e = issue(
            &demo.credential.credential,
            2,
            doc.credential.status,
            &demo.master,
            &demo.issuer,
            &keys.public_text(),
            &demo.portrait_png,
        )
        .unwrap();
        assert_eq!(e.credential, doc.to_json(), "the same document, signed the same");
        let done = e.finish(&keys, Some(&demo.issuer.public())).unwrap();
        assert_eq!(
            done.device_key.as_bytes(),
            demo.master.device_key_for(&doc.credential).as_bytes()
        );
        assert_eq!(
            issue(
                &doc.credential,
                3,
                doc.credential.status,
                &demo.master,
                &demo.issuer,
                "AAAA",
                &[]
            )
            .unwrap_err(),
            EnrolError::BadPublicKey
        );
    }

    #[test]
    fn the_phone_opens_its_key_and_checks_everything() {
        let keys = WalletKeyPair::generate();
        let (demo, e) = enrolment(&keys);
        let done = e.finish(&keys, Some(&demo.issuer.public())).unwrap();
        let expected = demo.master.device_key(&e.credential_id, 2);
        assert_eq!(done.device_key.as_bytes(), expected.as_bytes());
        assert_eq!(done.portrait_png, demo.portrait_png);
        assert_eq!(done.credential.credential.device_epoch, 2);
        // The pair survives a round trip through its secret bytes (a host keeping it).
        let again = WalletKeyPair::from_secret_bytes(&keys.secret_bytes()).unwrap();
        assert_eq!(again.public_bytes(), keys.public_bytes());
        assert!(e.finish(&again, None).is_ok());
    }

    #[test]
    fn a_key_for_another_phone_or_a_changed_document_does_not_open() {
        let keys = WalletKeyPair::derive(&[1; 32]);
        let (demo, e) = enrolment(&keys);
        let other = WalletKeyPair::derive(&[2; 32]);
        assert_eq!(e.finish(&other, None).unwrap_err(), EnrolError::Unopenable);

        // The document's text changed without breaking its JSON: the seal's associated data
        // no longer matches (and the issuer's signature would not either).
        let mut changed = e.clone();
        changed.credential = changed
            .credential
            .replacen("\"device_epoch\": 2", "\"device_epoch\":  2", 1);
        assert_ne!(changed.credential, e.credential, "the test edits the text");
        assert_eq!(changed.finish(&keys, None).unwrap_err(), EnrolError::Unopenable);

        // Another issuer's key: refused before anything is opened.
        let stranger = DemoIdentity::generate(4).issuer.public();
        assert!(matches!(
            e.finish(&keys, Some(&stranger)),
            Err(EnrolError::Credential(CredentialError::BadSignature))
        ));
        // A flipped ciphertext bit, a short one, a portrait that is not the named one.
        let mut flipped = e.clone();
        let mut ct = B64_URL.decode(&flipped.sealed_device_key.ciphertext).unwrap();
        ct[0] ^= 1;
        flipped.sealed_device_key.ciphertext = B64_URL.encode(&ct);
        assert_eq!(flipped.finish(&keys, None).unwrap_err(), EnrolError::Unopenable);
        let mut short = e.clone();
        short.sealed_device_key.ciphertext = B64_URL.encode(&ct[..40]);
        assert_eq!(
            short.finish(&keys, None).unwrap_err(),
            EnrolError::BadSealedKey("ciphertext")
        );
        let mut portrait = e.clone();
        portrait.portrait_png = portrait_text(b"not the portrait");
        assert!(matches!(
            portrait.finish(&keys, Some(&demo.issuer.public())),
            Err(EnrolError::Credential(CredentialError::PortraitMismatch { .. }))
        ));
    }

    #[test]
    fn a_bad_public_key_is_refused_before_sealing() {
        let k = DeviceKey::from_bytes([5; 32]);
        for bad in [
            "",
            "AAAA",
            &B64_URL.encode([0u8; 32]),
            &B64_URL.encode([1u8; 33]),
            "!!",
        ] {
            assert_eq!(check_public_key(bad), Err(EnrolError::BadPublicKey), "`{bad}`");
            assert_eq!(
                seal_device_key(bad, &k, "{}"),
                Err(EnrolError::BadPublicKey),
                "`{bad}`"
            );
        }
        // A low-order point (order 8 on Curve25519): its shared secret is zero.
        let low_order =
            from_hex::<32>("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap();
        assert_eq!(
            seal_device_key(&B64_URL.encode(low_order), &k, "{}"),
            Err(EnrolError::BadPublicKey)
        );
    }
}
