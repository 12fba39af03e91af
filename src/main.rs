//! The `holoid` command line. It reads the clock and the files; the library does the rest.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};

mod check_cmd;
mod demo_cmd;
mod demo_report;
mod eval_cmd;
mod eval_plot;
mod files;
mod render_cmd;
mod serve_cmd;
mod simulate_cmd;
mod view_cmd;
mod wallet_cmd;

use crate::files::{read_limited, read_text, write_atomic};
use holoid_core::code::{Codeword, Locator, Payload};
use holoid_core::credential::SignedCredential;
use holoid_core::demo::DemoIdentity;
use holoid_core::keys::{IssuerPublic, MasterKey};
use holoid_core::pattern::Pattern;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{AcceptPolicy, WindowPeriod};

const EXIT_HELP: &str = "Exit status: 0 success, 1 the credential is not valid, 2 bad usage or \
an unreadable file; `holoid check` also exits 3 for a forgery and 4 for an inconclusive check.";

/// holoid: anti-forgery rendering and capture protection for ID cards on phone screens.
#[derive(Parser)]
#[command(version, about, after_help = EXIT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Demo(demo_cmd::DemoCli),
    /// Writes a synthetic demo identity: keys, a signed credential and a portrait.
    ///
    /// Files written into DIR: credential.json, portrait.png, issuer.key, issuer.pub,
    /// master.key and device.key. The same seed always gives the same files. The keys are
    /// derived from the seed and are therefore public: use them for demos only.
    #[command(after_help = "Example:\n  holoid demo-credential --out /tmp/demo --seed 7")]
    DemoCredential {
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Seed of the demo identity.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Overwrite files that already exist in DIR.
        #[arg(long)]
        force: bool,
    },
    /// Checks a credential: issuer signature, field rules, portrait hash and validity dates.
    ///
    /// Exit status 0 when valid, 1 when not (the reason is printed), 2 when a file cannot be
    /// read or parsed.
    #[command(
        after_help = "Example:\n  holoid verify-credential --credential /tmp/demo/credential.json \\\n      --issuer-pub /tmp/demo/issuer.pub"
    )]
    VerifyCredential {
        /// The credential file (JSON).
        #[arg(long, value_name = "FILE")]
        credential: PathBuf,
        /// The issuer's public key file.
        #[arg(long, value_name = "FILE")]
        issuer_pub: PathBuf,
        /// The portrait image; by default the file the credential names, beside it.
        #[arg(long, value_name = "FILE")]
        portrait: Option<PathBuf>,
        /// Time to check validity at: Unix seconds or RFC 3339. By default, now.
        #[arg(long, value_name = "TIME")]
        at: Option<UnixMillis>,
    },
    /// Renders the card as the wallet shows it at a given time, into a PNG (on the GPU).
    ///
    /// Uses the adapter chosen by WGPU_BACKEND / WGPU_ADAPTER_NAME or the default one; on a
    /// machine without a GPU, Mesa's lavapipe (apt-get install mesa-vulkan-drivers).
    #[command(
        after_help = "Example:\n  holoid render --credential /tmp/demo/credential.json --device-key /tmp/demo/device.key \\\n      --at 2026-11-25T10:49:52.250Z --tilt -20,10 --out /tmp/card.png"
    )]
    Render(render_cmd::RenderCli),
    Serve(serve_cmd::ServeCli),
    /// Makes, lists and revokes bearer tokens for the verifier service.
    #[command(subcommand)]
    Token(serve_cmd::TokenCmd),
    /// Checks the verifier service's audit log.
    #[command(subcommand)]
    Audit(serve_cmd::AuditCmd),
    /// Checks a verified digital copy offline.
    #[command(subcommand)]
    Copy(serve_cmd::CopyCmd),
    Keygen(serve_cmd::KeygenCli),
    View(view_cmd::ViewCli),
    Simulate(simulate_cmd::SimulateCli),
    Check(check_cmd::CheckCli),
    Eval(eval_cmd::EvalCli),
    /// Plays the holder's phone: enrols with a one-time offer from the office's QR code.
    #[command(subcommand)]
    Wallet(wallet_cmd::WalletCmd),
    /// Shows the time window, pattern and code a card displays at a given time.
    ///
    /// Derives K_dev from the master key and the credential id, then the window seed, the
    /// pattern parameters and the code payload. Secrets are not printed.
    #[command(
        after_help = "Example:\n  holoid window --credential /tmp/demo/credential.json \\\n      --master-key /tmp/demo/master.key --at 2026-11-25T10:49:52Z"
    )]
    Window {
        /// The credential file (JSON).
        #[arg(long, value_name = "FILE")]
        credential: PathBuf,
        /// The pattern master key file.
        #[arg(long, value_name = "FILE")]
        master_key: PathBuf,
        /// Time: Unix seconds or RFC 3339. By default, now.
        #[arg(long, value_name = "TIME")]
        at: Option<UnixMillis>,
        /// Window period in seconds, 1 to 30.
        #[arg(long, default_value_t = WindowPeriod::DEFAULT_SECS.into())]
        period: u64,
    },
}

/// A failure, with the exit status it maps to.
pub(crate) enum Failure {
    /// The input was read but is not valid (exit 1).
    Invalid(String),
    /// Bad usage or an unreadable file (exit 2).
    Usage(String),
    /// The command has printed its answer; exit with this status (`check`: 3 forgery,
    /// 4 inconclusive).
    Status(u8),
}

pub(crate) type Outcome = Result<(), Failure>;

pub(crate) fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(e.to_string())
}

fn now() -> UnixMillis {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    UnixMillis(d.as_millis() as u64)
}

const MAX_CREDENTIAL_BYTES: u64 = 1 << 20;
const MAX_KEY_BYTES: u64 = 4096;
pub(crate) const MAX_PORTRAIT_BYTES: u64 = 16 << 20;

pub(crate) fn load_credential(path: &Path) -> Result<SignedCredential, Failure> {
    let text = read_text(path, "credential", MAX_CREDENTIAL_BYTES).map_err(usage)?;
    SignedCredential::from_json(&text).map_err(|e| usage(format!("credential `{}`: {e}", path.display())))
}

/// What a wallet holds: the credential, its device key (checked against the credential's
/// commitment) and the portrait (checked against the credential's hash).
pub(crate) struct Wallet {
    pub credential: holoid_core::credential::Credential,
    pub device_key: holoid_core::keys::DeviceKey,
    pub portrait: Vec<u8>,
}

/// The portrait file a credential names, beside the credential file.
pub(crate) fn portrait_beside(credential: &Path, c: &holoid_core::credential::Credential) -> PathBuf {
    credential
        .parent()
        .unwrap_or(Path::new("."))
        .join(&c.portrait.file)
}

pub(crate) fn load_wallet(credential: &Path, device_key: &Path) -> Result<Wallet, Failure> {
    let c = load_credential(credential)?.credential;
    let key = load_key(device_key, "device key", holoid_core::keys::DeviceKey::from_text)?;
    c.check_device_key(&key)
        .map_err(|e| usage(format!("device key `{}`: {e}", device_key.display())))?;
    let portrait_path = portrait_beside(credential, &c);
    let portrait = read_limited(&portrait_path, "portrait", MAX_PORTRAIT_BYTES).map_err(usage)?;
    c.portrait.check(&portrait).map_err(usage)?;
    Ok(Wallet {
        credential: c,
        device_key: key,
        portrait,
    })
}

pub(crate) fn load_key<K>(
    path: &Path,
    what: &str,
    parse: impl Fn(&str) -> Result<K, holoid_core::keys::KeyError>,
) -> Result<K, Failure> {
    let text = read_text(path, what, MAX_KEY_BYTES).map_err(usage)?;
    parse(&text).map_err(|e| usage(format!("{what} `{}`: {e}", path.display())))
}

pub(crate) fn demo_credential(out: &Path, seed: u64, force: bool) -> Outcome {
    let demo = DemoIdentity::generate(seed);
    let files: [(&str, Vec<u8>, bool); 6] = [
        ("credential.json", demo.credential.to_json().into_bytes(), false),
        (holoid_core::demo::PORTRAIT_FILE, demo.portrait_png.clone(), false),
        ("issuer.pub", demo.issuer.public().to_text().into_bytes(), false),
        ("issuer.key", demo.issuer.to_text().into_bytes(), true),
        ("master.key", demo.master.to_text().into_bytes(), true),
        (
            "device.key",
            demo.master
                .device_key_for(&demo.credential.credential)
                .to_text()
                .into_bytes(),
            true,
        ),
    ];
    if out.exists() && !out.is_dir() {
        return Err(usage(format!(
            "`{}` exists and is not a directory",
            out.display()
        )));
    }
    let existing = files.iter().find(|(name, ..)| out.join(name).exists());
    if let (false, Some((name, ..))) = (force, existing) {
        return Err(usage(format!(
            "`{}` already exists: choose another --out directory, or pass --force to overwrite",
            out.join(name).display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| usage(format!("cannot create `{}`: {e}", out.display())))?;
    for (name, bytes, secret) in &files {
        write_atomic(&out.join(name), bytes, *secret).map_err(usage)?;
    }
    let c = &demo.credential.credential;
    println!(
        "wrote demo identity {} ({} / {}) to {}",
        c.id,
        c.holder.name_hangul,
        c.holder.name_latin,
        out.display()
    );
    for (name, _, secret) in &files {
        println!("  {name}{}", if *secret { "  (secret, mode 0600)" } else { "" });
    }
    Ok(())
}

fn verify_credential(
    credential: &Path,
    issuer_pub: &Path,
    portrait: Option<&Path>,
    at: UnixMillis,
) -> Outcome {
    let signed = load_credential(credential)?;
    let issuer = load_key(issuer_pub, "issuer public key", IssuerPublic::from_text)?;
    let c = signed
        .verify(&issuer)
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let portrait_path = match portrait {
        Some(p) => p.to_path_buf(),
        None => portrait_beside(credential, c),
    };
    let image = read_limited(&portrait_path, "portrait", MAX_PORTRAIT_BYTES).map_err(usage)?;
    c.portrait
        .check(&image)
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    c.check_valid_at(at)
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    println!(
        "valid: {} — {} ({})",
        c.id, c.holder.name_hangul, c.holder.name_latin
    );
    println!("  document  {}", c.document.as_str());
    println!("  issuer    {}", c.issuer);
    println!("  valid     {} to {} (checked at {at})", c.issued, c.expires);
    println!("  portrait  {} matches", portrait_path.display());
    Ok(())
}

fn window(credential: &Path, master_key: &Path, at: UnixMillis, period: u64) -> Outcome {
    let signed = load_credential(credential)?;
    let master = load_key(master_key, "master key", MasterKey::from_text)?;
    let period = WindowPeriod::from_secs(period).map_err(usage)?;
    let id = &signed.credential.id;
    let device_key = master.device_key_for(&signed.credential);
    let w = period.window_at(at);
    let pattern = Pattern::for_window(&device_key, w);
    let payload = Payload::issue(&device_key, Locator::of(id), period, w);
    let codeword = Codeword::encode(&payload);
    let accepted = AcceptPolicy::default().accepted(period, at);
    println!("time      {at}");
    println!(
        "window    {} (period {} s, starts {}, phase {:.3})",
        w.0,
        period.secs(),
        period.start_of(w),
        period.phase_at(at)
    );
    println!("accepted  windows {}..={}", accepted.start().0, accepted.end().0);
    println!("payload   {}", holoid_core::encoding::to_hex(&payload.to_bytes()));
    println!("codeword  {}", holoid_core::encoding::to_hex(&codeword.0));
    println!("pattern   {pattern:#?}");
    Ok(())
}

/// Lets a closed pipe end the program quietly (`holoid window | head -3`), as other command
/// line tools do, instead of panicking on a failed print.
fn quiet_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Mesa's Vulkan device-selection layer (an implicit layer on Linux) connects to Wayland to
/// find the default GPU, and without a session (`XDG_RUNTIME_DIR` unset: a server, CI, ssh)
/// libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set` twice on every run
/// that draws, though nothing failed. With no session there is no display to select by, so
/// the layer is turned off through its documented switch, `NODEVICE_SELECT=1`, unless the
/// user set it. wgpu still picks the adapter (`WGPU_ADAPTER_NAME`, `WGPU_BACKEND` work).
fn quiet_vulkan_device_select() {
    let no_session =
        std::env::var_os("XDG_RUNTIME_DIR").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
    if no_session && std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: called first thing in main, before any thread is started, so no other
        // thread can be reading the environment.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    quiet_vulkan_device_select();
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Demo(args) => demo_cmd::run(args, now()),
        Command::DemoCredential { out, seed, force } => demo_credential(out, *seed, *force),
        Command::VerifyCredential {
            credential,
            issuer_pub,
            portrait,
            at,
        } => verify_credential(
            credential,
            issuer_pub,
            portrait.as_deref(),
            at.unwrap_or_else(now),
        ),
        Command::Render(args) => render_cmd::run(args, now()),
        Command::Serve(args) => serve_cmd::serve(args),
        Command::Token(cmd) => serve_cmd::token(cmd),
        Command::Audit(cmd) => serve_cmd::audit(cmd),
        Command::Copy(cmd) => serve_cmd::copy(cmd),
        Command::Keygen(args) => serve_cmd::keygen(args),
        Command::View(args) => view_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Check(args) => check_cmd::run(args),
        Command::Wallet(cmd) => wallet_cmd::run(cmd),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Window {
            credential,
            master_key,
            at,
            period,
        } => window(credential, master_key, at.unwrap_or_else(now), *period),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(msg)) => {
            eprintln!("holoid: invalid: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("holoid: error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Status(code)) => ExitCode::from(code),
    }
}
