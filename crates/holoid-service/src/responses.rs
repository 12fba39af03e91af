//! The service's public JSON: one serde type per answer. `/openapi.json` documents these
//! types (its `components.schemas` use the same names), and the service tests check every
//! documented schema against them, field for field, and every answer they get against the
//! document.

use serde::{Deserialize, Serialize};

use holoid_detect::verdict::VerdictReport;

/// Every answer other than success: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A stable code and a sentence; no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, e.g. `bad_image`, `forbidden`, `busy`.
    pub code: String,
    /// A sentence for the caller.
    pub message: String,
}

/// `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` (HTTP 503) while the database cannot be reached or the audit log
    /// fails its check (`problem` says which).
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Digital copies held; absent when the database cannot be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies_stored: Option<i64>,
    /// The service's version.
    pub version: String,
    /// What is wrong (status `degraded`): the database unreachable, or why audited writes are
    /// refused; absent when all is well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `GET /v1/me`: who the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// `officer`, `admin` or `auditor`.
    pub role: String,
    /// The office the token works for.
    pub office: String,
    /// The person's name.
    pub name: String,
    /// What the token lets them see: `identity`, `age` or `kiosk`.
    pub view: String,
    /// The age threshold of an `age` view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_over: Option<u8>,
}

/// `POST /v1/credentials`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialCreated {
    /// The credential registered.
    pub credential_id: String,
}

/// `POST /v1/checks`: the detector's verdict and the check's id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The id to read the check again or copy the card.
    pub check_id: String,
    /// The credential's status in the service's records when it was checked (null when the
    /// service holds no enrolment for it, and in checks stored before this field).
    #[serde(default)]
    pub credential_status: Option<CheckStatus>,
    /// The verdict, its fields at the top level.
    #[serde(flatten)]
    pub verdict: VerdictReport,
    /// Who the card belongs to, from the service's registered record (not the photo): for a
    /// genuine check, to `identity` tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderRecord>,
    /// Whether the holder is old enough: for a genuine check, to `age` tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_check: Option<AgeCheck>,
    /// The registered portrait (PNG) to compare with the person's face: for a genuine
    /// check, to `identity` and `age` tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait_url: Option<String>,
}

/// The card holder's registered record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderRecord {
    /// Name in Hangul.
    pub name_hangul: String,
    /// Name in Latin letters.
    pub name_latin: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Age in completed years on the day of the check (the date in Korea, UTC+9).
    pub age: u16,
    /// Resident registration number, its last six digits masked.
    pub resident_number_masked: String,
    /// Address.
    pub address: String,
    /// `resident_registration` or `driving_licence`.
    pub document: String,
    /// The credential's last valid day, `YYYY-MM-DD`.
    pub expires: String,
}

/// An age check: the only personal fact an `age` token is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeCheck {
    /// The threshold in completed years (the token's).
    pub threshold: u8,
    /// The holder is at least `threshold` years old on the day of the check.
    pub old_enough: bool,
    /// `19+` or `under 19`.
    pub label: String,
}

/// `POST /v1/checks/{id}/holder`: the officer's answer, does the person match the registered
/// portrait.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderAnswerJson {
    /// The check answered.
    pub check_id: String,
    /// The person matches.
    pub matches: bool,
    /// When, RFC 3339.
    pub answered_at: String,
}

/// The status of the credential's current enrolment, as a check saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatus {
    /// `valid`, `suspended`, `revoked` or `replaced`.
    pub status: String,
    /// The current device enrolment.
    pub device_epoch: i64,
    /// When the status last changed.
    pub changed_at: String,
}

/// `GET /v1/checks/{id}`: a stored check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredCheck {
    /// What `POST /v1/checks` answered.
    #[serde(flatten)]
    pub result: CheckResult,
    /// The office that made it.
    pub office: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// Whether the straightened card (`card.png`) is still kept.
    pub card_image_kept: bool,
    /// The officer's answer (does the person match the registered portrait), once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_answer: Option<HolderAnswerJson>,
}

/// The signed record of a copy: its canonical JSON (keys sorted, no spaces) is exactly the
/// bytes signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRecordJson {
    /// Always `holoid/v1/copy`.
    pub version: String,
    /// The copy.
    pub copy_id: String,
    /// The genuine check it was made from.
    pub check_id: String,
    /// The credential verified.
    pub credential_id: String,
    /// The office that made it.
    pub office: String,
    /// The officer who made it.
    pub officer: String,
    /// Why, as the officer stated it.
    pub purpose: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; the copy is deleted then.
    pub expires_at: String,
    /// SHA-256 of the copy's PNG, hex.
    pub image_sha256: String,
    /// [`holoid_core::keys::IssuerPublic::key_id`] of the copy key that signed (absent in
    /// records made before key ids): after the key is rotated, old copies are checked with the
    /// retired key of this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// A verified digital copy (`POST /v1/copies`, `GET /v1/copies/{id}`, the list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copy {
    /// The copy's id.
    pub id: String,
    /// The signed record, parsed.
    pub record: CopyRecordJson,
    /// Exactly the signed bytes.
    pub record_json: String,
    /// Ed25519 over `"holoid/v1/copy-signature" ‖ record_json`, hex.
    pub signature: String,
    /// Whether the signature verifies with `public_key`.
    pub signature_valid: bool,
    /// The copy key that signed (the current one or a retired one, by the record's key id),
    /// hex; the current key when no known key verifies the signature.
    pub public_key: String,
    /// Where the copy's image is.
    pub image_url: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// `GET /v1/copies`: one page, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyList {
    /// Whose copies.
    pub office: String,
    /// The page.
    pub copies: Vec<Copy>,
    /// `before` for the next page; null on the last.
    pub next_before: Option<i64>,
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryJson {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    /// The token id that acted.
    pub actor: String,
    /// Its office.
    pub office: String,
    /// What was done, e.g. `copy_create`.
    pub action: String,
    /// What it was done to (an id).
    pub subject: String,
    /// The chain hash after this entry, hex.
    pub hash: String,
}

/// Whether the whole log verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// True when the chain and the signed head agree.
    pub ok: bool,
    /// Entries verified, when ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<i64>,
    /// What is broken, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `GET /v1/audit`: a page of the log and the whole log's verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Entries after `after`, oldest first.
    pub entries: Vec<AuditEntryJson>,
    /// The whole log's check.
    pub verification: AuditVerification,
}

/// `GET /v1/audit/consistency`: the latest signed head and the proof that the log of `from`
/// entries is its prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConsistency {
    /// The size of the older head.
    pub from: i64,
    /// The RFC 6962 consistency proof `PROOF(from, D[head.size])`: hashes, hex.
    pub proof: Vec<String>,
    /// The latest signed head.
    pub head: crate::audit::TreeHead,
}

/// `GET /v1/records/{locator}`: what the console's WebAssembly detector measures a card's
/// photos against (issue #22), for the credential whose code carries that locator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordJson {
    /// The credential's signed record as registered (JSON): the lettering the card must show.
    pub credential: String,
    /// The registered portrait as the detector compares it, hex: a 12 × 16 grid of colours at
    /// five blurs (`holoid_detect::content::Reference::to_bytes`), not the portrait file.
    pub portrait_cells: String,
}

/// `GET /v1/credentials/{id}/status` and the answer to a suspension, resumption or
/// revocation: the current enrolment's status and the whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialStatus {
    /// The credential.
    pub credential_id: String,
    /// Its current device enrolment.
    pub device_epoch: i64,
    /// `valid`, `suspended` or `revoked` (`replaced` only for earlier enrolments).
    pub status: String,
    /// Why, as stated when it changed.
    pub reason: String,
    /// When it last changed, RFC 3339.
    pub changed_at: String,
    /// The status list that publishes it.
    pub status_list: i64,
    /// Its index in that list.
    pub status_index: i64,
    /// Every change, oldest first.
    pub history: Vec<StatusEvent>,
}

/// One change of an enrolment's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// The enrolment it changed.
    pub epoch: i64,
    /// The new status.
    pub status: String,
    /// Why.
    pub reason: String,
    /// When, RFC 3339.
    pub at: String,
    /// The token id that changed it.
    pub actor: String,
    /// Its office.
    pub office: String,
}

/// `POST /v1/credentials/{id}/offers` and `GET /v1/offers/{id}`: a one-time enrolment offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentOffer {
    /// The offer's id.
    pub offer_id: String,
    /// The credential it enrols on a phone.
    pub credential_id: String,
    /// `pending` (waiting for the phone), `enrolled` (a phone took it) or `expired`.
    pub state: String,
    /// While pending: the text the QR code holds (the phone sends it to `POST /v1/enrol`).
    pub offer: Option<String>,
    /// While pending: the QR code, a PNG.
    pub qr_url: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it stops being usable.
    pub expires_at: String,
    /// Seconds until then (0 once passed).
    pub expires_in_s: i64,
    /// Once enrolled: the phone's device epoch.
    pub device_epoch: Option<i64>,
    /// Once enrolled: when.
    pub enrolled_at: Option<String>,
}

/// `POST /v1/enrol`'s body and answer (the wallet's side is in `holoid_core::enrol`).
pub use holoid_core::enrol::{EnrolRequest, Enrolment, SealedKey};
