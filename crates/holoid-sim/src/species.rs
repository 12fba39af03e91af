//! Bona fide captures and the attack species of docs/design.md's threat model, each generated
//! from a seed as a burst of camera frames at known capture times.
//!
//! | species | what the camera sees |
//! |---|---|
//! | `bona_fide` | the live card, drawn at each capture time, on the holder's phone |
//! | `stale_replay` | the card as drawn minutes to days earlier, replayed on another phone |
//! | `same_window_replay` | drawn 1.5–4 s earlier (inside the accepted windows), replayed |
//! | `screen_photo` | a photo of the card, shown on another screen (camera → screen → camera) |
//! | `print` | the card printed and photographed |
//! | `fake_app` | a card drawn with a wrong device key (a look-alike app) |
//! | `portrait_swap` | a valid card with another person's portrait (a cloned device key) |
//! | `text_edit` | a valid card with its name, birth date or number edited (a cloned device key) |
//!
//! A replay is either a screenshot (every frame of the burst the same) or a screen recording
//! (frames advance, but lag the capture time).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::camera::{self, BEZEL, CameraParams, Emitter, Level, Pose, Screen};
use super::display::{Display, LinearFrame, SubpixelLayout};
use super::print::{Print, PrintParams};
use super::rng::Rng;
use holoid_core::credential::Credential;
use holoid_core::demo::DemoIdentity;
use holoid_core::keys::DeviceKey;
use holoid_core::time::UnixMillis;
use holoid_render::{CardRenderer, FrameParams, GpuContext, RenderError, RenderKit, RendererOptions};

/// The kinds of capture, as named in datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Species {
    /// The live card.
    BonaFide,
    /// A replay from another window.
    StaleReplay,
    /// A replay from inside the accepted windows.
    SameWindowReplay,
    /// A photo of the card shown on another screen.
    ScreenPhoto,
    /// A printed copy.
    Print,
    /// A look-alike drawn without the device key.
    FakeApp,
    /// A valid card with another portrait.
    PortraitSwap,
    /// A valid card with edited words.
    TextEdit,
}

impl Species {
    /// Every species, bona fide first.
    pub const ALL: [Species; 8] = [
        Species::BonaFide,
        Species::StaleReplay,
        Species::SameWindowReplay,
        Species::ScreenPhoto,
        Species::Print,
        Species::FakeApp,
        Species::PortraitSwap,
        Species::TextEdit,
    ];

    /// The dataset name.
    pub fn name(self) -> &'static str {
        match self {
            Species::BonaFide => "bona_fide",
            Species::StaleReplay => "stale_replay",
            Species::SameWindowReplay => "same_window_replay",
            Species::ScreenPhoto => "screen_photo",
            Species::Print => "print",
            Species::FakeApp => "fake_app",
            Species::PortraitSwap => "portrait_swap",
            Species::TextEdit => "text_edit",
        }
    }

    /// What the verifier's camera sees, in one sentence (the module's table).
    pub fn description(self) -> &'static str {
        match self {
            Species::BonaFide => "The live card, drawn at each capture time, on the holder's phone.",
            Species::StaleReplay => "The card as drawn minutes to days earlier, replayed on another phone.",
            Species::SameWindowReplay => {
                "The card as drawn 1.5 to 4 s earlier (inside the accepted windows), replayed."
            }
            Species::ScreenPhoto => "A photo of the card, shown on another screen.",
            Species::Print => "The card printed on paper and photographed.",
            Species::FakeApp => "A look-alike card drawn without the device key (a fake app).",
            Species::PortraitSwap => "A card with a valid pattern but another person's portrait.",
            Species::TextEdit => {
                "A card with a valid pattern but its name, birth date or resident number edited."
            }
        }
    }

    /// Whether this is an attack (a presentation attack in ISO/IEC 30107-3 terms).
    pub fn is_attack(self) -> bool {
        self != Species::BonaFide
    }
}

impl std::str::FromStr for Species {
    type Err = String;

    fn from_str(s: &str) -> Result<Species, String> {
        Species::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            format!(
                "`{s}` is not a species: use {}",
                Species::ALL.map(Species::name).join(", ")
            )
        })
    }
}

/// The renderers a generator draws with: the genuine card, the same card drawn with a wrong
/// device key, the genuine card with another portrait, and with edited words.
pub struct Renderers<'a> {
    /// The holder's wallet.
    pub genuine: &'a mut CardRenderer,
    /// A look-alike app without the key.
    pub fake: &'a mut CardRenderer,
    /// The cloned key with another face.
    pub swapped: &'a mut CardRenderer,
    /// The cloned key with the holder's details edited (see [`holoid_core::demo::edited`]).
    pub edited: &'a mut CardRenderer,
}

/// Everyone a dataset photographs, for one demo identity: the holder's card, a look-alike app
/// drawn with `fake_key`, the holder's card with each of `faces` (other people's portraits)
/// and each of `edits` (the holder's credential as a forger edited it, drawn with the
/// holder's cloned key). The demo, the simulator and the tests all make their renderers
/// here, from one [`RenderKit`] (shaders compiled once); the swapped and edited cards are
/// drawn the first time they are asked for.
pub struct Cast {
    kit: RenderKit,
    options: RendererOptions,
    credential: Credential,
    device_key: DeviceKey,
    portrait: Vec<u8>,
    genuine: CardRenderer,
    fake: CardRenderer,
    faces: Vec<(Vec<u8>, Option<CardRenderer>)>,
    edits: Vec<(Credential, Option<CardRenderer>)>,
}

impl Cast {
    /// The cast of `demo`; `faces` and `edits` must not be empty.
    pub fn new(
        gpu: &GpuContext,
        demo: &DemoIdentity,
        fake_key: &DeviceKey,
        faces: Vec<Vec<u8>>,
        edits: Vec<Credential>,
        options: RendererOptions,
    ) -> Result<Cast, RenderError> {
        let credential = demo.credential.credential.clone();
        let device_key = demo.master.device_key_for(&credential);
        let portrait = demo.portrait_png.clone();
        let kit = RenderKit::new(gpu, options.format)?;
        Ok(Cast {
            genuine: CardRenderer::with_kit(&kit, &credential, &device_key, &portrait, options)?,
            fake: CardRenderer::with_kit(&kit, &credential, fake_key, &portrait, options)?,
            kit,
            options,
            credential,
            device_key,
            portrait,
            faces: faces.into_iter().map(|f| (f, None)).collect(),
            edits: edits.into_iter().map(|e| (e, None)).collect(),
        })
    }

    /// The renderers with other face `face` and edit `edit` (each taken modulo how many there
    /// are).
    pub fn renderers(&mut self, face: usize, edit: usize) -> Result<Renderers<'_>, RenderError> {
        let (kit, options) = (&self.kit, self.options);
        let face_count = self.faces.len().max(1);
        let (face_png, swapped) = &mut self.faces[face % face_count];
        let swapped = match swapped {
            Some(r) => r,
            slot => slot.insert(CardRenderer::with_kit(
                kit,
                &self.credential,
                &self.device_key,
                face_png,
                options,
            )?),
        };
        let edit_count = self.edits.len().max(1);
        let (edited_card, edited) = &mut self.edits[edit % edit_count];
        let edited = match edited {
            Some(r) => r,
            slot => slot.insert(CardRenderer::with_kit(
                kit,
                edited_card,
                &self.device_key,
                &self.portrait,
                options,
            )?),
        };
        Ok(Renderers {
            genuine: &mut self.genuine,
            fake: &mut self.fake,
            swapped,
            edited,
        })
    }
}

/// One generated capture: a burst of camera frames and everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Capture {
    /// What it is.
    pub species: Species,
    /// How hard.
    pub level: Level,
    /// The camera frames (before JPEG).
    pub frames: Vec<RgbImage>,
    /// When each frame was taken.
    pub capture_times: Vec<UnixMillis>,
    /// The time the card in each frame was drawn for.
    pub drawn_times: Vec<UnixMillis>,
    /// Whether a replay was a still screenshot (`Some(true)`), a recording (`Some(false)`).
    pub still: Option<bool>,
    /// The final camera's pose per frame.
    pub poses: Vec<Pose>,
    /// The final camera's settings per frame.
    pub cameras: Vec<CameraParams>,
    /// The panel the final camera looked at (not for prints).
    pub display: Option<Display>,
    /// The print settings (prints only).
    pub print: Option<PrintParams>,
}

/// A random phone panel.
pub fn random_display(rng: &mut Rng) -> Display {
    let layout = if rng.unit() < 0.5 {
        SubpixelLayout::Diamond
    } else {
        SubpixelLayout::RgbStripe
    };
    Display {
        layout,
        fill: rng.range(0.45, 0.8) as f32,
        brightness: rng.range(0.8, 1.1) as f32,
    }
}

/// Generates one capture of `species` at `level`, `burst` frames 150–300 ms apart starting at
/// `t`, photographed at `width` × `height`.
pub fn generate(
    species: Species,
    level: Level,
    t: UnixMillis,
    burst: usize,
    (width, height): (u32, u32),
    renderers: Renderers<'_>,
    rng: &mut Rng,
) -> Result<Capture, RenderError> {
    let step = rng.range(150.0, 300.0) as u64;
    let capture_times: Vec<UnixMillis> = (0..burst.max(1) as u64)
        .map(|i| UnixMillis(t.0 + i * step))
        .collect();
    let still = matches!(species, Species::StaleReplay | Species::SameWindowReplay).then(|| rng.unit() < 0.5);
    let lag = match species {
        Species::StaleReplay => rng.range(60_000.0, 3.0 * 86_400_000.0) as u64,
        Species::SameWindowReplay => rng.range(1_500.0, 4_000.0) as u64,
        Species::ScreenPhoto | Species::Print => rng.range(20_000.0, 600_000.0) as u64,
        _ => 0,
    };
    let drawn_times: Vec<UnixMillis> = capture_times
        .iter()
        .map(|c| match still {
            Some(true) => UnixMillis(capture_times[0].0 - lag),
            _ => UnixMillis(c.0 - lag),
        })
        .collect();
    let renderer = match species {
        Species::FakeApp => renderers.fake,
        Species::PortraitSwap => renderers.swapped,
        Species::TextEdit => renderers.edited,
        _ => renderers.genuine,
    };
    let tilt = holoid_core::motion::Tilt {
        x: rng.range(-0.3, 0.3) as f32,
        y: rng.range(-0.3, 0.3) as f32,
    };
    let display = random_display(rng);
    let print = (species == Species::Print).then(|| PrintParams::random(rng));
    // A screen photo: the attacker's own camera photographs the card once, straight on.
    let attacker_photo = if species == Species::ScreenPhoto {
        let card = renderer.render_to_image(&FrameParams {
            time: drawn_times[0],
            tilt,
            ..Default::default()
        })?;
        let frame = LinearFrame::from_srgb(&card);
        let (shot, _) = shoot(
            &frame,
            display,
            Level::Easy,
            (1080, 1920),
            &mut rng.derive("attacker", 0),
        );
        Some(LinearFrame::reshown(&shot, 1080, 1920))
    } else {
        None
    };
    let mut frames = Vec::with_capacity(capture_times.len());
    let (mut poses, mut cameras) = (Vec::new(), Vec::new());
    // The hand holding the verifier's camera moves a little between frames of a burst.
    let base = rng.derive("pose", 0);
    for (i, drawn) in drawn_times.iter().enumerate() {
        let mut frng = rng.derive("frame", i as u64);
        let card_img;
        let linear;
        let print_emitter;
        let emitter: &dyn Emitter = if let Some(monitor) = &attacker_photo {
            &Screen {
                frame: monitor,
                display,
                bezel: 0.02,
            }
        } else {
            card_img = renderer.render_to_image(&FrameParams {
                time: *drawn,
                tilt,
                ..Default::default()
            })?;
            match print {
                Some(p) => {
                    print_emitter = Print::new(&card_img, p);
                    &print_emitter
                }
                None => {
                    linear = LinearFrame::from_srgb(&card_img);
                    &Screen {
                        frame: &linear,
                        display,
                        bezel: BEZEL,
                    }
                }
            }
        };
        let mut prng = base.clone();
        let pose = Pose::random(level, (width, height), emitter.size(), &mut prng);
        let jitter = [frng.range(-4.0, 4.0), frng.range(-4.0, 4.0)];
        let pose = Pose {
            screen_corners: pose.screen_corners.map(|[x, y]| [x + jitter[0], y + jitter[1]]),
        };
        let cam = CameraParams::random(level, width, height, &mut frng);
        frames.push(camera::photograph(emitter, &pose, &cam, &mut frng));
        poses.push(pose);
        cameras.push(cam);
    }
    Ok(Capture {
        species,
        level,
        frames,
        capture_times,
        drawn_times,
        still,
        poses,
        cameras,
        display: print.is_none().then_some(display),
        print,
    })
}

/// `frame` shown on `display` in a phone, photographed from a random pose with a random
/// camera at `level` (before JPEG); with the camera's settings.
fn shoot(
    frame: &LinearFrame,
    display: Display,
    level: Level,
    (width, height): (u32, u32),
    rng: &mut Rng,
) -> (RgbImage, CameraParams) {
    let pose = Pose::random(level, (width, height), (frame.width, frame.height), rng);
    let cam = CameraParams::random(level, width, height, rng);
    let screen = Screen {
        frame,
        display,
        bezel: BEZEL,
    };
    (camera::photograph(&screen, &pose, &cam, rng), cam)
}

/// One camera frame of `card` shown on a phone panel at `level`, as the camera's JPEG
/// decodes: a random panel, pose and camera from `rng`, photographed at `width` × `height`.
pub fn photograph_screen(
    card: &image::RgbaImage,
    level: Level,
    (width, height): (u32, u32),
    rng: &mut Rng,
) -> RgbImage {
    let frame = LinearFrame::from_srgb(card);
    let display = random_display(rng);
    let (shot, cam) = shoot(&frame, display, level, (width, height), rng);
    let jpeg = camera::encode_jpeg(&shot, cam.jpeg_quality);
    image::load_from_memory(&jpeg)
        .expect("the camera's own JPEG decodes")
        .to_rgb8()
}
