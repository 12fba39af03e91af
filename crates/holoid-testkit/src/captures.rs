//! Camera captures of the demo card for the service's tests and benchmark: the simulator's
//! species photographed at a given time, as the JPEGs a verifier's camera writes. Needs a GPU
//! adapter (lavapipe will do).

use holoid_core::demo::DemoIdentity;
use holoid_core::demo::edited;
use holoid_core::keys::DeviceKey;
use holoid_core::time::UnixMillis;
use holoid_render::{GpuContext, RendererOptions};
use holoid_sim::camera::{Level, encode_jpeg};
use holoid_sim::rng::Rng;
use holoid_sim::species::{Cast, Species, generate};

/// A burst: the JPEG of each frame and when it was taken.
pub struct Burst {
    pub jpegs: Vec<Vec<u8>>,
    pub times: Vec<UnixMillis>,
}

impl Burst {
    /// The multipart fields of a check request for this burst.
    pub fn fields(&self) -> Vec<(String, Vec<u8>)> {
        self.jpegs
            .iter()
            .zip(&self.times)
            .flat_map(|(j, t)| {
                [
                    ("image".to_string(), j.clone()),
                    (
                        "captured_at".to_string(),
                        format!("{:.3}", t.0 as f64 / 1000.0).into_bytes(),
                    ),
                ]
            })
            .collect()
    }
}

/// The demo card's renderers: the wallet's, a fake app's and one with another face.
pub struct Camera {
    cast: Cast,
}

impl Camera {
    pub fn new(demo: &DemoIdentity) -> Camera {
        let gpu = GpuContext::headless().unwrap_or_else(|e| panic!("{}", crate::gpu::no_adapter(&e)));
        let other = DemoIdentity::generate(1_000_004);
        let cast = Cast::new(
            &gpu,
            demo,
            &DeviceKey::from_bytes([5; 32]),
            vec![other.portrait_png.clone()],
            vec![edited(
                &demo.credential.credential,
                &other.credential.credential,
                1,
            )],
            RendererOptions::default(),
        )
        .unwrap();
        Camera { cast }
    }

    /// A burst of `species` starting at `t`, at `level`, from `seed`.
    pub fn shoot(
        &mut self,
        species: Species,
        level: Level,
        t: UnixMillis,
        frames: usize,
        seed: u64,
    ) -> Burst {
        let renderers = self.cast.renderers(0, 0).unwrap();
        let cap = generate(
            species,
            level,
            t,
            frames,
            (720, 1280),
            renderers,
            &mut Rng::new(seed),
        )
        .unwrap();
        Burst {
            jpegs: cap
                .frames
                .iter()
                .zip(&cap.cameras)
                .map(|(f, cam)| encode_jpeg(f, cam.jpeg_quality))
                .collect(),
            times: cap.capture_times,
        }
    }
}

/// Two seconds into the first time window (of the default period) that starts after `after`:
/// a capture time whose burst stays clear of the window's edges, where the sweep's reading is
/// ambiguous and the detector asks for a retake. Within seconds of the clock, as the service
/// requires.
pub fn mid_window_after(after: UnixMillis) -> UnixMillis {
    let p = holoid_core::timekey::WindowPeriod::default().millis();
    UnixMillis((after.0 / p + 1) * p + 2_000)
}

/// The wall clock now.
pub fn now() -> UnixMillis {
    UnixMillis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64,
    )
}
