//! The service's front door on real sockets: TLS with a certificate made at test time (and
//! what a client without the CA, or a plain-HTTP client, gets), HSTS, a slow client cut off by
//! the header-read timeout, connections over the cap closed at once, and PostgreSQL's
//! `sslmode` honoured (against HOLOID_TEST_POSTGRES_URL; skipped loudly when unset).

use holoid_testkit::service as support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use holoid_service::ServiceConfig;
use holoid_service::listen::{Limits, TlsError, client_config, tls_config};
use holoid_service::store::Store;
use holoid_testkit::{http, pki};
use support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// How long until the server closes `s` (reads until end of stream), at most `limit`.
fn closed_after(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(started.elapsed()), // reset
        }
    }
}

#[test]
fn tls_serves_with_hsts_and_refuses_what_it_cannot_trust() {
    let dir = scratch("tls");
    let pki = pki::make(&dir);
    let rt = runtime();
    let w = rt.block_on(world(&sqlite_url("tls"), ServiceConfig::default()));
    let tls = tls_config(&pki.cert, &pki.key).unwrap();
    let serving = Serving::start_tls(&rt, w.state.clone(), Some(tls));
    let addr = serving.addr;
    let trusting = client_config(Some(&pki.ca)).unwrap();

    let r = http::request_tls(addr, "localhost", trusting.clone(), "GET", "/healthz", None, None).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"));
    let r = http::request_tls(
        addr,
        "localhost",
        trusting.clone(),
        "GET",
        "/v1/me",
        Some(&w.tokens.officer),
        None,
    )
    .unwrap();
    assert_eq!((r.status, r.json()["role"].as_str()), (200, Some("officer")));

    // A client with only the public roots does not trust a private CA; one checking another
    // name does not accept this certificate; a plain-HTTP client gets no answer.
    let public = client_config(None).unwrap();
    let e = http::request_tls(addr, "localhost", public, "GET", "/healthz", None, None).unwrap_err();
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    let e = http::request_tls(addr, "verifier.example", trusting, "GET", "/healthz", None, None).unwrap_err();
    assert!(e.to_string().contains("not valid for name"), "{e}");
    assert!(
        http::request(addr, "GET", "/healthz", None, None).map_or(true, |r| r.status != 200),
        "plain HTTP answered on the TLS port"
    );

    // Files that cannot be used are named.
    let missing = dir.join("missing.pem");
    assert!(matches!(tls_config(&missing, &pki.key), Err(TlsError::File(p, _)) if p == missing));
    let e = tls_config(&pki.cert, &pki.other_key).unwrap_err();
    assert!(matches!(e, TlsError::Config(_)), "{e}");
    let e = tls_config(&pki.key, &pki.key).unwrap_err();
    assert!(e.to_string().contains("no CERTIFICATE"), "{e}");
    serving.stop(&rt).unwrap();
}

#[test]
fn slow_clients_are_cut_off_and_connections_over_the_cap_closed() {
    let rt = runtime();
    let limits = Limits {
        header_read_timeout: Duration::from_millis(400),
        max_connections: 2,
        ..Limits::default()
    };
    let config = ServiceConfig {
        connections: limits,
        ..ServiceConfig::default()
    };
    let w = rt.block_on(world(&sqlite_url("slow-clients"), config));
    let serving = Serving::start(&rt, w.state.clone());
    let addr: SocketAddr = serving.addr;

    // Half a request line, then nothing: closed after the header-read timeout.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHo").unwrap();
    let mut idle = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Both slots are held: a third connection is closed at once.
    let mut third = TcpStream::connect(addr).unwrap();
    let t = closed_after(&mut third, Duration::from_secs(2)).expect("the third connection stays open");
    assert!(t < Duration::from_millis(300), "closed only after {t:?}");
    let t = closed_after(&mut slow, Duration::from_secs(5)).expect("a slow client is never cut off");
    assert!(
        t >= Duration::from_millis(200) && t < Duration::from_secs(3),
        "cut off after {t:?}"
    );
    closed_after(&mut idle, Duration::from_secs(5)).expect("an idle connection is never cut off");
    // The slots are free again.
    std::thread::sleep(Duration::from_millis(100));
    let r = http::request(addr, "GET", "/healthz", None, None).unwrap();
    assert_eq!(r.status, 200);
    serving.stop(&rt).unwrap();
}

#[test]
fn postgres_sslmode_is_honoured() {
    let Some(base) = postgres_base() else { return };
    let rt = runtime();
    rt.block_on(async {
        let sep = if base.contains('?') { '&' } else { '?' };
        let server_has_tls = {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&base).await.unwrap();
            let row = sqlx::query("SHOW ssl").fetch_one(&pool).await.unwrap();
            pool.close().await;
            sqlx::Row::try_get::<String, _>(&row, 0).unwrap() == "on"
        };
        let require = Store::open(&format!("{base}{sep}sslmode=require")).await;
        assert_eq!(
            require.is_ok(),
            server_has_tls,
            "sslmode=require: {:?}",
            require.err()
        );
        // verify-full checks the server's certificate against the public roots: a database
        // with a self-signed certificate (or none) is refused, not silently used.
        let e = Store::open(&format!("{base}{sep}sslmode=verify-full"))
            .await
            .err()
            .expect("sslmode=verify-full accepted an unverifiable server");
        eprintln!("sslmode=verify-full refused: {e}");
    });
}
