//! Enrolment by one-time QR over HTTP on loopback (target: under 1 s end to end), against the
//! floor of one HTTP round trip to the same server in the same run (`GET /healthz`):
//!
//! - `http_round_trip_healthz`: the floor;
//! - `enrol_over_http`: what the phone does: a fresh X25519 key pair, `POST /v1/enrol`
//!   (the service derives the key, signs the document, seals the key with HPKE and writes the
//!   enrolment, its status change and the audit entry to SQLite in one transaction), and
//!   opening and checking the answer; the officer's offer is made outside the timing;
//! - `offer_over_http`: the officer's `POST /v1/credentials/{id}/offers`.
//!
//! Prints the medians and the ratio to the floor; fails when an enrolment takes 1 s or more.

use holoid_testkit::http;
use holoid_testkit::service as support;

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use holoid_service::ServiceConfig;
use support::{Serving, register_over_http, sqlite_url, world};

fn offer(addr: SocketAddr, token: &str, id: &str) -> String {
    support::offer_over_http(addr, token, id).0
}

fn enrol(addr: SocketAddr, offer: &str, issuer: &holoid_core::keys::IssuerPublic) -> u32 {
    support::enrol_over_http(addr, offer, issuer)
        .credential
        .credential
        .device_epoch
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let w = rt.block_on(world(&sqlite_url("bench-enrol"), ServiceConfig::default()));
    let server = Serving::start(&rt, w.state.clone());
    let addr = server.addr;
    let demo = holoid_core::demo::DemoIdentity::generate(1);
    register_over_http(addr, &w.tokens.admin, &demo);
    let id = demo.credential.credential.id.clone();
    let issuer = demo.issuer.public();
    let officer = w.tokens.officer.clone();

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("http_round_trip_healthz", |b| {
        b.iter(|| black_box(http::request(addr, "GET", "/healthz", None, None).unwrap().status))
    });
    c.bench_function("offer_over_http", |b| {
        b.iter(|| black_box(offer(addr, &officer, &id)))
    });
    c.bench_function("enrol_over_http", |b| {
        b.iter_batched(
            || offer(addr, &officer, &id),
            |o| black_box(enrol(addr, &o, &issuer)),
            BatchSize::PerIteration,
        )
    });
    c.final_summary();

    // Paired medians outside criterion, for the ratio and the target.
    let (mut floor, mut enrolments) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let t = Instant::now();
        http::request(addr, "GET", "/healthz", None, None).unwrap();
        floor.push(t.elapsed());
        let o = offer(addr, &officer, &id);
        let t = Instant::now();
        enrol(addr, &o, &issuer);
        enrolments.push(t.elapsed());
    }
    let (floor, enrolment) = (median(floor), median(enrolments));
    println!(
        "\nenrolment over HTTP (SQLite, loopback): median {:.2} ms = {:.1}x one HTTP round trip ({:.2} ms); target < 1000 ms",
        enrolment.as_secs_f64() * 1e3,
        enrolment.as_secs_f64() / floor.as_secs_f64(),
        floor.as_secs_f64() * 1e3
    );
    assert!(
        enrolment < Duration::from_secs(1),
        "an enrolment took {enrolment:?}"
    );
    server.stop(&rt).unwrap();
}
