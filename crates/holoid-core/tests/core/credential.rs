use holoid_core::credential::{CredentialError, SignedCredential};
use holoid_core::demo::DemoIdentity;
use holoid_core::keys::IssuerSecret;
use holoid_core::time::UnixMillis;
use proptest::prelude::*;
use std::sync::OnceLock;

fn demo() -> &'static DemoIdentity {
    static DEMO: OnceLock<DemoIdentity> = OnceLock::new();
    DEMO.get_or_init(|| DemoIdentity::generate(1))
}

#[test]
fn demo_credential_verifies_and_round_trips() {
    let d = demo();
    let issuer = d.issuer.public();
    let parsed = SignedCredential::from_json(&d.credential.to_json()).unwrap();
    assert_eq!(parsed, d.credential);
    assert!(parsed.verify(&issuer).is_ok());
    parsed.credential.portrait.check(&d.portrait_png).unwrap();
    let other = IssuerSecret::from_bytes([1; 32]).public();
    assert_eq!(parsed.verify(&other), Err(CredentialError::BadSignature));
}

#[test]
fn the_signature_covers_the_device_epoch_and_the_status_reference() {
    let d = demo();
    let issuer = d.issuer.public();
    let c = &d.credential.credential;
    assert_eq!(c.device_epoch, 1);
    assert_eq!(c.status.list, 1);
    // A holder who moves their card's document to another epoch or another status entry
    // (one that is not suspended) breaks the issuer's signature.
    for (path, value) in [
        (&["device_epoch"][..], serde_json::json!(2)),
        (
            &["status", "index"][..],
            serde_json::json!((c.status.index + 1) % (1 << 20)),
        ),
        (&["status", "list"][..], serde_json::json!(2)),
    ] {
        let moved = SignedCredential::from_json(&with_field(path, value)).unwrap();
        assert_eq!(
            moved.verify(&issuer),
            Err(CredentialError::BadSignature),
            "{path:?}"
        );
    }
    // Each enrolment has its own device key; the document commits to its own only.
    let (k1, k2) = (d.master.device_key(&c.id, 1), d.master.device_key(&c.id, 2));
    assert_ne!(k1.as_bytes(), k2.as_bytes());
    assert!(c.check_device_key(&k1).is_ok());
    assert_eq!(c.check_device_key(&k2), Err(CredentialError::WrongDeviceKey));
    // The issuer's document for a second phone: its own epoch, key and status entry.
    assert_eq!(d.enrolment(1), d.credential);
    let moved = d.enrolment(2);
    let m = moved.verify(&issuer).unwrap();
    assert_eq!(m.device_epoch, 2);
    assert!(m.check_device_key(&k2).is_ok());
    assert_ne!(m.status, c.status);
}

#[test]
fn demo_identity_is_deterministic() {
    let (a, b, c) = (
        DemoIdentity::generate(5),
        DemoIdentity::generate(5),
        DemoIdentity::generate(6),
    );
    assert_eq!(a.credential.to_json(), b.credential.to_json());
    assert_eq!(a.portrait_png, b.portrait_png);
    assert_ne!(a.credential.to_json(), c.credential.to_json());
    assert_ne!(a.portrait_png, c.portrait_png);
}

#[test]
fn validity_dates() {
    let c = &demo().credential.credential;
    let first = c.issued.start().unwrap();
    assert!(c.check_valid_at(first).is_ok());
    assert!(matches!(
        c.check_valid_at(UnixMillis(first.0 - 1)),
        Err(CredentialError::NotYetValid { .. })
    ));
    let last = UnixMillis(c.expires.start().unwrap().0 + 86_400_000 - 1);
    assert!(c.check_valid_at(last).is_ok());
    assert!(matches!(
        c.check_valid_at(UnixMillis(last.0 + 1)),
        Err(CredentialError::Expired { .. })
    ));
}

#[test]
fn portrait_mismatch_is_named() {
    let c = &demo().credential.credential;
    let mut png = demo().portrait_png.clone();
    let last = png.len() - 1;
    png[last] ^= 1;
    assert!(matches!(
        c.portrait.check(&png),
        Err(CredentialError::PortraitMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn signature_rejects_any_changed_canonical_byte(pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let d = demo();
        let mut bytes = d.credential.credential.canonical_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(!d.issuer.public().verify(&bytes, &d.credential.signature));
    }

    #[test]
    fn a_changed_signature_byte_is_rejected(pos in 0usize..64, flip in 1u8..=255) {
        let d = demo();
        let mut signed = d.credential.clone();
        signed.signature[pos] ^= flip;
        prop_assert_eq!(signed.verify(&d.issuer.public()), Err(CredentialError::BadSignature));
    }
}

/// Every single-byte change of the file either fails to parse, fails the signature, or
/// leaves the credential's content exactly as it was (a change of JSON layout only).
#[test]
fn any_changed_file_byte_is_refused_or_harmless() {
    let d = demo();
    let issuer = d.issuer.public();
    let json = d.credential.to_json().into_bytes();
    let mut accepted_changes = 0;
    for i in 0..json.len() {
        for replacement in [b' ', b'0', b'a', b'"', json[i] ^ 1, json[i].wrapping_add(1)] {
            if replacement == json[i] {
                continue;
            }
            let mut changed = json.clone();
            changed[i] = replacement;
            let Ok(text) = String::from_utf8(changed) else {
                continue;
            };
            let Ok(parsed) = SignedCredential::from_json(&text) else {
                continue;
            };
            if parsed.verify(&issuer).is_ok() {
                assert_eq!(
                    parsed, d.credential,
                    "byte {i} changed to {replacement:#x} was accepted"
                );
                accepted_changes += 1;
            }
        }
    }
    // Only whitespace changes between tokens (and hex digit case) may keep the content.
    assert!(accepted_changes > 0);
}

fn with_field(path: &[&str], value: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&demo().credential.to_json()).unwrap();
    let mut slot = &mut v;
    for key in path {
        slot = &mut slot[*key];
    }
    *slot = value;
    v.to_string()
}

#[test]
fn bad_fields_are_named() {
    use serde_json::json;
    let cases: [(&[&str], serde_json::Value, &str); 15] = [
        (
            &["format"],
            json!("holoid-credential-v1"),
            "unsupported credential format",
        ),
        (&["device_epoch"], json!(0), "field `device_epoch`"),
        (&["status", "index"], json!(1u32 << 20), "field `status.index`"),
        (
            &["format"],
            json!("holoid-credential-v9"),
            "unsupported credential format",
        ),
        (&["id"], json!("../etc/passwd"), "field `id`"),
        (&["id"], json!(""), "field `id`"),
        (
            &["holder", "birth_date"],
            json!("1990-02-30"),
            "field `holder.birth_date`",
        ),
        (
            &["holder", "resident_number_masked"],
            json!("900315-1234567"),
            "YYMMDD-G******",
        ),
        (
            &["holder", "resident_number_masked"],
            json!("000101-1******"),
            "birth date gives",
        ),
        (&["holder", "name_hangul"], json!("KIM"), "Hangul"),
        (&["holder", "name_latin"], json!("김민준"), "Latin letters"),
        (
            &["portrait", "file"],
            json!("../portrait.png"),
            "field `portrait.file`",
        ),
        (&["portrait", "sha256"], json!("abcd"), "64 lowercase hex digits"),
        (&["expires"], json!("2000-01-01"), "field `expires`"),
        (&["signature"], json!("zz"), "field `signature`"),
    ];
    for (path, value, expect) in cases {
        let err = SignedCredential::from_json(&with_field(path, value.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expect),
            "{path:?} = {value}: got `{err}`, wanted `{expect}`"
        );
    }
    let unknown = with_field(&["extra"], json!(1));
    assert!(
        SignedCredential::from_json(&unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown field")
    );
    let missing = demo().credential.to_json().replace("\"issued\"", "\"issued_on\"");
    assert!(SignedCredential::from_json(&missing).is_err());
    assert!(
        SignedCredential::from_json("")
            .unwrap_err()
            .to_string()
            .contains("not a valid credential file")
    );
}
