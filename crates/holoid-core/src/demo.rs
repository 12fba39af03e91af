//! A synthetic but plausible demo identity: keys, a signed credential and a portrait, all
//! determined by one seed, for demos, tests and benchmarks. Nothing here is a real person.
//!
//! Keys are derived from the seed with SHA-256 (`"holoid/demo/<name>" || seed`), so they
//! are public knowledge: never use them outside demos. Encodes a PNG in memory; writes no
//! files (the CLI does).

use image::{ImageEncoder, Rgb, RgbImage};

use crate::credential::{Credential, DocumentKind, Holder, PortraitRef, SignedCredential};
use crate::keys::{IssuerSecret, MasterKey};
use crate::mac::sha256;
use crate::status::StatusRef;
use crate::time::Date;

/// Portrait width in pixels (3:4 with the height).
pub const PORTRAIT_WIDTH: u32 = 360;
/// Portrait height in pixels.
pub const PORTRAIT_HEIGHT: u32 = 480;
/// File name the portrait is stored under, beside the credential.
pub const PORTRAIT_FILE: &str = "portrait.png";

/// Everything a demo needs, derived from one seed.
#[derive(Debug)]
pub struct DemoIdentity {
    /// The issuer's signing key.
    pub issuer: IssuerSecret,
    /// The pattern master key `M`.
    pub master: MasterKey,
    /// The signed credential.
    pub credential: SignedCredential,
    /// The portrait as PNG bytes (hashed into the credential).
    pub portrait_png: Vec<u8>,
}

const SURNAMES: [(&str, &str); 8] = [
    ("김", "KIM"),
    ("이", "LEE"),
    ("박", "PARK"),
    ("최", "CHOI"),
    ("정", "JUNG"),
    ("강", "KANG"),
    ("조", "CHO"),
    ("윤", "YOON"),
];
const GIVEN_NAMES: [(&str, &str); 8] = [
    ("민준", "MINJUN"),
    ("서연", "SEOYEON"),
    ("지호", "JIHO"),
    ("하은", "HAEUN"),
    ("도윤", "DOYUN"),
    ("수아", "SUA"),
    ("예준", "YEJUN"),
    ("지우", "JIWOO"),
];
const ADDRESSES: [&str; 6] = [
    "서울특별시 종로구 세종대로 209",
    "부산광역시 해운대구 센텀중앙로 79",
    "대전광역시 서구 둔산로 100",
    "인천광역시 연수구 컨벤시아대로 165",
    "광주광역시 서구 내방로 111",
    "세종특별자치시 한누리대로 2130",
];

/// 32 bytes for `name`, determined by the seed.
fn demo_bytes(name: &str, seed: u64) -> [u8; 32] {
    sha256(&[b"holoid/demo/", name.as_bytes(), &seed.to_be_bytes()])
}

/// The status entry the demo issuer gives enrolment `epoch` of credential `id`: list 1, an
/// index drawn from both.
fn demo_status_entry(id: &str, epoch: u32) -> StatusRef {
    let r = sha256(&[b"holoid/demo/status", id.as_bytes(), &epoch.to_be_bytes()]);
    StatusRef {
        list: 1,
        index: u32::from_be_bytes([r[0], r[1], r[2], r[3]]) % crate::status::LIST_LEN,
    }
}

impl DemoIdentity {
    /// The credential document of device enrolment `epoch` (the identity's own is epoch 1):
    /// the same holder, the commitment to that enrolment's device key and its own status
    /// entry, signed by the demo issuer — what the issuer hands a new phone.
    pub fn enrolment(&self, epoch: u32) -> SignedCredential {
        let mut c = self.credential.credential.clone();
        c.device_epoch = epoch;
        c.device_key_check = Credential::device_key_commitment(&self.master.device_key(&c.id, epoch));
        c.status = demo_status_entry(&c.id, epoch);
        c.sign(&self.issuer).expect("demo credential fields are valid")
    }

    /// The demo identity of `seed`; the same seed always gives the same bytes.
    pub fn generate(seed: u64) -> DemoIdentity {
        let r = demo_bytes("holder", seed);
        let pick = |i: usize, n: usize| usize::from(r[i]) % n;
        let (sur_h, sur_l) = SURNAMES[pick(0, SURNAMES.len())];
        let (given_h, given_l) = GIVEN_NAMES[pick(1, GIVEN_NAMES.len())];
        let year = 1960 + pick(2, 45) as u16;
        let birth_date =
            Date::new(year, 1 + pick(3, 12) as u8, 1 + pick(4, 28) as u8).expect("day 1-28 exists");
        let gender_digit = if year >= 2000 { 3 } else { 1 } + pick(5, 2) as u8;
        let issued =
            Date::from_days(Date::new(2024, 1, 1).expect("valid").days_since_epoch() + pick(6, 600) as i64);
        let expires = Date::new(issued.year() + 10, issued.month(), issued.day().min(28)).expect("valid");
        let portrait_png = portrait_png(&demo_bytes("portrait", seed));
        let master = MasterKey::from_bytes(demo_bytes("master", seed));
        let id = format!(
            "KR-RRC-{:08}",
            u32::from_be_bytes([r[8], r[9], r[10], r[11]]) % 100_000_000
        );
        let device_epoch = 1;
        let credential = Credential {
            device_key_check: Credential::device_key_commitment(&master.device_key(&id, device_epoch)),
            device_epoch,
            status: demo_status_entry(&id, device_epoch),
            id,
            document: DocumentKind::ResidentRegistration,
            issuer: "holoid demo issuer (not a real authority)".to_string(),
            holder: Holder {
                name_hangul: format!("{sur_h}{given_h}"),
                name_latin: format!("{sur_l} {given_l}"),
                birth_date,
                resident_number_masked: format!(
                    "{:02}{:02}{:02}-{gender_digit}******",
                    year % 100,
                    birth_date.month(),
                    birth_date.day()
                ),
                address: ADDRESSES[pick(7, ADDRESSES.len())].to_string(),
            },
            portrait: PortraitRef {
                file: PORTRAIT_FILE.to_string(),
                sha256: sha256(&[&portrait_png]),
            },
            issued,
            expires,
        };
        let issuer = IssuerSecret::from_bytes(demo_bytes("issuer", seed));
        let credential = credential
            .sign(&issuer)
            .expect("demo credential fields are valid");
        DemoIdentity {
            issuer,
            master,
            credential,
            portrait_png,
        }
    }
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Coverage (0..1) of an ellipse at (`x`, `y`), with a one-pixel soft edge.
fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> f32 {
    let d = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
    1.0 - smoothstep(1.0 - 1.0 / rx.min(ry), 1.0, d)
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Draws a head-and-shoulders portrait (ID-photo style, plain background) and encodes it
/// as PNG. `r` chooses skin tone, hair, face shape and clothing.
fn portrait_png(r: &[u8; 32]) -> Vec<u8> {
    let unit = |i: usize| f32::from(r[i]) / 255.0;
    let skins = [
        [0.96, 0.82, 0.70],
        [0.92, 0.76, 0.62],
        [0.85, 0.67, 0.52],
        [0.76, 0.58, 0.44],
    ];
    let skin = skins[usize::from(r[0]) % skins.len()];
    let hair = mix([0.05, 0.04, 0.04], [0.28, 0.18, 0.12], unit(1));
    let cloth = [
        [0.12, 0.16, 0.30],
        [0.20, 0.20, 0.22],
        [0.85, 0.86, 0.88],
        [0.30, 0.12, 0.14],
    ][usize::from(r[2]) % 4];
    let (w, h) = (PORTRAIT_WIDTH as f32, PORTRAIT_HEIGHT as f32);
    let (cx, cy) = (w * 0.5, h * 0.42);
    let face_rx = w * (0.21 + 0.04 * unit(3));
    let face_ry = h * (0.20 + 0.02 * unit(4));
    let long_hair = r[5].is_multiple_of(2);
    let eye_dy = face_ry * 0.08;
    let eye_dx = face_rx * (0.36 + 0.08 * unit(6));
    let mut img = RgbImage::new(PORTRAIT_WIDTH, PORTRAIT_HEIGHT);
    for (px, py, out) in img.enumerate_pixels_mut() {
        let (x, y) = (px as f32 + 0.5, py as f32 + 0.5);
        let mut c = mix([0.86, 0.89, 0.93], [0.74, 0.79, 0.86], y / h);
        if long_hair {
            c = mix(
                c,
                hair,
                ellipse(x, y, cx, cy + face_ry * 0.35, face_rx * 1.3, face_ry * 1.35),
            );
        }
        c = mix(c, cloth, ellipse(x, y, cx, h * 1.02, w * 0.48, h * 0.26));
        c = mix(
            c,
            mix(skin, [0.0; 3], 0.12),
            ellipse(x, y, cx, cy + face_ry * 1.05, face_rx * 0.45, face_ry * 0.5),
        );
        c = mix(c, skin, ellipse(x, y, cx, cy, face_rx, face_ry));
        // Hair cap over the top of the head.
        let cap = ellipse(x, y, cx, cy - face_ry * 0.35, face_rx * 1.08, face_ry * 0.78);
        let above_brow = smoothstep(cy - face_ry * 0.30, cy - face_ry * 0.45, y);
        c = mix(c, hair, cap * above_brow);
        for side in [-1.0, 1.0] {
            let ex = cx + side * eye_dx;
            let ey = cy - eye_dy;
            c = mix(
                c,
                [0.97, 0.97, 0.97],
                ellipse(x, y, ex, ey, face_rx * 0.16, face_ry * 0.06),
            );
            c = mix(
                c,
                [0.10, 0.07, 0.06],
                ellipse(x, y, ex, ey, face_rx * 0.07, face_ry * 0.055),
            );
            c = mix(
                c,
                hair,
                ellipse(x, y, ex, ey - face_ry * 0.16, face_rx * 0.2, face_ry * 0.035),
            );
            c = mix(
                c,
                mix(skin, [0.0; 3], 0.06),
                ellipse(
                    x,
                    y,
                    cx + side * face_rx * 0.98,
                    cy,
                    face_rx * 0.1,
                    face_ry * 0.16,
                ),
            );
        }
        c = mix(
            c,
            mix(skin, [0.0; 3], 0.18),
            ellipse(x, y, cx, cy + face_ry * 0.22, face_rx * 0.09, face_ry * 0.05),
        );
        c = mix(
            c,
            [0.72, 0.36, 0.36],
            ellipse(x, y, cx, cy + face_ry * 0.5, face_rx * 0.28, face_ry * 0.05),
        );
        *out = Rgb(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            img.as_raw(),
            PORTRAIT_WIDTH,
            PORTRAIT_HEIGHT,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding a PNG into memory cannot fail");
    png
}

/// How many kinds of edit [`edited`] makes.
pub const EDITS: usize = 6;

/// The names of the edits of [`edited`], as datasets record them.
pub const EDIT_NAMES: [&str; EDITS] = [
    "name",
    "birth_year_digit",
    "birth_year_and_number",
    "expiry_year_digit",
    "name_syllable",
    "latin_letter",
];

/// The credential `c` as a forger with its device key would edit it (edit `which` of
/// [`EDIT_NAMES`]):
/// - `name`: the name, Hangul and Latin, replaced by `other`'s (taking over an identity);
/// - `birth_year_digit`: one digit of the birth year changed, the year moved by three
///   within its decade (1998 → 1995: three years older);
/// - `birth_year_and_number`: the same, and the resident number's year digit with it, so
///   the two agree;
/// - `expiry_year_digit`: the expiry year's last digit moved by one (a year more, or less
///   from a year ending in 9);
/// - `name_syllable`: the last syllable of the Hangul name changed to one of `other`'s;
/// - `latin_letter`: one letter of the Latin name changed to another of its case.
///
/// Everything else, the id and the key commitment included, stays, so the card's tags are
/// valid.
pub fn edited(c: &Credential, other: &Credential, which: usize) -> Credential {
    let mut e = c.clone();
    // The birth year with its last digit moved by three, within its decade.
    let older = |year: u16| {
        let last = year % 10;
        year - last + if last >= 3 { last - 3 } else { last + 3 }
    };
    match which % EDITS {
        0 => {
            let h = &mut e.holder;
            h.name_hangul.clone_from(&other.holder.name_hangul);
            h.name_latin.clone_from(&other.holder.name_latin);
            if h.name_hangul == c.holder.name_hangul {
                h.name_hangul = h.name_hangul.chars().rev().collect();
            }
        }
        1 | 2 => {
            let h = &mut e.holder;
            let b = h.birth_date;
            let year = older(b.year());
            h.birth_date = Date::new(year, b.month(), b.day().min(28)).unwrap_or(b);
            if which % EDITS == 2 {
                let digit = char::from_digit(u32::from(year % 10), 10).unwrap_or('0');
                h.resident_number_masked = h
                    .resident_number_masked
                    .chars()
                    .enumerate()
                    .map(|(i, ch)| if i == 1 { digit } else { ch })
                    .collect();
            }
        }
        3 => {
            let x = e.expires;
            let year = if x.year() % 10 == 9 {
                x.year() - 1
            } else {
                x.year() + 1
            };
            e.expires = Date::new(year, x.month(), x.day().min(28)).unwrap_or(x);
        }
        4 => {
            let h = &mut e.holder;
            let mut name: Vec<char> = h.name_hangul.chars().collect();
            let last = name.len().saturating_sub(1);
            let replacement = other
                .holder
                .name_hangul
                .chars()
                .rev()
                .find(|&ch| name.get(last) != Some(&ch))
                .unwrap_or('수');
            if let Some(ch) = name.get_mut(last) {
                *ch = replacement;
            }
            h.name_hangul = name.into_iter().collect();
        }
        _ => {
            let h = &mut e.holder;
            let mut name: Vec<char> = h.name_latin.chars().collect();
            // The letter nearest the middle, moved three along the alphabet in its case.
            let middle = name.len() / 2;
            let at = (0..name.len())
                .filter(|&i| name[i].is_ascii_alphabetic())
                .min_by_key(|&i| i.abs_diff(middle));
            if let Some(i) = at {
                let base = if name[i].is_ascii_uppercase() { b'A' } else { b'a' };
                name[i] = char::from(base + (name[i] as u8 - base + 3) % 26);
            }
            h.name_latin = name.into_iter().collect();
        }
    }
    e
}
