//! A load test of the verifier service on loopback: a server in this process (SQLite, the
//! default limits), clients over real TCP sending 720x1280 JPEG captures of the live card.
//!
//! 1. closed loop: `CLIENTS` clients send checks back to back for a while: checks per second
//!    (the sustainable rate) and latency p50 / p99;
//! 2. open loop at twice that rate, with copies being made meanwhile: how many checks are
//!    answered, how many refused with 503 and how fast, that nothing else comes back, and that
//!    every acknowledged copy is stored;
//! 3. the evidence route (issue #22), closed loop: the same captures measured without a key
//!    (as the console's WebAssembly detector measures camera frames) and sent as JSON to
//!    `POST /v1/checks/evidence`: checks per second and latency p50 / p99, the audit append
//!    included, beside the photo route's figure of phase 1.
//!
//! Prints a table. Needs a GPU adapter for the captures unless HOLOID_SKIP_GPU_TESTS=1.
//! HOLOID_LOAD_SECONDS sets each phase's length (default 6).

use holoid_testkit::captures;
use holoid_testkit::http;
use holoid_testkit::service as support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use captures::{Camera, mid_window_after, now};
use holoid_detect::evidence::{self, FrameEvidence, Record};
use holoid_detect::{Timings, content, text};
use holoid_service::ServiceConfig;
use holoid_sim::camera::Level;
use holoid_sim::species::Species;
use support::{Serving, multipart, register_over_http, sqlite_url, world};

/// Concurrent clients in the closed loop.
const CLIENTS: usize = 4;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One check request's body.
type Body = (String, Vec<u8>);

fn send(addr: SocketAddr, token: &str, body: &Body) -> (u16, Duration) {
    send_to(addr, "/v1/checks", token, body)
}

fn send_to(addr: SocketAddr, path: &str, token: &str, body: &Body) -> (u16, Duration) {
    let started = Instant::now();
    let r = http::request(addr, "POST", path, Some(token), Some((&body.0, &body.1)));
    (r.map_or(0, |r| r.status), started.elapsed())
}

/// `CLIENTS` clients sending `bodies` to `path` back to back for `phase`, each on a connection
/// of its own kept open (`keep_alive`, as a browser keeps one) or on a new connection a
/// request: the latencies of the answers with 200, sorted, every status, and the time taken.
fn closed_loop(
    addr: SocketAddr,
    path: &'static str,
    token: &str,
    bodies: &Arc<Vec<Body>>,
    phase: Duration,
    keep_alive: bool,
) -> (Vec<Duration>, Vec<u16>, Duration) {
    let deadline = Instant::now() + phase;
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (bodies, token, latencies, statuses) = (
                bodies.clone(),
                token.to_string(),
                latencies.clone(),
                statuses.clone(),
            );
            std::thread::spawn(move || {
                let mut k = i;
                let mut connection = http::KeepAlive::new(addr);
                while Instant::now() < deadline {
                    let body = &bodies[k % bodies.len()];
                    let (status, took) = if keep_alive {
                        let started = Instant::now();
                        let r = connection.request("POST", path, Some(&token), Some((&body.0, &body.1)));
                        (r.map_or(0, |r| r.status), started.elapsed())
                    } else {
                        send_to(addr, path, &token, body)
                    };
                    statuses.lock().unwrap().push(status);
                    if status == 200 {
                        latencies.lock().unwrap().push(took);
                    }
                    k += 1;
                }
            })
        })
        .collect();
    let started = Instant::now();
    clients.into_iter().for_each(|h| h.join().unwrap());
    let elapsed = started.elapsed();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let statuses = statuses.lock().unwrap().clone();
    (lat, statuses, elapsed)
}

fn main() {
    if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        println!("HOLOID_SKIP_GPU_TESTS=1: SKIPPING the service load test");
        return;
    }
    let seconds: u64 = std::env::var("HOLOID_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let phase = Duration::from_secs(seconds);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The same photos are sent again and again from one token: replays and rate limits off.
    let config = ServiceConfig {
        max_capture_age: Duration::from_secs(3600),
        refuse_replays: false,
        checks_per_token: u32::MAX,
        checks_per_credential: u32::MAX,
        ..Default::default()
    };
    let slots = config.max_concurrent_checks;
    let w = rt.block_on(world(&sqlite_url("load"), config));
    let server = Serving::start(&rt, w.state.clone());
    let addr = server.addr;
    let demo = holoid_core::demo::DemoIdentity::generate(1);
    register_over_http(addr, &w.tokens.admin, &demo);

    // Eight different single-photo captures of the live card at the normal level, as photos
    // and as the evidence measured from them.
    let mut camera = Camera::new(&demo);
    let portrait = image::load_from_memory(&demo.portrait_png).unwrap().to_rgb8();
    let record = Record {
        portrait: Some(content::reference(&portrait)),
        text: Some(text::reference(&demo.credential.credential)),
    };
    let (bodies, evidence): (Vec<Body>, Vec<Body>) = (0..8)
        .map(|i| {
            let burst = camera.shoot(
                Species::BonaFide,
                Level::Normal,
                mid_window_after(now()),
                1,
                100 + i,
            );
            let fields = burst.fields();
            let parts: Vec<(&str, &[u8])> = fields.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
            let frames: Vec<FrameEvidence> = (burst.jpegs.iter().zip(&burst.times))
                .map(|(jpeg, &t)| {
                    let img = image::load_from_memory(jpeg).unwrap().to_rgb8();
                    evidence::measure(&img, t, &record, &mut Timings::default()).evidence
                })
                .collect();
            let json = format!(r#"{{"frames":{}}}"#, serde_json::to_string(&frames).unwrap());
            (
                multipart(&parts),
                ("application/json".to_string(), json.into_bytes()),
            )
        })
        .unzip();
    let (bodies, evidence) = (Arc::new(bodies), Arc::new(evidence));
    let jpeg_kb = bodies[0].1.len() / 1024;
    let token = w.tokens.officer.clone();
    // Which captures the detector calls genuine (a single photo may come out inconclusive:
    // glare, blur); a genuine one's check is what copies are made from.
    let decisions: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            let r = http::request(addr, "POST", "/v1/checks", Some(&token), Some((&b.0, &b.1))).unwrap();
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            let v = r.json();
            (
                v["decision"].as_str().unwrap().to_string(),
                v["check_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let genuine = decisions.iter().filter(|d| d.0 == "genuine").count();
    let check_id = decisions
        .iter()
        .find(|d| d.0 == "genuine")
        .map(|d| d.1.clone())
        .expect("at least one capture is genuine");

    // Both routes reach the same decisions on these captures.
    for (k, e) in evidence.iter().enumerate() {
        let r = http::request(
            addr,
            "POST",
            "/v1/checks/evidence",
            Some(&token),
            Some((&e.0, &e.1)),
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(
            r.json()["decision"].as_str(),
            Some(decisions[k].0.as_str()),
            "capture {k}"
        );
    }

    // 1. Closed loop.
    let (lat, closed_statuses, elapsed) = closed_loop(addr, "/v1/checks", &token, &bodies, phase, false);
    let rate = lat.len() as f64 / elapsed.as_secs_f64();
    let closed_other = closed_statuses.iter().filter(|s| **s != 200).count();

    // 2. Open loop at twice the sustainable rate, copies made meanwhile.
    let target = (2.0 * rate).max(1.0);
    let interval = Duration::from_secs_f64(1.0 / target);
    let results = Arc::new(Mutex::new(Vec::new()));
    let copies_acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let copier = {
        let (stop, acked, token) = (stop.clone(), copies_acked.clone(), token.clone());
        std::thread::spawn(move || {
            let mut refused = 0;
            while !stop.load(Ordering::Relaxed) {
                // One copy is kept per check and purpose: a purpose of its own each time.
                let purpose = format!("load test {}", acked.lock().unwrap().len() + refused);
                let body = serde_json::json!({"check_id": check_id, "purpose": purpose}).to_string();
                match http::request(
                    addr,
                    "POST",
                    "/v1/copies",
                    Some(&token),
                    Some(("application/json", body.as_bytes())),
                ) {
                    Ok(r) if r.status == 201 => acked
                        .lock()
                        .unwrap()
                        .push(r.json()["id"].as_str().unwrap().to_string()),
                    Ok(r) if r.status == 503 => refused += 1,
                    Ok(r) => panic!("copy answered {}: {}", r.status, String::from_utf8_lossy(&r.body)),
                    Err(e) => panic!("copy request failed: {e}"),
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            refused
        })
    };
    let open_started = Instant::now();
    let mut senders = Vec::new();
    let mut k = 0;
    while open_started.elapsed() < phase {
        let next = open_started + interval.mul_f64(k as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let (bodies, token, results) = (bodies.clone(), token.clone(), results.clone());
        senders.push(std::thread::spawn(move || {
            let r = send(addr, &token, &bodies[k % bodies.len()]);
            results.lock().unwrap().push(r);
        }));
        k += 1;
    }
    senders.into_iter().for_each(|h| h.join().unwrap());
    stop.store(true, Ordering::Relaxed);
    let copies_refused = copier.join().unwrap();
    let open = results.lock().unwrap().clone();
    let answered: Vec<Duration> = open.iter().filter(|r| r.0 == 200).map(|r| r.1).collect();
    let mut refused: Vec<Duration> = open.iter().filter(|r| r.0 == 503).map(|r| r.1).collect();
    refused.sort();
    let other: Vec<u16> = open
        .iter()
        .map(|r| r.0)
        .filter(|s| *s != 200 && *s != 503)
        .collect();
    let acked = copies_acked.lock().unwrap().clone();

    // 3. The evidence route, closed loop: a new connection a check (as the photo route's
    // figures are), then each client on one kept-alive connection (as the console's page).
    let evidence_loop = |keep_alive| {
        let (lat, statuses, elapsed) =
            closed_loop(addr, "/v1/checks/evidence", &token, &evidence, phase, keep_alive);
        let rate = lat.len() as f64 / elapsed.as_secs_f64();
        (lat, statuses, rate)
    };
    let (ev_lat, ev_statuses, ev_rate) = evidence_loop(false);
    let (ka_lat, ka_statuses, ka_rate) = evidence_loop(true);
    let ev_other = (ev_statuses.iter().chain(&ka_statuses))
        .filter(|s| **s != 200)
        .count();
    let ev_bytes = evidence.iter().map(|e| e.1.len()).max().unwrap_or(0);

    let lost = rt.block_on(async {
        let mut lost = 0;
        for id in &acked {
            if w.state.store().copy(id).await.unwrap().is_none() {
                lost += 1;
            }
        }
        lost
    });
    server.stop(&rt).unwrap();

    println!(
        "\nservice load test on loopback: {CLIENTS} clients, {slots} check slots, {jpeg_kb} KiB 720x1280 JPEGs \
         (normal level, one photo a check; {genuine} of {} captures genuine, the rest inconclusive), SQLite",
        bodies.len()
    );
    println!("| phase | checks | rate | p50 | p99 | 503 | other errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| closed loop, {CLIENTS} clients | {} | {rate:.1}/s | {:.0} ms | {:.0} ms | {} | {} |",
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        closed_statuses.iter().filter(|s| **s == 503).count(),
        closed_other - closed_statuses.iter().filter(|s| **s == 503).count()
    );
    println!(
        "| open loop at {target:.0}/s offered | {} answered | {:.1}/s | | | {} (p99 {:.1} ms) | {} |",
        answered.len(),
        answered.len() as f64 / phase.as_secs_f64(),
        refused.len(),
        ms(percentile(&refused, 0.99)),
        other.len()
    );
    for (how, lat, statuses, rate) in [
        ("a connection a check", &ev_lat, &ev_statuses, ev_rate),
        ("connections kept alive", &ka_lat, &ka_statuses, ka_rate),
    ] {
        let busy = statuses.iter().filter(|s| **s == 503).count();
        println!(
            "| evidence route, closed loop, {CLIENTS} clients, {how} | {} | {rate:.1}/s | {:.1} ms | {:.1} ms | {busy} | {} |",
            lat.len(),
            ms(percentile(lat, 0.5)),
            ms(percentile(lat, 0.99)),
            statuses.iter().filter(|s| **s != 200).count() - busy
        );
    }
    println!(
        "copies during the open loop: {} acknowledged, {copies_refused} refused with 503, {lost} lost",
        acked.len()
    );
    println!(
        "evidence route: {ev_rate:.0} checks/s ({ka_rate:.0}/s kept alive) = {:.1}x ({:.1}x) the photo \
         route's {rate:.1}/s; a one-frame check sends {ev_bytes} bytes of evidence against {jpeg_kb} KiB \
         of photo",
        ev_rate / rate.max(1e-9),
        ka_rate / rate.max(1e-9)
    );
    assert_eq!(
        ev_other, 0,
        "the evidence route answered other than 200: {ev_statuses:?}"
    );
    assert!(
        other.is_empty(),
        "errors other than 503 under overload: {other:?}"
    );
    assert_eq!(lost, 0, "acknowledged copies were lost");
}
