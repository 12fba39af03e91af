use holoid_core::code::{Codeword, Locator, Payload};
use holoid_core::credential::Credential;
use holoid_core::encoding::to_hex;
use holoid_core::mac::hmac_sha256;
use holoid_core::timekey::{WindowPeriod, WindowSeed};

use crate::{fixture, unhex};

fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
}

#[test]
fn rfc4231_hmac_sha256() {
    let mut cases = 0;
    for f in data_lines(include_str!("../vectors/rfc4231-hmac-sha256.txt")) {
        let (key, data, mac) = (unhex(f[1]), unhex(f[2]), f[3]);
        let got = to_hex(&hmac_sha256(&key, &[&data]));
        assert_eq!(&got[..mac.len()], mac, "RFC 4231 case {}", f[0]);
        cases += 1;
    }
    assert_eq!(cases, 7);
}

#[test]
fn holoid_v2_derivations() {
    let k_dev = fixture::device_key();
    let seed = WindowSeed::derive(&k_dev, fixture::WINDOW);
    let payload = Payload::issue(
        &k_dev,
        Locator::of(fixture::CREDENTIAL_ID),
        WindowPeriod::default(),
        fixture::WINDOW,
    );
    let codeword = Codeword::encode(&payload);
    let mut checked = 0;
    for f in data_lines(include_str!("../vectors/holoid-v2.txt")) {
        let got = match f[0] {
            "device_key" => to_hex(k_dev.as_bytes()),
            "device_key_epoch_2" => {
                to_hex(fixture::master().device_key(fixture::CREDENTIAL_ID, 2).as_bytes())
            }
            "device_key_check" => to_hex(&Credential::device_key_commitment(&k_dev)),
            "window_seed" => to_hex(seed.as_bytes()),
            "payload" => to_hex(&payload.to_bytes()),
            "codeword" => to_hex(&codeword.0),
            other => panic!("unknown vector {other}"),
        };
        assert_eq!(got, f[1], "vector {}", f[0]);
        checked += 1;
    }
    assert_eq!(checked, 6);
}
