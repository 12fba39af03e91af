//! holoid-testkit: what holoid's tests and benchmarks share, as a dev-dependency of every
//! crate in the workspace. Nothing in the product depends on it.
//!
//! - [`gpu`]: the GPU guard (tests fail loudly without an adapter unless
//!   `HOLOID_SKIP_GPU_TESTS=1`) and scratch folders;
//! - [`openapi`]: every answer of the service held to its `/openapi.json`;
//! - [`captures`]: the demo world photographed by the simulated camera;
//! - [`service`]: a verifier service on a scratch database, and its HTTP clients ([`http`]);
//! - [`webdriver`]: headless Chromium through chromedriver;
//! - [`qr`]: an independent QR reader (rxing);
//! - [`counting_alloc`], [`estimates`], [`engine`]: what the benchmarks measure with.

pub mod captures;
pub mod counting_alloc;
pub mod engine;
pub mod estimates;
pub mod gpu;
pub mod http;
pub mod openapi;
pub mod pki;
pub mod qr;
pub mod service;
pub mod webdriver;
