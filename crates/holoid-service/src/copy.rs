//! The digital copy of a verified card: the card as the verifier's camera saw it, cut out and
//! straightened, under a visible 사본 / VERIFIED COPY overlay with the office, officer, time and
//! purpose; and a record of it signed with the service's Ed25519 key. Pure: no I/O.

use image::{Rgb, RgbImage, RgbaImage};

use crate::responses::CopyRecordJson;
use holoid_core::encoding::to_hex;
use holoid_core::keys::{IssuerPublic, IssuerSecret};
use holoid_core::mac::sha256;
use holoid_core::time::UnixMillis;
use holoid_text::TextPainter;

/// The copied card's size in pixels (half the 1080 × 2340 design canvas): the size the
/// detector straightens a card to, here and in the console's WebAssembly reader.
pub const COPY_SIZE: (u32, u32) = holoid_detect::rectify::CARD_IMAGE_SIZE;

/// What a copy records; signed as [`CopyRecord::to_json`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyRecord {
    /// Copy id.
    pub copy_id: String,
    /// The genuine check it was made from.
    pub check_id: String,
    /// The credential verified.
    pub credential_id: String,
    /// The office that made it.
    pub office: String,
    /// The officer who made it.
    pub officer: String,
    /// Why (stated by the officer).
    pub purpose: String,
    /// When it was made.
    pub created: UnixMillis,
    /// When it is deleted.
    pub expires: UnixMillis,
    /// SHA-256 of the copy's PNG, hex.
    pub image_sha256: String,
    /// The signing key's id ([`IssuerPublic::key_id`]).
    pub key_id: String,
}

impl CopyRecord {
    /// The record as its public JSON type.
    pub fn to_record(&self) -> CopyRecordJson {
        CopyRecordJson {
            version: "holoid/v1/copy".into(),
            copy_id: self.copy_id.clone(),
            check_id: self.check_id.clone(),
            credential_id: self.credential_id.clone(),
            office: self.office.clone(),
            officer: self.officer.clone(),
            purpose: self.purpose.clone(),
            created_at: self.created.to_rfc3339(),
            expires_at: self.expires.to_rfc3339(),
            image_sha256: self.image_sha256.clone(),
            key_id: Some(self.key_id.clone()),
        }
    }

    /// The record as canonical JSON (keys sorted, no spaces): exactly what is signed.
    pub fn to_json(&self) -> String {
        // Through a `Value`, whose map keeps its keys sorted.
        serde_json::to_value(self.to_record())
            .expect("a copy record is plain data")
            .to_string()
    }
}

/// What a copy signature covers: `"holoid/v1/copy-signature" ‖ record JSON`.
fn signed_message(record_json: &str) -> Vec<u8> {
    [b"holoid/v1/copy-signature".as_slice(), record_json.as_bytes()].concat()
}

/// Signs a record's JSON with the service's copy key.
pub fn sign_record(record_json: &str, key: &IssuerSecret) -> [u8; 64] {
    key.sign(&signed_message(record_json))
}

/// Whether `signature` is the copy key's signature of `record_json`.
pub fn verify_record(record_json: &str, signature: &[u8; 64], key: &IssuerPublic) -> bool {
    key.verify(&signed_message(record_json), signature)
}

/// The key among `keys` (the current copy key first, then retired ones) that verifies a
/// stored record's signature: the one its key id names, or for a record from before key ids,
/// any of them.
pub fn signing_key<'k>(
    record_json: &str,
    signature: &[u8; 64],
    keys: &'k [IssuerPublic],
) -> Option<&'k IssuerPublic> {
    let named = serde_json::from_str::<CopyRecordJson>(record_json)
        .ok()
        .and_then(|r| r.key_id);
    keys.iter()
        .filter(|k| named.as_ref().is_none_or(|id| *id == k.key_id()))
        .find(|k| verify_record(record_json, signature, k))
}

/// What makes two copies of one check "the same purpose": the purpose with its whitespace
/// collapsed and in lower case. One copy is kept per check and purpose.
pub fn purpose_key(purpose: &str) -> String {
    purpose
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&sha256(&[bytes]))
}

/// `label` (premultiplied RGBA) laid over `img` at (`x`, `y`).
fn paste(img: &mut RgbImage, label: &RgbaImage, x: u32, y: u32) {
    for (lx, ly, p) in label.enumerate_pixels() {
        let (ix, iy) = (x + lx, y + ly);
        if ix >= img.width() || iy >= img.height() || p[3] == 0 {
            continue;
        }
        let a = f32::from(p[3]) / 255.0;
        let q = img.get_pixel_mut(ix, iy);
        for c in 0..3 {
            q[c] = (f32::from(p[c]) + f32::from(q[c]) * (1.0 - a)).round().min(255.0) as u8;
        }
    }
}

/// Tints the rows `y0..y1` toward `rgb` by `a`.
fn band(img: &mut RgbImage, y0: u32, y1: u32, rgb: [u8; 3], a: f32) {
    for y in y0..y1.min(img.height()) {
        for x in 0..img.width() {
            let p = img.get_pixel_mut(x, y);
            *p = Rgb(std::array::from_fn(|c| {
                (f32::from(p[c]) * (1.0 - a) + f32::from(rgb[c]) * a).round() as u8
            }));
        }
    }
}

/// The copy's image: `card` (any size, scaled to [`COPY_SIZE`]) with a red 사본 / VERIFIED
/// COPY band across the middle and a footer with the details.
pub fn copy_image(card: &RgbImage, record: &CopyRecord) -> RgbImage {
    let (w, h) = COPY_SIZE;
    let mut img = if card.dimensions() == COPY_SIZE {
        card.clone()
    } else {
        image::imageops::resize(card, w, h, image::imageops::FilterType::Triangle)
    };
    let mut text = TextPainter::new();
    // The mark: a band over the middle of the card, over the emblem and the clock.
    band(&mut img, 560, 680, [200, 30, 40], 0.55);
    let mark = text.label("사본 · VERIFIED COPY", 44.0, true, [255, 255, 255], w - 40, 70);
    paste(&mut img, &mark, 30, 588);
    // The details: a pale footer over the code and the bottom marks.
    band(&mut img, h - 230, h, [255, 255, 255], 0.88);
    let lines = [
        ("사본 / VERIFIED COPY".to_string(), 24.0, true),
        (
            format!("Office {} · Officer {}", record.office, record.officer),
            19.0,
            false,
        ),
        (format!("Verified {}", record.created.to_rfc3339()), 19.0, false),
        (format!("Purpose: {}", record.purpose), 19.0, false),
        (format!("Credential {}", record.credential_id), 19.0, false),
        (format!("Copy {}", record.copy_id), 16.0, false),
    ];
    for (i, (line, size, bold)) in lines.iter().enumerate() {
        let label = text.label(line, *size, *bold, [30, 30, 40], w - 36, 34);
        paste(&mut img, &label, 18, h - 222 + 36 * i as u32);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> CopyRecord {
        CopyRecord {
            copy_id: "c1".into(),
            check_id: "k1".into(),
            credential_id: "KR-RRC-1".into(),
            office: "seoul-jongno".into(),
            officer: "Officer Kim".into(),
            purpose: "bank account opening".into(),
            created: UnixMillis(1_795_603_792_000),
            expires: UnixMillis(1_798_195_792_000),
            image_sha256: "00".repeat(32),
            key_id: IssuerSecret::from_bytes([3; 32]).public().key_id(),
        }
    }

    #[test]
    fn records_are_canonical_and_signed() {
        let r = record();
        let j = r.to_json();
        assert!(j.starts_with("{\"check_id\":\"k1\",\"copy_id\":\"c1\""), "{j}");
        assert!(j.contains(&format!("\"key_id\":\"{}\"", r.key_id)), "{j}");
        let key = IssuerSecret::from_bytes([3; 32]);
        let sig = sign_record(&j, &key);
        assert!(verify_record(&j, &sig, &key.public()));
        assert!(!verify_record(&j.replace("bank", "loan"), &sig, &key.public()));
        assert!(!verify_record(
            &j,
            &sig,
            &IssuerSecret::from_bytes([4; 32]).public()
        ));
    }

    #[test]
    fn the_key_id_picks_the_retired_key_that_signed() {
        let (old, new) = (
            IssuerSecret::from_bytes([3; 32]),
            IssuerSecret::from_bytes([4; 32]),
        );
        let ring = [new.public(), old.public()];
        let j = record().to_json();
        let sig = sign_record(&j, &old);
        assert_eq!(signing_key(&j, &sig, &ring), Some(&ring[1]));
        assert_eq!(signing_key(&j, &sig, &ring[..1]), None);
        // A record naming another key is not checked against the keys it does not name.
        let renamed = j.replace(&old.public().key_id(), &new.public().key_id());
        let sig = sign_record(&renamed, &old);
        assert_eq!(signing_key(&renamed, &sig, &ring), None);
        // A record from before key ids: any key of the ring.
        let mut legacy: serde_json::Value = serde_json::from_str(&j).unwrap();
        legacy.as_object_mut().unwrap().remove("key_id");
        let legacy = legacy.to_string();
        let sig = sign_record(&legacy, &old);
        assert_eq!(signing_key(&legacy, &sig, &ring), Some(&ring[1]));
    }

    #[test]
    fn purposes_differ_by_words_not_by_spacing_or_case() {
        assert_eq!(purpose_key("  Bank   account\topening "), "bank account opening");
        assert_ne!(purpose_key("bank account"), purpose_key("bank loan"));
    }

    #[test]
    fn the_copy_carries_the_mark_and_the_details() {
        let card = RgbImage::from_pixel(270, 585, Rgb([230, 235, 240]));
        let img = copy_image(&card, &record());
        assert_eq!(img.dimensions(), COPY_SIZE);
        // The band is red, the footer text dark on pale.
        let p = img.get_pixel(10, 570);
        assert!(p[0] > 150 && p[1] < 150, "{p:?}");
        let dark = (COPY_SIZE.1 - 230..COPY_SIZE.1)
            .flat_map(|y| (0..COPY_SIZE.0).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] < 100)
            .count();
        assert!(dark > 2000, "the footer has {dark} dark pixels of text");
    }
}
