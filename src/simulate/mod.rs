//! A physically motivated capture model: what the verifier's camera records when it
//! photographs a phone screen. Each stage is a function with its parameters, and all
//! randomness flows from one seed, so datasets are reproducible.
//!
//! Built so far (issue 4 is in progress): the display ([`display`]: subpixel layouts, black
//! matrix, gamma, brightness), the camera ([`camera`]: pose and perspective, optics blur,
//! vignetting, exposure and white balance, Bayer mosaic with shot and read noise, bilinear
//! demosaicing, JPEG) and the capture levels of DESIGN.md. Still to come: printing, second
//! screens, the attack species, bursts, `holoid simulate` and `holoid eval`.
//!
//! CPU only; no GPU types. The frames it photographs come from [`crate::render`].

pub mod camera;
pub mod display;
pub mod homography;
pub mod print;
pub mod rng;
pub mod species;
