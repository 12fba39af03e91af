//! holoid: an anti-forgery rendering and capture-protection engine for identity cards shown
//! on phone screens.
//!
//! The **core** (pure Rust, no GPU and no I/O types; time is always an argument):
//! - [`keys`]: issuer key pair, pattern master key `M`, device key `K_dev`, key file text;
//! - [`credential`]: the signed credential and its canonical encoding;
//! - [`timekey`]: time windows and their HMAC seeds, accepted windows, the sweep phase;
//! - [`pattern`]: every per-window visual parameter, derived from the window seed;
//! - [`code`]: the machine-readable code (payload, Reed–Solomon, geometry);
//! - [`layout`]: where everything sits on the card;
//! - [`motion`]: accelerometer samples to tilt and shake events;
//! - [`homography`]: projective maps between the card and a photo;
//! - [`colour`]: the sRGB transfer function;
//! - [`time`]: instants and calendar dates.
//!
//! At the edges: [`demo`] (a synthetic identity, PNG encoding), [`files`] (file I/O) and
//! [`ffi`] (the C ABI for wallet apps, `include/holoid.h`); with the `service` feature (on by
//! default), `service`: the verifier's HTTP API, stored copies and audit log.
//! See `../shared/DESIGN.md` in the project for the system as a whole.

pub mod code;
pub mod colour;
pub mod credential;
pub mod demo;
pub mod detect;
pub mod encoding;
pub mod ffi;
pub mod files;
pub mod homography;
pub mod keys;
pub mod layout;
pub mod mac;
pub mod motion;
pub mod pattern;
pub mod render;
#[cfg(feature = "service")]
pub mod service;
pub mod simulate;
pub mod time;
pub mod timekey;
