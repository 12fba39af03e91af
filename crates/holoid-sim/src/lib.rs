//! A physically motivated capture model: what the verifier's camera records when it
//! photographs a phone screen. Each stage is a function with its parameters, and all
//! randomness flows from one seed, so datasets are reproducible.
//!
//! Stages: the display ([`display`]: subpixel layouts, black matrix, gamma, brightness, a
//! photo shown again on a second screen), the camera ([`camera`]: pose and perspective,
//! optics blur, hand-shake, glare, vignetting, exposure and white balance, Bayer mosaic with
//! shot and read noise, bilinear demosaicing, JPEG, the capture levels of `docs/design.md`),
//! printing ([`print`]: CMYK halftone on paper) and the bona fide and attack species
//! ([`species`]), generated as bursts. `holoid simulate` writes datasets; `holoid eval`
//! runs the detector on them.
//!
//! CPU only; no GPU types. The frames it photographs come from [`holoid_render`].
//!
//! This crate must not depend on the detector (the detector is judged on what this crate makes) or on
//! the service's stack.

pub mod camera;
pub mod display;
pub mod eval;
pub mod manifest;
pub mod print;
pub mod rng;
pub mod species;
