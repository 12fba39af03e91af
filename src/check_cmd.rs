//! `holoid check`: the forgery check of photos of a phone screen against a credential.
//! Part of the `holoid` binary.

use std::path::{Path, PathBuf};

use crate::files::read_limited;
use holoid_core::credential::Credential;
use holoid_core::keys::{DeviceKey, IssuerPublic, MasterKey};
use holoid_core::status::{self, Status};
use holoid_core::time::UnixMillis;
use holoid_detect::input::{DEFAULT_MAX_PIXELS, decode_photo};
use holoid_detect::{Capture, Decision, Detector, DetectorConfig, StatusFinding, Trust};

use crate::{Failure, MAX_PORTRAIT_BYTES, Outcome, load_credential, load_key, portrait_beside, usage};

/// Exit statuses of `holoid check`.
pub const CHECK_EXIT_HELP: &str = "Exit status: 0 genuine, 3 forgery, 4 inconclusive (retake the \
photo), 1 the credential is not valid (bad issuer signature), 2 bad usage or an unreadable file \
(a damaged or oversized image, a key that does not belong to the credential).";

/// Checks photos of a phone screen: genuine, forgery or inconclusive, with reasons.
///
/// One photo, or a burst in the order taken, is checked against a credential.
/// The card is found by its corner marks; its code must carry an authentic tag for a window
/// the capture time accepts; its time sweep must show the capture time within the clock
/// tolerance; its portrait must be the credential's; a burst must advance with its frame
/// times.
#[derive(clap::Args)]
#[command(
    after_help = format!("{CHECK_EXIT_HELP}\n\nExample:\n  holoid check --credential id/credential.json \
    --master-key id/master.key \\\n      --at 2026-11-25T10:49:52.250Z photo.jpg\n\nExample with a burst of three photos:\n  holoid check \
    --credential id/credential.json --master-key id/master.key --json \\\n      --at 1795603792.25 \
    --frame-times 1795603792.5,1795603792.75 a.jpg b.jpg c.jpg")
)]
pub struct CheckCli {
    /// The credential file (JSON); its portrait is read from beside it.
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
    /// The pattern master key file (the verifier derives the device key from it).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "device_key",
        conflicts_with = "device_key"
    )]
    master_key: Option<PathBuf>,
    /// Or the credential's device key file.
    #[arg(long, value_name = "FILE")]
    device_key: Option<PathBuf>,
    /// The issuer's public key: when given, the credential's signature is checked first.
    #[arg(long, value_name = "FILE")]
    issuer_pub: Option<PathBuf>,
    /// When the (first) photo was taken: Unix seconds or RFC 3339. By default, the time the
    /// photo's EXIF records (DateTimeOriginal with its OffsetTimeOriginal time zone and
    /// SubSecTimeOriginal); a photo without one must be given --at.
    #[arg(long, value_name = "TIME")]
    at: Option<UnixMillis>,
    /// When the second, third, ... photos were taken, comma-separated (one per photo after
    /// the first). By default, with no --at either, each photo's EXIF time.
    #[arg(long, value_name = "T2,T3,...", value_delimiter = ',')]
    frame_times: Vec<UnixMillis>,
    /// How far the card's sweep may be from the capture time, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DetectorConfig::default().clock_tolerance_ms)]
    clock_tolerance: u64,
    /// The largest photo accepted, megapixels (checked before decoding).
    #[arg(long, value_name = "MP", default_value_t = DEFAULT_MAX_PIXELS / 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=500))]
    max_megapixels: u64,
    /// The issuer's signed status list (a statuslist+jwt, as GET /v1/status-lists/N serves
    /// it) for checking offline: a suspended or revoked card is a forgery; a list that is
    /// expired, not signed by --issuer-pub, for another list or unreadable leaves the status
    /// unknown and the verdict at best inconclusive. Freshness is judged at the capture time.
    #[arg(long, value_name = "FILE", requires = "issuer_pub")]
    status_list: Option<PathBuf>,
    /// Print the verdict as JSON (decision, score, reasons, window, frames, timings).
    #[arg(long)]
    json: bool,
    /// The photos (JPEG or PNG), in the order taken.
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<PathBuf>,
}

/// The biggest photo file read: 64 MiB.
const MAX_PHOTO_BYTES: u64 = 64 << 20;

/// Reads a photo file, with its path in any error.
pub(crate) fn load_photo(path: &Path, max_pixels: u64) -> Result<image::RgbImage, String> {
    let bytes = read_limited(path, "photo", MAX_PHOTO_BYTES).map_err(|e| e.to_string())?;
    decode_photo(&bytes, max_pixels).map_err(|e| format!("photo `{}`: {e}", path.display()))
}

/// The trust context from the command's files.
pub(crate) fn load_trust(
    credential: &Path,
    master_key: Option<&Path>,
    device_key: Option<&Path>,
    issuer_pub: Option<&Path>,
) -> Result<Trust, Failure> {
    let signed = load_credential(credential)?;
    if let Some(p) = issuer_pub {
        let issuer = load_key(p, "issuer public key", IssuerPublic::from_text)?;
        signed
            .verify(&issuer)
            .map_err(|e| Failure::Invalid(e.to_string()))?;
    }
    let c = &signed.credential;
    let portrait_path = portrait_beside(credential, c);
    let portrait = read_limited(&portrait_path, "portrait", MAX_PORTRAIT_BYTES).map_err(usage)?;
    let key = match (master_key, device_key) {
        (Some(m), _) => load_key(m, "master key", MasterKey::from_text)?.device_key_for(c),
        (None, Some(d)) => load_key(d, "device key", DeviceKey::from_text)?,
        (None, None) => return Err(usage("give --master-key or --device-key")),
    };
    Trust::new(c, key, &portrait).map_err(|e| usage(format!("credential `{}`: {e}", credential.display())))
}

/// When a photo was taken, as its EXIF records it: DateTimeOriginal in the time zone of
/// OffsetTimeOriginal, to the SubSecTimeOriginal fraction when there is one. A camera's
/// clock may be off: the detector judges freshness against this time, so a verifier should
/// keep its cameras' clocks synchronised. The error says what is missing.
pub(crate) fn exif_capture_time(photo: &[u8]) -> Result<UnixMillis, String> {
    use exif::{In, Tag, Value};
    let data = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(photo))
        .map_err(|_| "carries no EXIF data".to_string())?;
    let ascii = |tag: Tag| match data.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().map(Vec::as_slice),
        _ => None,
    };
    let original = ascii(Tag::DateTimeOriginal).ok_or("has no EXIF DateTimeOriginal")?;
    let mut t = exif::DateTime::from_ascii(original)
        .map_err(|e| format!("has an unreadable EXIF DateTimeOriginal ({e})"))?;
    let offset = ascii(Tag::OffsetTimeOriginal)
        .ok_or("has an EXIF DateTimeOriginal without a time zone (no OffsetTimeOriginal)")?;
    t.parse_offset(offset)
        .map_err(|e| format!("has an unreadable EXIF OffsetTimeOriginal ({e})"))?;
    if let Some(subsec) = ascii(Tag::SubSecTimeOriginal) {
        t.parse_subsec(subsec)
            .map_err(|e| format!("has an unreadable EXIF SubSecTimeOriginal ({e})"))?;
    }
    let offset = t.offset.unwrap_or(0);
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}{:02}:{:02}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanosecond.unwrap_or(0) / 1_000_000,
        if offset < 0 { '-' } else { '+' },
        offset.unsigned_abs() / 60,
        offset.unsigned_abs() % 60
    );
    text.parse()
        .map_err(|_| format!("has an impossible EXIF capture time ({text})"))
}

/// The largest status list file read: 1 MiB (a list of 2^20 entries is a few kB).
const MAX_STATUS_LIST_BYTES: u64 = 1 << 20;

/// What a signed status list file says of `credential`'s enrolment at `at`. A file that
/// cannot be read is a usage error; one that reads but cannot be trusted is an unknown
/// status (never a status).
fn offline_status(
    path: &Path,
    issuer: &IssuerPublic,
    credential: &Credential,
    at: UnixMillis,
) -> Result<StatusFinding, Failure> {
    let bytes = read_limited(path, "status list", MAX_STATUS_LIST_BYTES).map_err(usage)?;
    Ok(match std::str::from_utf8(&bytes) {
        Ok(text) => status_from_list(text, issuer, credential, at),
        Err(_) => StatusFinding::Unknown("status unknown: the status list file is not text".into()),
    })
}

/// What a signed status list (`statuslist+jwt` text) says of `credential`'s enrolment at
/// `at`: a list that cannot be trusted there gives an unknown status.
pub(crate) fn status_from_list(
    token: &str,
    issuer: &IssuerPublic,
    credential: &Credential,
    at: UnixMillis,
) -> StatusFinding {
    let list = match status::verify(
        token,
        issuer,
        &status::subject(credential.status.list),
        at.0 / 1000,
    ) {
        Ok(list) => list,
        Err(e) => return StatusFinding::Unknown(format!("status unknown: {e}")),
    };
    let issued = UnixMillis(list.claims.iat * 1000).to_rfc3339();
    match list.status(credential.status.index) {
        Ok(Status::Valid) => StatusFinding::Valid,
        Ok(Status::Suspended) => StatusFinding::Suspended(format!(
            "the issuer's status list of {issued} marks this card suspended (reported lost): do not accept"
        )),
        Ok(Status::Invalid) => StatusFinding::Revoked(format!(
            "the issuer's status list of {issued} marks this card no longer valid (revoked, or moved \
             to another phone): do not accept"
        )),
        Ok(Status::Reserved) => StatusFinding::Unknown(format!(
            "status unknown: the issuer's status list of {issued} holds a value holoid does not use"
        )),
        Err(e) => StatusFinding::Unknown(format!("status unknown: {e}")),
    }
}

pub fn run(a: &CheckCli) -> Outcome {
    if a.images.len() > 16 {
        return Err(usage(format!("{} photos: a burst is at most 16", a.images.len())));
    }
    if (a.at.is_some() || !a.frame_times.is_empty()) && a.frame_times.len() + 1 != a.images.len() {
        return Err(usage(format!(
            "{} photos need {} --frame-times (one per photo after the first), got {}",
            a.images.len(),
            a.images.len() - 1,
            a.frame_times.len()
        )));
    }
    let trust = load_trust(
        &a.credential,
        a.master_key.as_deref(),
        a.device_key.as_deref(),
        a.issuer_pub.as_deref(),
    )?;
    let detector = Detector::builder(trust)
        .clock_tolerance_ms(a.clock_tolerance)
        .build()
        .map_err(usage)?;
    let max_pixels = a.max_megapixels * 1_000_000;
    let mut photos = Vec::with_capacity(a.images.len());
    let mut exif_times = Vec::with_capacity(a.images.len());
    for path in &a.images {
        let bytes = read_limited(path, "photo", MAX_PHOTO_BYTES).map_err(usage)?;
        photos.push(
            decode_photo(&bytes, max_pixels)
                .map_err(|e| usage(format!("photo `{}`: {e}", path.display())))?,
        );
        exif_times.push(exif_capture_time(&bytes));
    }
    let times: Vec<UnixMillis> = match a.at {
        Some(at) => std::iter::once(at).chain(a.frame_times.iter().copied()).collect(),
        None => {
            // The first photo's time, and the later ones' unless --frame-times gives them.
            let mut times = Vec::with_capacity(a.images.len());
            for (i, (path, exif)) in a.images.iter().zip(exif_times).enumerate() {
                let given = i.checked_sub(1).and_then(|j| a.frame_times.get(j));
                times.push(match given {
                    Some(&t) => t,
                    None => exif.map_err(|why| {
                        usage(format!(
                            "photo `{}` {why}: give the time it was taken with --at (and --frame-times for a burst)",
                            path.display()
                        ))
                    })?,
                });
            }
            let read = if a.frame_times.is_empty() {
                &times[..]
            } else {
                &times[..1]
            };
            eprintln!(
                "{} from the {} EXIF: {}",
                if read.len() > 1 {
                    "capture times"
                } else {
                    "capture time"
                },
                if read.len() > 1 { "photos'" } else { "photo's" },
                read.iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>().join(", ")
            );
            times
        }
    };
    let captures: Vec<Capture<'_>> = photos
        .iter()
        .zip(&times)
        .map(|(image, &time)| Capture { image, time })
        .collect();
    let mut verdict = detector.check(&captures).map_err(usage)?;
    if let (Some(list), Some(issuer)) = (&a.status_list, &a.issuer_pub) {
        let issuer = load_key(issuer, "issuer public key", IssuerPublic::from_text)?;
        let signed = load_credential(&a.credential)?;
        let finding = offline_status(list, &issuer, &signed.credential, times[0])?;
        verdict = verdict.with_status(&finding);
    }
    if a.json {
        println!("{}", verdict.to_json());
    } else {
        print!("{verdict}");
    }
    match verdict.decision {
        Decision::Genuine => Ok(()),
        Decision::Forgery => Err(Failure::Status(3)),
        Decision::Inconclusive => Err(Failure::Status(4)),
    }
}
