//! `holoid render`: one PNG, or an animated PNG and per-frame PNGs, of the card as the
//! wallet shows it. Part of the `holoid` binary.

use std::path::PathBuf;

use holoid_core::motion::{MotionConfig, Tilt};
use holoid_core::session::WalletSession;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_render::output;
use holoid_render::{CaptureState, CardRenderer, GpuContext, RendererOptions};

use crate::files::{read_text, write_atomic};
use crate::{Outcome, Wallet, load_wallet, usage};

/// Target size `WIDTHxHEIGHT` in pixels.
#[derive(Clone, Copy, Debug)]
pub struct Size(pub u32, pub u32);

impl std::str::FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a size: give WIDTHxHEIGHT in pixels, e.g. 1080x2340");
        let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        Ok(Size(
            w.trim().parse().map_err(|_| bad())?,
            h.trim().parse().map_err(|_| bad())?,
        ))
    }
}

/// Tilt `X,Y` in degrees about the card's x and y axes.
#[derive(Clone, Copy, Debug)]
pub struct TiltDegrees(f32, f32);

impl std::str::FromStr for TiltDegrees {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a tilt: give X,Y in degrees between -90 and 90, e.g. -30,5");
        let (x, y) = s.split_once(',').ok_or_else(bad)?;
        let x: f32 = x.trim().parse().map_err(|_| bad())?;
        let y: f32 = y.trim().parse().map_err(|_| bad())?;
        if !(x.abs() <= 90.0 && y.abs() <= 90.0) {
            return Err(bad());
        }
        Ok(TiltDegrees(x, y))
    }
}

/// Renders the card as the wallet shows it at a given time (on the GPU): one PNG, or with
/// --frames an animated PNG (APNG).
///
/// Uses the adapter chosen by WGPU_BACKEND / WGPU_ADAPTER_NAME or the default one; on a
/// machine without a GPU, Mesa's lavapipe (apt-get install mesa-vulkan-drivers).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  holoid render --credential /tmp/demo/credential.json --device-key /tmp/demo/device.key \\\n      --at 2026-11-25T10:49:52.250Z --tilt -20,10 --out /tmp/card.png\n  holoid render --credential /tmp/demo/credential.json --device-key /tmp/demo/device.key \\\n      --frames 60 --fps 15 --shake-at 2026-11-25T10:49:53Z --at 2026-11-25T10:49:52Z --out /tmp/card-anim.png"
)]
pub struct RenderCli {
    /// The credential file (JSON); its portrait is read from beside it.
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
    /// The wallet's device key file.
    #[arg(long, value_name = "FILE")]
    device_key: PathBuf,
    /// Time of the (first) frame: Unix seconds (with a fraction) or RFC 3339. By default, now.
    #[arg(long, value_name = "TIME")]
    at: Option<UnixMillis>,
    /// Device tilt in degrees about the card's x and y axes, e.g. -30,5.
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true, default_value = "0,0")]
    tilt: TiltDegrees,
    /// Time of a shake: the burst runs for 1.2 s after it.
    #[arg(long, value_name = "TIME")]
    shake_at: Option<UnixMillis>,
    /// Accelerometer samples (CSV lines t,ax,ay,az; t in seconds from --at) that drive the
    /// tilt and the shakes instead of --tilt and --shake-at.
    #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["tilt", "shake_at"])]
    motion: Option<PathBuf>,
    /// Image size in pixels.
    #[arg(long, value_name = "WxH", default_value = "1080x2340")]
    size: Size,
    /// Host capture state: none, recording, mirrored or screenshot.
    #[arg(long, value_name = "S", default_value = "none")]
    capture_state: CaptureState,
    /// Temporal modulation: frames alternate +δ / −δ of the COPY / 사본 mask.
    #[arg(long)]
    modulate: bool,
    /// Window period in seconds, 1 to 30.
    #[arg(long, default_value_t = WindowPeriod::DEFAULT_SECS.into())]
    period: u64,
    /// Number of frames; more than one writes an animated PNG.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=600))]
    frames: u32,
    /// Frames per second of the animation.
    #[arg(long, default_value_t = 15.0)]
    fps: f32,
    /// Also write each frame as DIR/frame-0000.png, …
    #[arg(long, value_name = "DIR")]
    frames_dir: Option<PathBuf>,
    /// Output PNG file (an APNG when --frames > 1).
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

const MAX_MOTION_BYTES: u64 = 64 << 20;

pub fn run(a: &RenderCli, now: UnixMillis) -> Outcome {
    let Wallet {
        credential,
        device_key,
        portrait,
    } = load_wallet(&a.credential, &a.device_key)?;
    let c = &credential;
    let period = WindowPeriod::from_secs(a.period).map_err(usage)?;
    if a.out.extension().and_then(|e| e.to_str()) != Some("png") {
        return Err(usage(format!(
            "`{}`: the output must be a .png file",
            a.out.display()
        )));
    }
    if !(a.fps.is_finite() && (0.1..=240.0).contains(&a.fps)) {
        return Err(usage(format!(
            "--fps {}: choose 0.1 to 240 frames per second",
            a.fps
        )));
    }
    let start = a.at.unwrap_or(now);
    // Motion sample times count seconds from --at.
    let mut session = WalletSession::new(MotionConfig::default()).with_motion_epoch(start);
    session.set_capture(a.capture_state);
    session.set_modulation(a.modulate);
    let samples = match &a.motion {
        Some(path) => {
            let text = read_text(path, "motion samples", MAX_MOTION_BYTES).map_err(usage)?;
            holoid_core::motion::parse_csv(&text).map_err(|e| usage(format!("`{}`: {e}", path.display())))?
        }
        None => {
            session.set_tilt(Tilt {
                x: a.tilt.0.to_radians(),
                y: a.tilt.1.to_radians(),
            });
            if let Some(at) = a.shake_at {
                session.shake(at);
            }
            Vec::new()
        }
    };
    let mut next_sample = 0;
    let gpu = GpuContext::headless().map_err(usage)?;
    let options = RendererOptions {
        width: a.size.0,
        height: a.size.1,
        period,
        ..Default::default()
    };
    let mut renderer = CardRenderer::new(&gpu, c, &device_key, &portrait, options).map_err(usage)?;
    let mut frames = Vec::with_capacity(a.frames as usize);
    let progress = a.frames > 1 && std::io::IsTerminal::is_terminal(&std::io::stderr());
    for n in 0..a.frames {
        let offset = f64::from(n) / f64::from(a.fps);
        let time = UnixMillis(start.0 + (offset * 1000.0).round() as u64);
        while let Some(sample) = samples.get(next_sample).filter(|s| s.t <= offset) {
            session.push_motion(*sample).map_err(|e| usage(e.to_string()))?;
            next_sample += 1;
        }
        let frame = session.next_frame(time);
        frames.push(renderer.render_to_image(&frame).map_err(usage)?);
        if progress {
            eprint!("\rrendering frame {}/{}", n + 1, a.frames);
        }
    }
    if progress {
        eprintln!();
    }
    if let Some(dir) = &a.frames_dir {
        std::fs::create_dir_all(dir).map_err(|e| usage(format!("cannot create `{}`: {e}", dir.display())))?;
        for (n, f) in frames.iter().enumerate() {
            let bytes = output::png(f).map_err(usage)?;
            write_atomic(&dir.join(format!("frame-{n:04}.png")), &bytes, false).map_err(usage)?;
        }
    }
    let bytes = output::apng(&frames, a.fps).map_err(usage)?;
    write_atomic(&a.out, &bytes, false).map_err(usage)?;
    println!(
        "rendered {} frame(s) of {} from {} ({}x{}, window {}, capture {}) on {} -> {}",
        a.frames,
        c.id,
        start,
        a.size.0,
        a.size.1,
        period.window_at(start).0,
        a.capture_state,
        gpu.describe(),
        a.out.display()
    );
    Ok(())
}
