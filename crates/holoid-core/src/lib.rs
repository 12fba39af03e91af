//! holoid-core: the pure core of holoid, shared by the wallet (which draws the card) and the
//! verifier (which checks photos of it). Time is always an argument: nothing here reads the
//! clock, touches files or the network, or knows about GPUs or async runtimes, and it must
//! not depend on wgpu, tokio, axum, sqlx, clap or winit.
//!
//! - [`keys`]: issuer key pair, pattern master key `M`, device key `K_dev`, key file text;
//! - [`credential`]: the signed credential and its canonical encoding;
//! - [`timekey`]: time windows and their HMAC seeds, accepted windows, the sweep phase;
//! - [`pattern`]: every per-window visual parameter, derived from the window seed;
//! - [`code`]: the machine-readable code (payload, Reed–Solomon, geometry);
//! - [`layout`]: where everything sits on the card;
//! - [`motion`]: accelerometer samples to tilt and shake events;
//! - [`session`]: the wallet session, motion, capture state and the clock to frame parameters;
//! - [`status`]: credential status lists (IETF Token Status List, signed JWT) for verifiers;
//! - [`homography`]: projective maps between the card and a photo;
//! - [`colour`]: the sRGB transfer function and its table of the 8-bit levels;
//! - [`filter`]: the one separable Gaussian blur (simulator optics, detector references);
//! - [`time`]: instants and calendar dates;
//! - [`mac`], [`encoding`]: HMAC/SHA-256 helpers, hex and base64url text;
//! - [`demo`]: a synthetic identity (keys, credential, portrait PNG in memory) and the edits
//!   a forger would make to it.
//!
//! The system as a whole is described in `docs/design.md`.

pub mod code;
pub mod colour;
pub mod credential;
pub mod demo;
pub mod encoding;
#[cfg(feature = "enrol")]
pub mod enrol;
pub mod filter;
pub mod homography;
pub mod keys;
pub mod layout;
pub mod mac;
pub mod motion;
pub mod pattern;
pub mod session;
pub mod status;
pub mod time;
pub mod timekey;
