//! Credentials: what the card shows, signed by the issuer.
//!
//! A credential file is JSON (see `README.md` for an example). Its signature is Ed25519
//! over a **canonical encoding** that does not depend on JSON formatting: the label
//! `"holoid/v1/credential\0"`, then every field in a fixed order, each as a 4-byte
//! big-endian length and its bytes (text as UTF-8 exactly as given; the portrait hash as 32
//! raw bytes). Any change to any field changes the encoding, so verification rejects it.
//!
//! The portrait is referenced by file name and SHA-256, so the credential stays small and
//! the image can be checked separately. Pure: parses and prints strings, never files.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::encoding::{from_hex, to_hex};
use crate::keys::{DeviceKey, IssuerPublic, IssuerSecret};
use crate::mac::sha256;
use crate::status::StatusRef;
use crate::time::{Date, UnixMillis};

/// The `format` value of version 2 credential files (v2 added the device epoch and the
/// status reference).
pub const CREDENTIAL_FORMAT: &str = "holoid-credential-v2";
const CANONICAL_LABEL: &[u8] = b"holoid/v2/credential\0";
const DEVICE_CHECK_LABEL: &[u8] = b"holoid/v2/device-check";

/// Why a credential was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The file is not valid JSON, or lacks or adds a field.
    Json {
        /// What serde_json reported, with line and column.
        message: String,
    },
    /// The `format` field names a format this build does not read.
    UnsupportedFormat(String),
    /// A field has a value outside its rules.
    InvalidField {
        /// The field, e.g. `holder.birth_date`.
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// The signature does not verify under the issuer key: the credential was changed or
    /// signed by another issuer.
    BadSignature,
    /// The credential expired before the time it was checked at.
    Expired {
        /// Last valid day.
        expires: Date,
        /// The time of the check.
        at: UnixMillis,
    },
    /// The credential's issue date is after the time it was checked at.
    NotYetValid {
        /// First valid day.
        issued: Date,
        /// The time of the check.
        at: UnixMillis,
    },
    /// The device key is not the one this credential was issued for.
    WrongDeviceKey,
    /// The portrait image's SHA-256 differs from the one the credential signs.
    PortraitMismatch {
        /// Hash in the credential (hex).
        expected: String,
        /// Hash of the image given (hex).
        found: String,
    },
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::Json { message } => write!(f, "not a valid credential file: {message}"),
            CredentialError::UnsupportedFormat(s) => {
                write!(
                    f,
                    "unsupported credential format `{s}` (this build reads `{CREDENTIAL_FORMAT}`)"
                )
            }
            CredentialError::InvalidField { field, reason } => write!(f, "field `{field}`: {reason}"),
            CredentialError::BadSignature => write!(
                f,
                "the issuer's signature does not verify: the credential was altered, \
                 or it was signed by another issuer key"
            ),
            CredentialError::Expired { expires, at } => {
                write!(f, "the credential expired on {expires} (checked at {at})")
            }
            CredentialError::NotYetValid { issued, at } => {
                write!(f, "the credential is not valid before {issued} (checked at {at})")
            }
            CredentialError::WrongDeviceKey => write!(
                f,
                "the device key does not belong to this credential (its commitment differs): \
                 use the device.key issued with this credential"
            ),
            CredentialError::PortraitMismatch { expected, found } => write!(
                f,
                "the portrait image does not match the credential (SHA-256 {found}, credential signs {expected})"
            ),
        }
    }
}

impl std::error::Error for CredentialError {}

/// The kind of document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Mobile resident registration card (주민등록증).
    ResidentRegistration,
    /// Mobile driving licence (운전면허증).
    DrivingLicence,
}

impl DocumentKind {
    /// The name in the file and the canonical encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ResidentRegistration => "resident_registration",
            DocumentKind::DrivingLicence => "driving_licence",
        }
    }
}

/// The holder's details printed on the card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Name in Hangul, e.g. 김민준.
    pub name_hangul: String,
    /// Name in Latin letters, e.g. KIM MINJUN.
    pub name_latin: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Resident registration number with the last six digits masked: `YYMMDD-G******`.
    pub resident_number_masked: String,
    /// Address.
    pub address: String,
}

/// The portrait image, by file name and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortraitRef {
    /// File name beside the credential file (no directories), a PNG.
    pub file: String,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

impl PortraitRef {
    /// Checks that `image` is the portrait this reference names.
    pub fn check(&self, image: &[u8]) -> Result<(), CredentialError> {
        let found = sha256(&[image]);
        if found == self.sha256 {
            Ok(())
        } else {
            Err(CredentialError::PortraitMismatch {
                expected: to_hex(&self.sha256),
                found: to_hex(&found),
            })
        }
    }
}

/// A credential's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Identifier, 1-64 characters of `A-Z a-z 0-9 - _ .`.
    pub id: String,
    /// Document kind.
    pub document: DocumentKind,
    /// Issuing authority's name.
    pub issuer: String,
    /// Holder details.
    pub holder: Holder,
    /// Portrait reference.
    pub portrait: PortraitRef,
    /// Commitment to the wallet's device key: `HMAC-SHA256(K_dev, "holoid/v2/device-check")[..16]`
    /// (an HMAC, so a wallet whose key stays in a keystore that only computes HMACs can check it),
    /// so a wallet (or renderer) can tell that it holds the right key for this credential.
    pub device_key_check: [u8; 16],
    /// The device enrolment this document is for, from 1; enrolling a new phone issues a new
    /// document with the next epoch and ends this one.
    pub device_epoch: u32,
    /// Where verifiers find this enrolment's status (valid, suspended, revoked).
    pub status: StatusRef,
    /// First valid day.
    pub issued: Date,
    /// Last valid day.
    pub expires: Date,
}

/// A credential with the issuer's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCredential {
    /// The content.
    pub credential: Credential,
    /// Ed25519 signature over [`Credential::canonical_bytes`].
    pub signature: [u8; 64],
}

fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Credential {
    /// The canonical encoding the issuer signs (see the module docs).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = CANONICAL_LABEL.to_vec();
        let h = &self.holder;
        for text in [
            CREDENTIAL_FORMAT,
            &self.id,
            self.document.as_str(),
            &self.issuer,
            &h.name_hangul,
            &h.name_latin,
            &h.birth_date.to_string(),
            &h.resident_number_masked,
            &h.address,
            &self.portrait.file,
        ] {
            push_field(&mut out, text.as_bytes());
        }
        push_field(&mut out, &self.portrait.sha256);
        push_field(&mut out, &self.device_key_check);
        push_field(&mut out, &self.device_epoch.to_be_bytes());
        push_field(&mut out, &self.status.list.to_be_bytes());
        push_field(&mut out, &self.status.index.to_be_bytes());
        push_field(&mut out, self.issued.to_string().as_bytes());
        push_field(&mut out, self.expires.to_string().as_bytes());
        out
    }

    /// Checks every field's rules (the same checks a parsed file passes).
    pub fn validate(&self) -> Result<(), CredentialError> {
        let invalid = |field, reason: &str| {
            Err(CredentialError::InvalidField {
                field,
                reason: reason.to_string(),
            })
        };
        let id_ok = (1..=64).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !id_ok {
            return invalid("id", "1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.'");
        }
        for (field, text, max) in [
            ("issuer", &self.issuer, 80),
            ("holder.name_hangul", &self.holder.name_hangul, 40),
            ("holder.name_latin", &self.holder.name_latin, 60),
            ("holder.address", &self.holder.address, 200),
        ] {
            let chars = text.chars().count();
            if chars == 0 || chars > max || text.trim() != text || text.chars().any(char::is_control) {
                return invalid(
                    field,
                    &format!("1 to {max} characters, no control characters or outer spaces"),
                );
            }
        }
        if !self
            .holder
            .name_hangul
            .chars()
            .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
        {
            return invalid("holder.name_hangul", "must contain Hangul syllables");
        }
        if !self
            .holder
            .name_latin
            .chars()
            .all(|c| c.is_ascii_alphabetic() || " -'".contains(c))
        {
            return invalid("holder.name_latin", "Latin letters, spaces, '-' and ''' only");
        }
        self.validate_resident_number()?;
        let p = &self.portrait.file;
        let file_ok = p.len() <= 100
            && p.ends_with(".png")
            && !p.starts_with('.')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !file_ok {
            return invalid(
                "portrait.file",
                "a plain .png file name beside the credential, no directories",
            );
        }
        if self.device_epoch == 0 {
            return invalid("device_epoch", "enrolments count from 1");
        }
        if self.status.index >= crate::status::LIST_LEN {
            return invalid(
                "status.index",
                &format!("below the status list's {} entries", crate::status::LIST_LEN),
            );
        }
        if self.issued >= self.expires {
            return invalid("expires", "must be after `issued`");
        }
        if self.holder.birth_date > self.issued {
            return invalid("holder.birth_date", "must not be after `issued`");
        }
        Ok(())
    }

    fn validate_resident_number(&self) -> Result<(), CredentialError> {
        let rrn = self.holder.resident_number_masked.as_bytes();
        let shape = rrn.len() == 14
            && rrn[..6].iter().all(u8::is_ascii_digit)
            && rrn[6] == b'-'
            && (b'1'..=b'8').contains(&rrn[7])
            && rrn[8..].iter().all(|&b| b == b'*');
        if !shape {
            return Err(CredentialError::InvalidField {
                field: "holder.resident_number_masked",
                reason: "must be YYMMDD-G****** (six digits, '-', a digit 1-8, six '*')".to_string(),
            });
        }
        let b = self.holder.birth_date;
        let expected = format!("{:02}{:02}{:02}", b.year() % 100, b.month(), b.day());
        if rrn[..6] != *expected.as_bytes() {
            return Err(CredentialError::InvalidField {
                field: "holder.resident_number_masked",
                reason: format!(
                    "starts with {}, but the birth date gives {expected}",
                    &self.holder.resident_number_masked[..6]
                ),
            });
        }
        Ok(())
    }

    /// The commitment to `device_key` that [`device_key_check`](Self::device_key_check) holds.
    pub fn device_key_commitment(device_key: &DeviceKey) -> [u8; 16] {
        let h = crate::mac::hmac_sha256(device_key.as_bytes(), &[DEVICE_CHECK_LABEL]);
        let mut c = [0u8; 16];
        c.copy_from_slice(&h[..16]);
        c
    }

    /// Checks that `device_key` is the key this credential was issued for.
    pub fn check_device_key(&self, device_key: &DeviceKey) -> Result<(), CredentialError> {
        self.check_device_mac(device_key)
            .unwrap_or(Err(CredentialError::WrongDeviceKey))
    }

    /// Checks that the key behind `mac` (a keystore's, or a key) is the one this credential was
    /// issued for; the outer error is the keystore's own failure.
    pub fn check_device_mac(
        &self,
        mac: &dyn crate::keys::DeviceMac,
    ) -> Result<Result<(), CredentialError>, crate::keys::KeystoreError> {
        use subtle::ConstantTimeEq;
        let h = mac.device_hmac(DEVICE_CHECK_LABEL)?;
        let ok: bool = h[..16].ct_eq(&self.device_key_check).into();
        Ok(if ok {
            Ok(())
        } else {
            Err(CredentialError::WrongDeviceKey)
        })
    }

    /// Checks that the credential is valid at `at`: from the first millisecond of `issued`
    /// to the last of `expires` (UTC).
    pub fn check_valid_at(&self, at: UnixMillis) -> Result<(), CredentialError> {
        let start = self.issued.start().unwrap_or(UnixMillis(0));
        if at < start {
            return Err(CredentialError::NotYetValid {
                issued: self.issued,
                at,
            });
        }
        if at.date() > self.expires {
            return Err(CredentialError::Expired {
                expires: self.expires,
                at,
            });
        }
        Ok(())
    }

    /// Signs the credential after checking its fields.
    pub fn sign(self, issuer: &IssuerSecret) -> Result<SignedCredential, CredentialError> {
        self.validate()?;
        let signature = issuer.sign(&self.canonical_bytes());
        Ok(SignedCredential {
            credential: self,
            signature,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderFile {
    name_hangul: String,
    name_latin: String,
    birth_date: String,
    resident_number_masked: String,
    address: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortraitFile {
    file: String,
    sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    format: String,
    id: String,
    document: DocumentKind,
    issuer: String,
    holder: HolderFile,
    portrait: PortraitFile,
    device_key_check: String,
    device_epoch: u32,
    status: StatusRef,
    issued: String,
    expires: String,
    signature: String,
}

fn parse_date(field: &'static str, s: &str) -> Result<Date, CredentialError> {
    s.parse()
        .map_err(|e: crate::time::TimeError| CredentialError::InvalidField {
            field,
            reason: e.to_string(),
        })
}

fn parse_hex<const N: usize>(field: &'static str, s: &str) -> Result<[u8; N], CredentialError> {
    from_hex::<N>(s).map_err(|_| CredentialError::InvalidField {
        field,
        reason: format!("must be {} lowercase hex digits", 2 * N),
    })
}

impl SignedCredential {
    /// Parses a credential file and checks its fields. The signature is not checked: call
    /// [`verify`](Self::verify).
    pub fn from_json(text: &str) -> Result<SignedCredential, CredentialError> {
        let f: CredentialFile = serde_json::from_str(text).map_err(|e| CredentialError::Json {
            message: e.to_string(),
        })?;
        if f.format != CREDENTIAL_FORMAT {
            return Err(CredentialError::UnsupportedFormat(f.format));
        }
        let credential = Credential {
            id: f.id,
            document: f.document,
            issuer: f.issuer,
            holder: Holder {
                name_hangul: f.holder.name_hangul,
                name_latin: f.holder.name_latin,
                birth_date: parse_date("holder.birth_date", &f.holder.birth_date)?,
                resident_number_masked: f.holder.resident_number_masked,
                address: f.holder.address,
            },
            portrait: PortraitRef {
                file: f.portrait.file,
                sha256: parse_hex("portrait.sha256", &f.portrait.sha256)?,
            },
            device_key_check: parse_hex("device_key_check", &f.device_key_check)?,
            device_epoch: f.device_epoch,
            status: f.status,
            issued: parse_date("issued", &f.issued)?,
            expires: parse_date("expires", &f.expires)?,
        };
        credential.validate()?;
        let signature = parse_hex("signature", &f.signature)?;
        Ok(SignedCredential {
            credential,
            signature,
        })
    }

    /// The credential file, pretty-printed JSON ending in a newline.
    pub fn to_json(&self) -> String {
        let c = &self.credential;
        let f = CredentialFile {
            format: CREDENTIAL_FORMAT.to_string(),
            id: c.id.clone(),
            document: c.document,
            issuer: c.issuer.clone(),
            holder: HolderFile {
                name_hangul: c.holder.name_hangul.clone(),
                name_latin: c.holder.name_latin.clone(),
                birth_date: c.holder.birth_date.to_string(),
                resident_number_masked: c.holder.resident_number_masked.clone(),
                address: c.holder.address.clone(),
            },
            portrait: PortraitFile {
                file: c.portrait.file.clone(),
                sha256: to_hex(&c.portrait.sha256),
            },
            device_key_check: to_hex(&c.device_key_check),
            device_epoch: c.device_epoch,
            status: c.status,
            issued: c.issued.to_string(),
            expires: c.expires.to_string(),
            signature: to_hex(&self.signature),
        };
        let mut s = serde_json::to_string_pretty(&f).expect("a credential always serialises");
        s.push('\n');
        s
    }

    /// Checks the issuer's signature and returns the content it covers.
    pub fn verify(&self, issuer: &IssuerPublic) -> Result<&Credential, CredentialError> {
        if issuer.verify(&self.credential.canonical_bytes(), &self.signature) {
            Ok(&self.credential)
        } else {
            Err(CredentialError::BadSignature)
        }
    }
}
