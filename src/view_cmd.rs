//! `holoid view`: the live card in a window (winit + a wgpu surface). Part of the `holoid`
//! binary; the library has no windowing code.
//!
//! Mouse drag tilts the card, space shakes it, `c` toggles a simulated capture (the shield),
//! `m` toggles the temporal modulation, Escape or `q` quits. The title shows the frame time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use holoid_core::keys::DeviceKey;
use holoid_core::motion::{MotionConfig, Tilt};
use holoid_core::session::WalletSession;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_render::surface::{Drawn, SurfaceCard};
use holoid_render::{CaptureState, CardRenderer, GpuContext, RendererOptions};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

use crate::{Outcome, Wallet, load_wallet, usage};

/// Shows the live card in a window.
///
/// Drag to tilt, space to shake, c to simulate a screen capture, m to toggle the temporal
/// modulation, q or Escape to quit.
///
/// Runs wherever wgpu finds an adapter and a display; without a GPU or a screen, under Xvfb
/// with lavapipe: `xvfb-run -s "-screen 0 1280x1024x24" holoid view ...`.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  holoid view --credential /tmp/demo/credential.json --device-key /tmp/demo/device.key\n  xvfb-run -s \"-screen 0 1280x1024x24\" holoid view --credential /tmp/demo/credential.json \\\n      --device-key /tmp/demo/device.key --exit-after 3"
)]
pub struct ViewCli {
    /// The credential file (JSON); its portrait is read from beside it.
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
    /// The wallet's device key file.
    #[arg(long, value_name = "FILE")]
    device_key: PathBuf,
    /// Window period in seconds, 1 to 30.
    #[arg(long, default_value_t = WindowPeriod::DEFAULT_SECS.into())]
    period: u64,
    /// Close the window after this many seconds (for scripted runs), printing the frame count.
    #[arg(long, value_name = "SECONDS")]
    exit_after: Option<f64>,
}

struct Viewer {
    credential: holoid_core::credential::Credential,
    device_key: DeviceKey,
    portrait: Vec<u8>,
    period: WindowPeriod,
    exit_after: Option<Duration>,
    started: Instant,
    window: Option<Arc<Window>>,
    card: Option<SurfaceCard>,
    gpu: Option<GpuContext>,
    session: WalletSession,
    dragging: Option<(f64, f64)>,
    cursor: (f64, f64),
    frames: u64,
    frame_ms: f64,
    last_present: Option<Instant>,
    error: Option<String>,
}

fn now() -> UnixMillis {
    UnixMillis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64,
    )
}

impl Viewer {
    fn fail(&mut self, event_loop: &ActiveEventLoop, message: String) {
        self.error = Some(message);
        event_loop.exit();
    }

    fn start(&mut self, event_loop: &ActiveEventLoop) -> Result<(), String> {
        let attributes = Window::default_attributes()
            .with_title("holoid")
            .with_inner_size(winit::dpi::LogicalSize::new(432.0, 936.0));
        let window = Arc::new(
            event_loop
                .create_window(attributes)
                .map_err(|e| format!("cannot open a window: {e}"))?,
        );
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| format!("cannot draw into the window: {e}"))?;
        let gpu = GpuContext::from_instance(&instance, Some(&surface)).map_err(|e| e.to_string())?;
        self.window = Some(window);
        self.card = Some(SurfaceCard::new(surface));
        self.gpu = Some(gpu);
        self.resize();
        Ok(())
    }

    /// (Re)configures the surface and the renderer for the window's size.
    fn resize(&mut self) {
        let (Some(window), Some(card), Some(gpu)) = (&self.window, &mut self.card, &self.gpu) else {
            return;
        };
        let size = window.inner_size();
        if size.width == 0 || size.height == 0 {
            return;
        }
        let base = RendererOptions {
            period: self.period,
            ..Default::default()
        };
        let (credential, key, portrait) = (&self.credential, &self.device_key, &self.portrait);
        if let Err(e) = card.configure(gpu, (size.width, size.height), base, |kit, options| {
            CardRenderer::with_kit(kit, credential, key, portrait, options)
        }) {
            self.error = Some(e.to_string());
        }
    }

    fn draw(&mut self, event_loop: &ActiveEventLoop) {
        if let Some(e) = self.error.take() {
            return self.fail(event_loop, e);
        }
        let (Some(card), Some(window), Some(gpu)) = (&mut self.card, &self.window, &self.gpu) else {
            return;
        };
        if card.size().is_none() {
            return;
        }
        let frame = self.session.next_frame(now());
        match card.draw(gpu, &frame, || window.pre_present_notify()) {
            Ok(Drawn::Presented) => {}
            Ok(Drawn::Reconfigured | Drawn::Skipped) => return,
            Err(e) => return self.fail(event_loop, e.to_string()),
        }
        // Frame time: the interval between presented frames, smoothed.
        let now_i = Instant::now();
        if let Some(last) = self.last_present.replace(now_i) {
            let ms = (now_i - last).as_secs_f64() * 1000.0;
            self.frame_ms = if self.frames <= 1 {
                ms
            } else {
                self.frame_ms * 0.9 + ms * 0.1
            };
        }
        self.frames += 1;
        window.set_title(&format!(
            "holoid — {:.1} ms/frame — capture {} — modulation {}",
            self.frame_ms,
            self.session.capture(),
            if self.session.modulating() { "on" } else { "off" }
        ));
        if self.exit_after.is_some_and(|d| self.started.elapsed() >= d) {
            event_loop.exit();
        }
    }
}

impl ApplicationHandler for Viewer {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_none()
            && let Err(e) = self.start(event_loop)
        {
            self.fail(event_loop, e);
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(_) => self.resize(),
            WindowEvent::RedrawRequested => self.draw(event_loop),
            WindowEvent::CursorMoved { position, .. } => {
                self.cursor = (position.x, position.y);
                if let Some((x0, y0)) = self.dragging {
                    // 300 pixels of drag tilt the card by 30°, clamped to ±60°.
                    let clamp = |v: f64| (v / 300.0 * 30.0).clamp(-60.0, 60.0).to_radians() as f32;
                    self.session.set_tilt(Tilt {
                        x: clamp(position.x - x0),
                        y: clamp(position.y - y0),
                    });
                }
            }
            WindowEvent::MouseInput {
                state,
                button: MouseButton::Left,
                ..
            } => {
                self.dragging = (state == ElementState::Pressed).then_some(self.cursor);
                if state == ElementState::Released {
                    self.session.set_tilt(Tilt::default());
                }
            }
            WindowEvent::KeyboardInput { event, .. } if event.state == ElementState::Pressed => {
                match event.logical_key.as_ref() {
                    Key::Named(NamedKey::Space) => self.session.shake(now()),
                    Key::Named(NamedKey::Escape) => event_loop.exit(),
                    Key::Character("q") => event_loop.exit(),
                    Key::Character("c") => {
                        self.session.set_capture(if self.session.capture().blocks() {
                            CaptureState::None
                        } else {
                            CaptureState::Recording
                        });
                    }
                    Key::Character("m") => self.session.set_modulation(!self.session.modulating()),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, _event_loop: &ActiveEventLoop) {
        if let Some(w) = &self.window {
            w.request_redraw();
        }
    }
}

pub fn run(a: &ViewCli) -> Outcome {
    let Wallet {
        credential,
        device_key,
        portrait,
    } = load_wallet(&a.credential, &a.device_key)?;
    let period = WindowPeriod::from_secs(a.period).map_err(usage)?;
    let exit_after = match a.exit_after {
        Some(s) if !(s.is_finite() && s > 0.0 && s < 86_400.0) => {
            return Err(usage(format!(
                "--exit-after {s}: give a number of seconds above 0"
            )));
        }
        other => other.map(Duration::from_secs_f64),
    };
    let event_loop = EventLoop::new().map_err(|e| {
        usage(format!(
            "cannot open a display ({e}); without a screen run it under Xvfb: xvfb-run holoid view ..."
        ))
    })?;
    event_loop.set_control_flow(ControlFlow::Poll);
    let mut viewer = Viewer {
        credential,
        device_key,
        portrait,
        period,
        exit_after,
        started: Instant::now(),
        window: None,
        card: None,
        gpu: None,
        session: WalletSession::new(MotionConfig::default()),
        dragging: None,
        cursor: (0.0, 0.0),
        frames: 0,
        frame_ms: 0.0,
        last_present: None,
        error: None,
    };
    event_loop
        .run_app(&mut viewer)
        .map_err(|e| usage(format!("the window's event loop failed: {e}")))?;
    if let Some(e) = viewer.error {
        return Err(usage(e));
    }
    println!(
        "view: {} frames, {:.1} ms per frame (last average)",
        viewer.frames, viewer.frame_ms
    );
    Ok(())
}
