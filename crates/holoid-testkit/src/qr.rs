//! A QR reader that is not holoid's: rxing (ZXing ported to Rust), the peer the detector's
//! code reader is timed against and the independent check of the service's offer QR codes.

/// The text of the QR code in `grey`, read with rxing's `TryHarder` hint (a verifier would
/// set it), or `None`.
pub fn read(grey: &image::GrayImage) -> Option<String> {
    let mut hints = rxing::DecodeHints {
        TryHarder: Some(true),
        ..Default::default()
    };
    rxing::helpers::detect_in_luma_slice_with_hints(
        grey.as_raw(),
        grey.width(),
        grey.height(),
        Some(rxing::BarcodeFormat::QR_CODE),
        &mut hints,
    )
    .ok()
    .map(|r| r.getText().to_string())
}
