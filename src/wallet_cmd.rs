//! `holoid wallet enrol`: the command line plays the holder's phone. It makes a fresh X25519
//! key pair, sends the offer from the office's QR code and the public key to the service's
//! `POST /v1/enrol`, opens the device key sealed to it, checks everything
//! (`holoid_core::enrol::Enrolment::finish`) and writes what `holoid render` and `holoid view`
//! take: `credential.json`, `device.key` and the portrait.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;

use crate::files::write_atomic;
use crate::{Failure, Outcome, load_key, usage};
use holoid_core::enrol::{EnrolError, Enrolment, Offer, WalletKeyPair};
use holoid_core::keys::IssuerPublic;

/// What a phone does with the card.
#[derive(clap::Subcommand)]
pub enum WalletCmd {
    Enrol(EnrolCli),
}

/// Enrols this "phone" with a one-time offer from the office's QR code.
///
/// Makes a fresh key pair, sends the offer and the public key to the service, opens the
/// device key sealed to this key pair, checks it against the credential's commitment (and the
/// issuer's signature with --issuer-pub), and writes credential.json, device.key (mode 0600)
/// and the portrait into DIR. The offer works once: files already in DIR are refused before
/// anything is sent, so a mistake does not spend it.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  holoid wallet enrol --offer HOLOID:OFFER1:… --server http://127.0.0.1:8080 \\\n      --issuer-pub /tmp/demo/issuer.pub --out /tmp/phone\n  holoid render --credential /tmp/phone/credential.json --device-key /tmp/phone/device.key --out card.png"
)]
pub struct EnrolCli {
    /// The offer's text (what the QR code holds: HOLOID:OFFER1:…).
    #[arg(long, value_name = "TEXT")]
    offer: String,
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The issuing service (https:// or, on this machine or a trusted link, http://).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Trust the certificate authorities in this PEM file for an https:// server (an office's
    /// own CA); by default, the Mozilla roots.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// The issuer's public key file: the credential's signature is checked with it.
    #[arg(long, value_name = "FILE")]
    issuer_pub: Option<PathBuf>,
    /// Overwrite files that already exist in DIR.
    #[arg(long)]
    force: bool,
}

/// The largest answer accepted, bytes (a portrait and a document).
const MAX_ANSWER_BYTES: usize = 8 << 20;
/// How long the whole exchange may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(cmd: &WalletCmd) -> Outcome {
    match cmd {
        WalletCmd::Enrol(a) => enrol(a),
    }
}

fn enrol(a: &EnrolCli) -> Outcome {
    let offer = Offer::parse(&a.offer).map_err(usage)?;
    let issuer = match &a.issuer_pub {
        Some(p) => Some(load_key(p, "issuer public key", IssuerPublic::from_text)?),
        None => None,
    };
    let (uri, authority, https) = enrol_uri(&a.server)?;
    if a.ca_cert.is_some() && !https {
        return Err(usage("--ca-cert is for an https:// --server"));
    }
    let tls = match https {
        true => Some(holoid_service::listen::client_config(a.ca_cert.as_deref()).map_err(usage)?),
        false => None,
    };
    refuse_existing(&a.out, a.force)?;
    let keys = WalletKeyPair::generate();
    let body = serde_json::to_vec(&keys.request(&offer)).map_err(usage)?;
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))?;
    let (status, answer) = rt
        .block_on(async { tokio::time::timeout(TIMEOUT, post_json(&uri, &authority, body, tls)).await })
        .map_err(|_| {
            usage(format!(
                "{} did not answer within {} s",
                a.server,
                TIMEOUT.as_secs()
            ))
        })??;
    if status != StatusCode::CREATED {
        return Err(Failure::Invalid(format!(
            "the service refused the enrolment ({status}): {}",
            error_message(&answer)
        )));
    }
    let enrolment: Enrolment = serde_json::from_slice(&answer)
        .map_err(|e| Failure::Invalid(format!("the service's answer is not an enrolment: {e}")))?;
    let done = enrolment
        .finish(&keys, issuer.as_ref())
        .map_err(|e: EnrolError| Failure::Invalid(e.to_string()))?;
    let took = started.elapsed();
    let c = &done.credential.credential;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| usage(format!("cannot create `{}`: {e}", a.out.display())))?;
    let key_text = zeroize::Zeroizing::new(done.device_key.to_text());
    let files: [(&str, &[u8], bool); 3] = [
        (c.portrait.file.as_str(), &done.portrait_png, false),
        ("device.key", key_text.as_bytes(), true),
        ("credential.json", done.credential_json.as_bytes(), false),
    ];
    for (name, bytes, secret) in files {
        write_atomic(&a.out.join(name), bytes, secret).map_err(usage)?;
    }
    println!(
        "enrolled {} ({} / {}) on this phone: device epoch {}, in {} ms{}",
        c.id,
        c.holder.name_hangul,
        c.holder.name_latin,
        c.device_epoch,
        took.as_millis(),
        if issuer.is_some() {
            ", issuer's signature checked"
        } else {
            " (pass --issuer-pub to check the issuer's signature)"
        }
    );
    println!("  every earlier phone's enrolment of this card has ended");
    for (name, _, secret) in files {
        println!(
            "  {}{}",
            a.out.join(name).display(),
            if secret { "  (secret, mode 0600)" } else { "" }
        );
    }
    Ok(())
}

/// The enrolment URL of `server`, its authority (for the Host header) and whether it is https.
fn enrol_uri(server: &str) -> Result<(Uri, String, bool), Failure> {
    let base: Uri = server
        .parse()
        .map_err(|e| usage(format!("--server `{server}` is not a URL: {e}")))?;
    let https = match base.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return Err(usage(format!(
                "--server `{server}` must begin with https:// or http://"
            )));
        }
    };
    let authority = base
        .authority()
        .ok_or_else(|| usage(format!("--server `{server}` names no host")))?
        .to_string();
    let prefix = base.path().trim_end_matches('/');
    let scheme = if https { "https" } else { "http" };
    let uri: Uri = format!("{scheme}://{authority}{prefix}/v1/enrol")
        .parse()
        .map_err(|e| usage(format!("--server `{server}`: {e}")))?;
    Ok((uri, authority, https))
}

/// Refuses to overwrite a wallet unless `force`.
fn refuse_existing(out: &Path, force: bool) -> Outcome {
    if out.exists() && !out.is_dir() {
        return Err(usage(format!(
            "`{}` exists and is not a directory",
            out.display()
        )));
    }
    let existing = ["credential.json", "device.key"]
        .iter()
        .map(|n| out.join(n))
        .find(|p| p.exists());
    match (force, existing) {
        (false, Some(p)) => Err(usage(format!(
            "`{}` already exists: choose another --out directory, or pass --force to overwrite \
             (nothing was sent: the offer is still unused)",
            p.display()
        ))),
        _ => Ok(()),
    }
}

/// POSTs `body` as JSON over HTTP/1.1, over TLS with `tls`: the status and the body (at most
/// [`MAX_ANSWER_BYTES`]).
async fn post_json(
    uri: &Uri,
    authority: &str,
    body: Vec<u8>,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<(StatusCode, Bytes), Failure> {
    let host = uri.host().unwrap_or("localhost");
    let port = uri.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
    let unreachable =
        |e: &dyn std::fmt::Display| usage(format!("cannot reach the service at {authority}: {e}"));
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| unreachable(&e))?;
    let request = Request::post(uri.path())
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(usage)?;
    let Some(tls) = tls else {
        return exchange(stream, request, authority).await;
    };
    let name =
        rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string()).map_err(|e| {
            usage(format!(
                "--server: `{host}` cannot be checked against a certificate: {e}"
            ))
        })?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, stream)
        .await
        .map_err(|e| usage(format!("TLS with {authority} failed: {e}")))?;
    exchange(stream, request, authority).await
}

/// One request and its answer on a connected stream.
async fn exchange<I>(
    io: I,
    request: Request<Full<Bytes>>,
    authority: &str,
) -> Result<(StatusCode, Bytes), Failure>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let unreachable =
        |e: &dyn std::fmt::Display| usage(format!("cannot reach the service at {authority}: {e}"));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| unreachable(&e))?;
    let connection = tokio::spawn(conn);
    let response = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| usage(format!("reading the service's answer: {e}")))?
        .to_bytes();
    connection.abort();
    Ok((status, bytes))
}

/// The message of an error answer, or what the body holds.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<holoid_service::responses::ErrorBody>(body)
        .map(|e| format!("{} ({})", e.error.message, e.error.code))
        .unwrap_or_else(|_| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned())
}
