//! `holoid serve`, `holoid token`, `holoid audit` and `holoid keygen`: running the verifier
//! service and administering it. Part of the `holoid` binary; the service is
//! `holoid_service`.

use std::path::{Path, PathBuf};

use crate::files::{read_text, write_atomic};
use holoid_core::keys::{IssuerPublic, IssuerSecret, KeyKind, MasterKey};
use holoid_service::auth::{Role, View, random_bytes, valid_office};
use holoid_service::store::{Store, TokenEnd};
use holoid_service::{AppState, ServiceConfig, ServiceKeys, audit, witness};

use crate::{Failure, Outcome, usage};

/// Runs the verifier service: the forgery-check API, digital copies and the audit log.
///
/// Keys come from files or from environment variables holding the key text (never logged):
/// HOLOID_MASTER_KEY, HOLOID_ISSUER_PUB, HOLOID_COPY_KEY. The database is created and
/// migrated on start. SIGTERM or Ctrl-C stops taking requests and finishes those in flight.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  holoid keygen --kind copy --out /etc/holoid/copy.key\n  holoid serve --listen 127.0.0.1:8080 --db sqlite:/var/lib/holoid/holoid.db \\\n      --master-key /etc/holoid/master.key --issuer-pub /etc/holoid/issuer.pub \\\n      --copy-key /etc/holoid/copy.key\n  holoid serve --listen 0.0.0.0:8080 --db postgres://holoid@db/holoid ..."
)]
pub struct ServeCli {
    /// Address to listen on (port 0 picks a free port, printed on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Database: sqlite:PATH (created on first start) or postgres://USER@HOST/DB.
    #[arg(long, value_name = "URL", default_value = "sqlite:holoid.db")]
    db: String,
    /// The issuer's pattern master key file (or HOLOID_MASTER_KEY).
    #[arg(long, value_name = "FILE")]
    master_key: Option<PathBuf>,
    /// The issuer's public key file (or HOLOID_ISSUER_PUB).
    #[arg(long, value_name = "FILE")]
    issuer_pub: Option<PathBuf>,
    /// The service's copy-signing key file (or HOLOID_COPY_KEY); make one with holoid keygen.
    #[arg(long, value_name = "FILE")]
    copy_key: Option<PathBuf>,
    /// The public file of a copy key used before --copy-key (repeat for each): copies it
    /// signed still verify, and at start the audit head it signed is checked with the whole
    /// log and signed again with the new key (audited as copy_key_rotate). See "Rotating the
    /// copy key" in docs/service.md.
    #[arg(long, value_name = "FILE")]
    retired_copy_pub: Vec<PathBuf>,
    /// The issuer's signing key file (or HOLOID_ISSUER_KEY), for a service that issues: it
    /// signs the documents of phones enrolled by QR offer (POST /v1/credentials/ID/offers,
    /// POST /v1/enrol) and the status lists at /v1/status-lists/N. Without it the service
    /// neither issues nor publishes lists.
    #[arg(long, value_name = "FILE")]
    issuer_key: Option<PathBuf>,
    /// Days a digital copy is kept.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3650))]
    retention_days: u64,
    /// Checks computed at once (more are answered 503). By default, twice the cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    max_concurrent_checks: Option<u64>,
    /// Largest request body, MiB.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    max_body_mb: u64,
    /// Appends every signed audit head to FILE (one JSON line each), and checks the log against
    /// the heads already there at start. Put it where a database writer cannot reach (a
    /// write-once share, another host's mount): a wiped, rolled-back or rewritten database is
    /// then caught, and the service refuses audited writes until it is restored.
    #[arg(long, value_name = "FILE")]
    audit_witness: Option<PathBuf>,
    /// The console's WebAssembly detector: the directory `bash scripts/check-wasm-build.sh`
    /// writes (target/wasm/pkg: holoid_wasm.js and holoid_wasm_bg.wasm). With it the console
    /// reads camera frames in the browser and sends the service only what it measured (about
    /// 3 kB a burst), never the photos; without it the console sends photos.
    #[arg(long, value_name = "DIR")]
    console_wasm: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key. Answers then
    /// carry Strict-Transport-Security.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key (PKCS#8, PKCS#1 or SEC1); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback, for a server behind a TLS-terminating
    /// proxy on the same host or a private link. Without it, a non-loopback address needs
    /// --tls-cert: bearer tokens, ID photos and copies must not cross a network in clear.
    #[arg(long)]
    insecure_behind_proxy: bool,
}

/// Makes, lists and revokes bearer tokens for people.
#[derive(clap::Subcommand)]
pub enum TokenCmd {
    /// Makes a token for a person with a role and an office, and prints it (once: only its
    /// hash is stored). Tokens expire (12 h by default); making one is audited, so the
    /// service's copy-signing key is needed (it signs the audit log's head).
    #[command(
        after_help = "Example:\n  holoid token create --db sqlite:holoid.db --copy-key /etc/holoid/copy.key \\\n      --role officer --office seoul-jongno --name \"Kim Officer\" --valid-for 12h"
    )]
    Create {
        /// The service's database.
        #[arg(long, value_name = "URL", default_value = "sqlite:holoid.db")]
        db: String,
        /// The service's copy-signing key file (or HOLOID_COPY_KEY).
        #[arg(long, value_name = "FILE")]
        copy_key: Option<PathBuf>,
        /// officer, auditor or admin.
        #[arg(long)]
        role: Role,
        /// What an officer's token sees of a check: identity (the whole registered record and
        /// copies: offices, banks), age (only "19+" or "under 19" and the portrait: shops; age:N
        /// for another threshold) or kiosk (checks only, no personal data).
        #[arg(long, default_value = "identity")]
        view: View,
        /// The office (letters, digits, -, _ and .).
        #[arg(long)]
        office: String,
        /// The person's name (printed on the copies an officer makes).
        #[arg(long)]
        name: String,
        /// How long it works: 30m, 12h, 7d… (at most 400d).
        #[arg(long, value_name = "DURATION", default_value = "12h", value_parser = parse_duration)]
        valid_for: std::time::Duration,
    },
    /// Lists the tokens: id, role, office, name, made, expiry, revocation (never the token).
    List {
        /// The service's database.
        #[arg(long, value_name = "URL", default_value = "sqlite:holoid.db")]
        db: String,
    },
    /// Revokes a token by its id (from `holoid token list`): it stops working on every server
    /// at once. Audited.
    #[command(
        after_help = "Example:\n  holoid token revoke --db sqlite:holoid.db --copy-key /etc/holoid/copy.key --id 3f2a…"
    )]
    Revoke {
        /// The service's database.
        #[arg(long, value_name = "URL", default_value = "sqlite:holoid.db")]
        db: String,
        /// The service's copy-signing key file (or HOLOID_COPY_KEY).
        #[arg(long, value_name = "FILE")]
        copy_key: Option<PathBuf>,
        /// The token's id (not the token).
        #[arg(long)]
        id: String,
    },
}

/// Reads `30m`, `12h`, `7d`, `90s`: a duration from 1 s to 400 days.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{text}`: give a number and a unit: 90s, 30m, 12h or 7d");
    let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    if !(1..=400 * 86_400).contains(&secs) {
        return Err(format!("`{text}`: between 1 s and 400 days"));
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// Checks the audit log.
#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Verifies the audit log's hash chain, Merkle root and signed head, and — given heads
    /// saved earlier — that the log still extends each of them. Names what was done: an entry
    /// edited, deleted or reordered, entries cut off the end, the head rewritten, the log
    /// wiped, rolled back, replaced or rewritten. Exit status 0 intact, 1 broken, 2 unreadable.
    #[command(
        after_help = "Example:\n  holoid audit verify --db sqlite:holoid.db --copy-pub /etc/holoid/copy.key.pub\n  holoid audit verify --db sqlite:holoid.db --copy-pub copy.key.pub --against /mnt/witness/holoid-heads.jsonl\n  curl -H 'Authorization: Bearer …' https://verifier/v1/audit/head > head.json   # saved now …\n  holoid audit verify --db sqlite:holoid.db --copy-pub copy.key.pub --against head.json   # … checked later"
    )]
    Verify {
        /// The service's database.
        #[arg(long, value_name = "URL", default_value = "sqlite:holoid.db")]
        db: String,
        /// The public half of the service's copy-signing key (from holoid keygen).
        #[arg(long, value_name = "FILE")]
        copy_pub: PathBuf,
        /// The public file of a copy key used before (repeat for each): heads it signed count.
        #[arg(long, value_name = "FILE")]
        retired_copy_pub: Vec<PathBuf>,
        /// Heads saved earlier: the witness file (`serve --audit-witness`) or one head as
        /// `GET /v1/audit/head` answered it.
        #[arg(long, value_name = "HEAD_FILE")]
        against: Option<PathBuf>,
    },
}

/// Checks a verified digital copy.
#[derive(clap::Subcommand)]
pub enum CopyCmd {
    /// Checks a copy offline: the record's signature with the service's copy-signing public key,
    /// and that the image is the one the record names (its SHA-256). The record file is the
    /// copy's JSON as `GET /v1/copies/ID` answers it. Exit status 0 genuine, 1 not, 2 unreadable.
    #[command(
        after_help = "Example:\n  curl -H 'Authorization: Bearer …' https://verifier/v1/copies/ID > copy.json\n  curl -H 'Authorization: Bearer …' https://verifier/v1/copies/ID/image.png > copy.png\n  holoid copy verify --record copy.json --image copy.png --pub copy.key.pub\n\nThe signature is Ed25519 (RFC 8032) over the bytes `holoid/v1/copy-signature` followed by\nrecord_json exactly as stored (canonical JSON: keys sorted, no spaces)."
    )]
    Verify {
        /// The copy's JSON (`record_json` and `signature` are what is checked).
        #[arg(long, value_name = "FILE")]
        record: PathBuf,
        /// The copy's image (PNG).
        #[arg(long, value_name = "FILE")]
        image: PathBuf,
        /// The service's copy-signing public key (`holoid keygen --kind copy` wrote it).
        #[arg(long = "pub", value_name = "FILE")]
        public: PathBuf,
    },
}

/// Makes a random key file.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  holoid keygen --kind copy --out copy.key   # also writes copy.key.pub")]
pub struct KeygenCli {
    /// master (pattern master key), issuer (credential signing key) or copy (the service's
    /// copy-signing key).
    #[arg(long)]
    kind: String,
    /// The key file to write (mode 0600); signing keys also get FILE.pub.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))
}

/// A key's text from its file, or from the environment variable.
fn key_text(path: Option<&Path>, var: &str, what: &str, flag: &str) -> Result<String, Failure> {
    match path {
        Some(p) => read_text(p, what, 4096).map_err(usage),
        None => std::env::var(var)
            .map_err(|_| usage(format!("give {flag} FILE or set {var} to the {what}'s text"))),
    }
}

pub fn serve(a: &ServeCli) -> Outcome {
    let master = MasterKey::from_text(&key_text(
        a.master_key.as_deref(),
        "HOLOID_MASTER_KEY",
        "master key",
        "--master-key",
    )?)
    .map_err(|e| usage(format!("master key: {e}")))?;
    let issuer = IssuerPublic::from_text(&key_text(
        a.issuer_pub.as_deref(),
        "HOLOID_ISSUER_PUB",
        "issuer public key",
        "--issuer-pub",
    )?)
    .map_err(|e| usage(format!("issuer public key: {e}")))?;
    let copy_key = copy_key_of(a.copy_key.as_deref())?;
    let retired_copy_keys = a
        .retired_copy_pub
        .iter()
        .map(|p| copy_public_of(p))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(same) = retired_copy_keys.iter().find(|k| **k == copy_key.public()) {
        return Err(usage(format!(
            "--retired-copy-pub names the current copy key {}: retire a key only after --copy-key is a new one",
            same.key_id()
        )));
    }
    let issuer_text = match &a.issuer_key {
        Some(p) => Some(read_text(p, "issuer signing key", 4096).map_err(usage)?),
        None => std::env::var("HOLOID_ISSUER_KEY").ok(),
    };
    let issuer_secret = issuer_text
        .map(|t| IssuerSecret::from_text(&t).map_err(|e| usage(format!("issuer signing key: {e}"))))
        .transpose()?;
    if let Some(k) = &issuer_secret
        && k.public() != issuer
    {
        return Err(usage(
            "the issuer signing key is not the one whose public key --issuer-pub names",
        ));
    }
    let mut config = ServiceConfig {
        retention: std::time::Duration::from_secs(a.retention_days * 86_400),
        max_body_bytes: (a.max_body_mb as usize) << 20,
        audit_witness: a.audit_witness.clone(),
        console_wasm: (a.console_wasm.as_deref())
            .map(holoid_service::ConsoleWasm::load)
            .transpose()
            .map_err(|e| usage(format!("--console-wasm: {e}")))?,
        ..Default::default()
    };
    if let Some(n) = a.max_concurrent_checks {
        config.max_concurrent_checks = n as usize;
    }
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => {
            warn_if_readable(key);
            Some(holoid_service::listen::tls_config(cert, key).map_err(usage)?)
        }
        _ => None,
    };
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .map_err(|e| usage(format!("cannot listen on {}: {e}", a.listen)))?;
        let addr = listener.local_addr().map_err(usage)?;
        if tls.is_none() && !addr.ip().is_loopback() && !a.insecure_behind_proxy {
            return Err(usage(format!(
                "{addr} is reachable from the network: give --tls-cert and --tls-key, or \
                 --insecure-behind-proxy when a TLS proxy on this host forwards to it"
            )));
        }
        let store = Store::open(&a.db).await.map_err(usage)?;
        let backend = format!("{:?}", store.backend()).to_lowercase();
        let state = AppState::new(
            store,
            ServiceKeys {
                master,
                issuer,
                copy_key,
                retired_copy_keys,
                issuer_secret,
            },
            config,
        );
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("holoid serve: listening on {scheme}://{addr} ({backend} database)");
        holoid_service::serve_tls(listener, state, tls, shutdown_signal())
            .await
            .map_err(|e| usage(format!("the server failed: {e}")))?;
        println!("holoid serve: stopped");
        Ok(())
    })
}

/// Says so when a private key file can be read by every user of the machine.
fn warn_if_readable(key: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(key)
            && meta.permissions().mode() & 0o004 != 0
        {
            eprintln!(
                "holoid serve: warning: `{}` can be read by every user of this machine: chmod 600 it",
                key.display()
            );
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("holoid serve: stopping: finishing the requests in flight");
}

/// A copy key's public file (the label `holoid keygen --kind copy` writes, or the older one).
fn copy_public_of(path: &Path) -> Result<IssuerPublic, Failure> {
    IssuerPublic::from_copy_text(&read_text(path, "copy-signing public key", 4096).map_err(usage)?)
        .map_err(|e| usage(format!("`{}`: {e}", path.display())))
}

fn copy_key_of(path: Option<&Path>) -> Result<IssuerSecret, Failure> {
    IssuerSecret::from_text_of(
        KeyKind::CopySecret,
        &key_text(path, "HOLOID_COPY_KEY", "copy-signing key", "--copy-key")?,
    )
    .map_err(|e| usage(format!("copy-signing key: {e}")))
}

/// Who acts from the command line, for the audit log.
const CLI_ACTOR: &str = "cli";

pub fn token(cmd: &TokenCmd) -> Outcome {
    match cmd {
        TokenCmd::Create {
            db,
            copy_key,
            role,
            view,
            office,
            name,
            valid_for,
        } => {
            if *role != Role::Officer && *view != View::Identity {
                return Err(usage(format!(
                    "--view {view}: only an officer's token has a view (a {role} sees the whole record)"
                )));
            }
            if !valid_office(office) {
                return Err(usage(format!(
                    "office `{office}`: use 1 to 64 letters, digits, -, _ or ."
                )));
            }
            if name.trim().is_empty() || name.chars().count() > 100 {
                return Err(usage("--name: give the person's name, 1 to 100 characters"));
            }
            let key = copy_key_of(copy_key.as_deref())?;
            let token = runtime()?.block_on(async {
                let store = Store::open(db).await.map_err(usage)?;
                holoid_service::api::create_token(
                    &store,
                    *role,
                    *view,
                    office,
                    name.trim(),
                    *valid_for,
                    CLI_ACTOR,
                    &key,
                )
                .await
                .map_err(usage)
            })?;
            eprintln!(
                "made a token with the role {role} and the view {view} for office {office}, valid for {} h \
                 (shown once; only its hash is stored):",
                valid_for.as_secs_f64() / 3600.0
            );
            println!("{token}");
            Ok(())
        }
        TokenCmd::List { db } => {
            let tokens = runtime()?.block_on(async {
                let store = Store::open(db).await.map_err(usage)?;
                store.list_tokens().await.map_err(usage)
            })?;
            let when = |ms: i64| holoid_core::time::UnixMillis(ms.max(0) as u64).to_rfc3339();
            let now = holoid_service::store::now_ms();
            println!(
                "id                               role     view      office           made                      state"
            );
            for t in &tokens {
                let state = match (t.unusable_at(now), t.expires_ms) {
                    (Some(TokenEnd::Revoked(at)), _) => format!("revoked {}", when(at)),
                    (Some(TokenEnd::Expired(at)), _) => format!("expired {}", when(at)),
                    (None, Some(at)) => format!("valid until {}", when(at)),
                    (None, None) => "valid, never expires (made before tokens expired: revoke it)".into(),
                };
                let view = View::from_stored(t.view_kind.as_deref(), t.age_over)
                    .map_or_else(|e| format!("unreadable view ({e})"), |v| v.to_string());
                println!(
                    "{}  {:<8} {:<9} {:<16} {}  {state}  ({})",
                    t.id,
                    t.role,
                    view,
                    t.office,
                    when(t.created_ms),
                    t.name
                );
            }
            eprintln!("{} tokens", tokens.len());
            Ok(())
        }
        TokenCmd::Revoke { db, copy_key, id } => {
            let key = copy_key_of(copy_key.as_deref())?;
            let found = runtime()?.block_on(async {
                let store = Store::open(db).await.map_err(usage)?;
                let token = store
                    .list_tokens()
                    .await
                    .map_err(usage)?
                    .into_iter()
                    .find(|t| &t.id == id);
                let Some(token) = token else { return Ok(None) };
                let event = holoid_service::audit::AuditEvent {
                    at_ms: holoid_service::store::now_ms(),
                    actor: CLI_ACTOR.into(),
                    office: token.office.clone(),
                    action: "token_revoke".into(),
                    subject: id.clone(),
                };
                store.revoke_token(id, event, &key).await.map_err(usage)?;
                Ok::<_, Failure>(Some(token))
            })?;
            match found {
                Some(t) => {
                    println!("revoked token {id} ({} {}, {})", t.role, t.office, t.name);
                    Ok(())
                }
                None => Err(usage(format!(
                    "no token with the id `{id}` (see holoid token list)"
                ))),
            }
        }
    }
}

pub fn audit(cmd: &AuditCmd) -> Outcome {
    let AuditCmd::Verify {
        db,
        copy_pub,
        retired_copy_pub,
        against,
    } = cmd;
    let ring = std::iter::once(copy_pub)
        .chain(retired_copy_pub)
        .map(|p| copy_public_of(p))
        .collect::<Result<Vec<_>, _>>()?;
    let saved = match against {
        Some(path) => {
            if !path.is_file() {
                return Err(usage(format!("--against `{}`: no such file", path.display())));
            }
            let heads = witness::read(path).map_err(usage)?;
            if heads.is_empty() {
                return Err(usage(format!("--against `{}` holds no head", path.display())));
            }
            heads
        }
        None => Vec::new(),
    };
    let (entries, head) = runtime()?.block_on(async {
        let store = Store::open(db).await.map_err(usage)?;
        let entries = store.all_audit_entries().await.map_err(usage)?;
        let head = store.audit_head().await.map_err(usage)?;
        Ok::<_, Failure>((entries, head))
    })?;
    match audit::verify(&entries, head.as_ref(), &ring, &saved) {
        Ok(n) => {
            match &head {
                Some(h) => println!(
                    "audit log {} intact: {n} entries, signed head at entry {n} ({}, key {})",
                    h.log_id_hex(),
                    holoid_core::time::UnixMillis(h.time_ms.max(0) as u64),
                    h.key_id
                ),
                None => println!("audit log intact: empty, no head signed yet"),
            }
            if let Some(newest) = saved.iter().max_by_key(|h| h.size) {
                println!(
                    "it extends all {} saved heads (the newest: {} entries)",
                    saved.len(),
                    newest.size
                );
            }
            Ok(())
        }
        Err(e) => Err(Failure::Invalid(format!("audit log broken: {e}"))),
    }
}

pub fn copy(cmd: &CopyCmd) -> Outcome {
    let CopyCmd::Verify {
        record,
        image,
        public,
    } = cmd;
    let key = copy_public_of(public)?;
    let text = read_text(record, "copy record", 1 << 20).map_err(usage)?;
    let copy: holoid_service::responses::Copy = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "`{}` is not a copy's JSON (as GET /v1/copies/ID answers): {e}",
            record.display()
        ))
    })?;
    let png = std::fs::read(image).map_err(|e| usage(format!("cannot read `{}`: {e}", image.display())))?;
    let signature = holoid_core::encoding::from_hex::<64>(&copy.signature)
        .map_err(|_| Failure::Invalid("the copy's signature is not 64 bytes of hex".into()))?;
    let named = serde_json::from_str::<holoid_service::responses::CopyRecordJson>(&copy.record_json)
        .ok()
        .and_then(|r| r.key_id);
    if let Some(named) = named.filter(|id| *id != key.key_id()) {
        return Err(Failure::Invalid(format!(
            "the copy was signed by key {named}, and `{}` is key {}: give that key's public file \
             (a retired copy key, if the service's key was rotated since)",
            public.display(),
            key.key_id()
        )));
    }
    if !holoid_service::copy::verify_record(&copy.record_json, &signature, &key) {
        return Err(Failure::Invalid(format!(
            "the copy's record is not signed by key {}: it was changed, or signed by another service",
            key.key_id()
        )));
    }
    // What is shown must be what was signed.
    let signed: holoid_service::responses::CopyRecordJson = serde_json::from_str(&copy.record_json)
        .map_err(|e| Failure::Invalid(format!("the signed record is not a copy record: {e}")))?;
    if signed != copy.record {
        return Err(Failure::Invalid(
            "the record shown differs from the signed one: trust only record_json".into(),
        ));
    }
    if holoid_service::copy::sha256_hex(&png) != signed.image_sha256 {
        return Err(Failure::Invalid(format!(
            "`{}` is not the copy's image: its SHA-256 differs from the signed record's",
            image.display()
        )));
    }
    println!(
        "copy {} is genuine: signed by key {}, image matches",
        signed.copy_id,
        key.key_id()
    );
    println!(
        "  credential {} checked at {} by {} ({}) for \"{}\"; kept until {}",
        signed.credential_id,
        signed.office,
        signed.officer,
        signed.created_at,
        signed.purpose,
        signed.expires_at
    );
    Ok(())
}

pub fn keygen(a: &KeygenCli) -> Outcome {
    let seed = random_bytes::<32>();
    let (secret, public) = match a.kind.as_str() {
        "master" => (MasterKey::from_bytes(seed).to_text(), None),
        "issuer" => {
            let k = IssuerSecret::from_bytes(seed);
            (k.to_text(), Some(k.public().to_text()))
        }
        "copy" => {
            let k = IssuerSecret::from_bytes(seed);
            (k.to_text_of(KeyKind::CopySecret), Some(k.public().to_copy_text()))
        }
        other => return Err(usage(format!("--kind {other}: use master, issuer or copy"))),
    };
    let pub_path = PathBuf::from(format!("{}.pub", a.out.display()));
    for p in std::iter::once(&a.out).chain(public.as_ref().map(|_| &pub_path)) {
        if p.exists() && !a.force {
            return Err(usage(format!(
                "`{}` exists: pass --force to overwrite",
                p.display()
            )));
        }
    }
    write_atomic(&a.out, secret.as_bytes(), true).map_err(usage)?;
    println!("wrote {} (secret, mode 0600)", a.out.display());
    if let Some(p) = public {
        write_atomic(&pub_path, p.as_bytes(), false).map_err(usage)?;
        println!("wrote {}", pub_path.display());
    }
    Ok(())
}
