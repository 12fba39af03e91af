//! Accelerometer samples in; tilt and shake events out.
//!
//! - **Tilt**: gravity is the low-pass filtered acceleration (first-order, time constant
//!   [`MotionConfig::gravity_tau_s`]); the tilt is the pair of angles of gravity in the
//!   screen's x-z and y-z planes.
//! - **Shake**: the high-pass part (acceleration minus a faster low-pass, time constant
//!   [`MotionConfig::shake_tau_s`], so that turning the phone is not a shake) feeds an
//!   energy average (time constant [`MotionConfig::energy_tau_s`]); a shake starts when the energy rises
//!   above [`MotionConfig::shake_on`] and ends when it falls below
//!   [`MotionConfig::shake_off`] (hysteresis), and a start at least
//!   [`MotionConfig::refractory_s`] after the previous one is reported as one event.
//!
//! Sample times may be irregular: every filter step uses the actual time step. A gap
//! longer than [`MotionConfig::max_gap_s`] restarts the filters from the new sample. A
//! non-finite value or a time that does not advance is refused with an error and leaves
//! the state untouched. Axes follow Android's convention: x to the right of the screen,
//! y to its top, z out of the screen; a phone lying face-up reads about (0, 0, +9.81).
//! Pure: time is the sample's, never the clock's.

use std::fmt;

/// One accelerometer reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Time of the reading, seconds, on any monotonic clock.
    pub t: f64,
    /// Acceleration including gravity, m/s², device axes (x, y, z).
    pub accel: [f32; 3],
}

/// Why a sample was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum MotionError {
    /// The time or an acceleration component is NaN or infinite.
    NonFinite,
    /// The sample's time is not after the previous sample's.
    TimeNotAdvancing {
        /// The previous sample's time.
        previous: f64,
        /// This sample's time.
        t: f64,
    },
}

impl fmt::Display for MotionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MotionError::NonFinite => {
                write!(
                    f,
                    "accelerometer sample refused: time or acceleration is NaN or infinite"
                )
            }
            MotionError::TimeNotAdvancing { previous, t } => write!(
                f,
                "accelerometer sample refused: time {t} s is not after the previous sample's {previous} s"
            ),
        }
    }
}

impl std::error::Error for MotionError {}

/// Filter settings. Each field's doc says its default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotionConfig {
    /// Gravity low-pass time constant. By default, 0.25 s.
    pub gravity_tau_s: f32,
    /// Time constant of the low-pass that the shake detector subtracts. By default, 0.1 s:
    /// a 4 Hz shake passes almost whole, a turn of the phone leaves little.
    pub shake_tau_s: f32,
    /// Shake energy averaging time constant. By default, 0.1 s.
    pub energy_tau_s: f32,
    /// Energy (mean square of the high-pass part, (m/s²)²) that starts a shake. By
    /// default, 20: a vigorous shake gives 50-200, hand tremor and walking under 5.
    pub shake_on: f32,
    /// Energy below which a shake ends. By default, 6.
    pub shake_off: f32,
    /// Least time between two reported shakes. By default, 1.0 s.
    pub refractory_s: f64,
    /// A gap between samples longer than this restarts the filters. By default, 0.5 s.
    pub max_gap_s: f64,
}

impl Default for MotionConfig {
    fn default() -> Self {
        MotionConfig {
            gravity_tau_s: 0.25,
            shake_tau_s: 0.1,
            energy_tau_s: 0.1,
            shake_on: 20.0,
            shake_off: 6.0,
            refractory_s: 1.0,
            max_gap_s: 0.5,
        }
    }
}

/// The device tilt, radians.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Tilt {
    /// Rotation about the screen's y axis: positive when the right edge goes down.
    pub x: f32,
    /// Rotation about the screen's x axis: positive when the top edge goes down.
    pub y: f32,
}

/// The filter's outputs after one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotionUpdate {
    /// Current tilt.
    pub tilt: Tilt,
    /// Whether a shake is in progress.
    pub shaking: bool,
    /// `Some(t)` when a new shake event starts at this sample (time `t`).
    pub shake_started: Option<f64>,
}

/// The tilt and shake filter. Allocation-free; one [`push`](Self::push) per sample.
#[derive(Clone, Debug)]
pub struct MotionFilter {
    config: MotionConfig,
    gravity: [f32; 3],
    shake_base: [f32; 3],
    energy: f32,
    last_t: Option<f64>,
    shaking: bool,
    last_shake: Option<f64>,
}

impl MotionFilter {
    /// A filter with these settings, waiting for its first sample.
    pub fn new(config: MotionConfig) -> Self {
        MotionFilter {
            config,
            gravity: [0.0; 3],
            shake_base: [0.0; 3],
            energy: 0.0,
            last_t: None,
            shaking: false,
            last_shake: None,
        }
    }

    /// The current gravity estimate, m/s².
    pub fn gravity(&self) -> [f32; 3] {
        self.gravity
    }

    /// The current tilt.
    pub fn tilt(&self) -> Tilt {
        let [gx, gy, gz] = self.gravity;
        Tilt {
            x: gx.atan2(gz),
            y: gy.atan2(gz),
        }
    }

    /// Feeds one sample.
    pub fn push(&mut self, s: Sample) -> Result<MotionUpdate, MotionError> {
        if !s.t.is_finite() || s.accel.iter().any(|a| !a.is_finite()) {
            return Err(MotionError::NonFinite);
        }
        let mut shake_started = None;
        match self.last_t {
            Some(prev) if s.t <= prev => {
                return Err(MotionError::TimeNotAdvancing {
                    previous: prev,
                    t: s.t,
                });
            }
            Some(prev) if s.t - prev <= self.config.max_gap_s => {
                let dt = (s.t - prev) as f32;
                let a_g = 1.0 - (-dt / self.config.gravity_tau_s).exp();
                let a_s = 1.0 - (-dt / self.config.shake_tau_s).exp();
                let a_e = 1.0 - (-dt / self.config.energy_tau_s).exp();
                let mut power = 0.0;
                for ((g, b), a) in self.gravity.iter_mut().zip(&mut self.shake_base).zip(s.accel) {
                    *g += a_g * (a - *g);
                    *b += a_s * (a - *b);
                    power += (a - *b) * (a - *b);
                }
                self.energy += a_e * (power - self.energy);
                if !self.shaking && self.energy > self.config.shake_on {
                    self.shaking = true;
                    if self
                        .last_shake
                        .is_none_or(|l| s.t - l >= self.config.refractory_s)
                    {
                        self.last_shake = Some(s.t);
                        shake_started = Some(s.t);
                    }
                } else if self.shaking && self.energy < self.config.shake_off {
                    self.shaking = false;
                }
            }
            _ => {
                // First sample, or after a gap: restart from this sample.
                self.gravity = s.accel;
                self.shake_base = s.accel;
                self.energy = 0.0;
                self.shaking = false;
            }
        }
        self.last_t = Some(s.t);
        Ok(MotionUpdate {
            tilt: self.tilt(),
            shaking: self.shaking,
            shake_started,
        })
    }
}

/// The phone as the renderer sees it: the filter, with the tilt taken relative to the way
/// the holder first held the phone (that counts as no tilt) and the time of the last shake.
#[derive(Clone, Debug)]
pub struct HeldPhone {
    filter: MotionFilter,
    rest: Option<Tilt>,
    tilt: Tilt,
    last_shake: Option<f64>,
}

impl HeldPhone {
    /// A phone that has reported nothing yet: no tilt, no shake.
    pub fn new(config: MotionConfig) -> Self {
        HeldPhone {
            filter: MotionFilter::new(config),
            rest: None,
            tilt: Tilt::default(),
            last_shake: None,
        }
    }

    /// Feeds one sample; a refused sample leaves the state as it was.
    pub fn push(&mut self, s: Sample) -> Result<(), MotionError> {
        let u = self.filter.push(s)?;
        let rest = *self.rest.get_or_insert(u.tilt);
        self.tilt = Tilt {
            x: u.tilt.x - rest.x,
            y: u.tilt.y - rest.y,
        };
        if let Some(t) = u.shake_started {
            self.last_shake = Some(t);
        }
        Ok(())
    }

    /// The tilt relative to the first reading.
    pub fn tilt(&self) -> Tilt {
        self.tilt
    }

    /// When the last shake started, on the samples' clock.
    pub fn last_shake(&self) -> Option<f64> {
        self.last_shake
    }
}

/// Why a motion CSV text was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct MotionCsvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for MotionCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} (each line: t,ax,ay,az — seconds and m/s²)",
            self.line, self.reason
        )
    }
}

impl std::error::Error for MotionCsvError {}

/// Parses accelerometer samples from CSV text: one `t,ax,ay,az` per line (seconds, m/s²),
/// an optional header line starting with a letter, `#` comments and blank lines allowed.
/// Times must increase; values must be finite.
pub fn parse_csv(text: &str) -> Result<Vec<Sample>, MotionCsvError> {
    let mut samples: Vec<Sample> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let bad = |reason: String| MotionCsvError { line: i + 1, reason };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if i == 0 && line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 4 {
            return Err(bad(format!("{} fields, expected 4", fields.len())));
        }
        let t: f64 = fields[0]
            .parse()
            .map_err(|_| bad(format!("`{}` is not a number", fields[0])))?;
        let mut accel = [0.0f32; 3];
        for (a, s) in accel.iter_mut().zip(&fields[1..]) {
            *a = s.parse().map_err(|_| bad(format!("`{s}` is not a number")))?;
        }
        if !t.is_finite() || accel.iter().any(|a| !a.is_finite()) {
            return Err(bad("NaN or infinite value".to_string()));
        }
        if let Some(prev) = samples.last().filter(|p| t <= p.t) {
            return Err(bad(format!("time {t} is not after the previous {}", prev.t)));
        }
        samples.push(Sample { t, accel });
    }
    if samples.is_empty() {
        return Err(MotionCsvError {
            line: 0,
            reason: "no samples".to_string(),
        });
    }
    Ok(samples)
}
