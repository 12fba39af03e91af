//! The wallet session: what the wallet app knows between frames — the accelerometer's
//! samples (through [`HeldPhone`]), the capture state its OS reports, whether the temporal
//! modulation is on and how many frames were drawn — turned into each frame's
//! [`FrameParams`]. The C ABI, `holoid view` and `holoid render` all draw through it. The
//! time is an argument: the host reads the clock.

use std::fmt;
use std::str::FromStr;

use crate::motion::{HeldPhone, MotionConfig, MotionError, Sample, Tilt};
use crate::time::UnixMillis;

/// Capture state reported by the host (the phone's OS). Anything but `None` blanks the card.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaptureState {
    /// No capture in progress.
    #[default]
    None,
    /// The screen is being recorded.
    Recording,
    /// The screen is mirrored to another display.
    Mirrored,
    /// A screenshot was just taken.
    ScreenshotTaken,
}

impl CaptureState {
    /// Whether the shield is up.
    pub fn blocks(self) -> bool {
        self != CaptureState::None
    }
}

impl FromStr for CaptureState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(CaptureState::None),
            "recording" => Ok(CaptureState::Recording),
            "mirrored" => Ok(CaptureState::Mirrored),
            "screenshot" => Ok(CaptureState::ScreenshotTaken),
            _ => Err(format!(
                "`{s}` is not a capture state: use none, recording, mirrored or screenshot"
            )),
        }
    }
}

impl fmt::Display for CaptureState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureState::None => "none",
            CaptureState::Recording => "recording",
            CaptureState::Mirrored => "mirrored",
            CaptureState::ScreenshotTaken => "screenshot",
        })
    }
}

/// The phase of the temporal modulation for one displayed frame. A host with a display of
/// 90 Hz or more alternates `Plus` and `Minus` on successive frames: the eye averages each
/// pair into the clean card, while any single captured frame carries the COPY / 사본 mark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Modulation {
    /// No modulation: the card as it is.
    #[default]
    Off,
    /// The clean frame plus δ × mask.
    Plus,
    /// The clean frame minus δ × mask.
    Minus,
}

impl Modulation {
    /// The phase of frame number `n` of a modulated sequence.
    pub fn for_frame(n: u64) -> Modulation {
        if n.is_multiple_of(2) {
            Modulation::Plus
        } else {
            Modulation::Minus
        }
    }

    /// The sign of the mark in this phase: +1, −1, or 0 when off.
    pub fn sign(self) -> f32 {
        match self {
            Modulation::Off => 0.0,
            Modulation::Plus => 1.0,
            Modulation::Minus => -1.0,
        }
    }
}

/// What changes from frame to frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameParams {
    /// The time to draw (the clock, the window, the sweep phase, the animation).
    pub time: UnixMillis,
    /// Device tilt, radians.
    pub tilt: Tilt,
    /// When the last shake started; a burst runs for 1.2 s after it.
    pub shake_started: Option<UnixMillis>,
    /// The host-reported capture state.
    pub capture: CaptureState,
    /// The temporal modulation phase of this frame.
    pub modulation: Modulation,
}

/// The wallet's state between frames; [`WalletSession::next_frame`] makes each frame's
/// parameters and counts the frame for the modulation.
#[derive(Clone, Debug)]
pub struct WalletSession {
    phone: HeldPhone,
    motion_epoch: UnixMillis,
    tilt: Option<Tilt>,
    shake: Option<UnixMillis>,
    capture: CaptureState,
    modulate: bool,
    frames: u64,
}

impl WalletSession {
    /// A session with no motion yet (no tilt, no shake), no capture, the modulation off, and
    /// motion sample times in Unix seconds.
    pub fn new(motion: MotionConfig) -> Self {
        WalletSession {
            phone: HeldPhone::new(motion),
            motion_epoch: UnixMillis(0),
            tilt: None,
            shake: None,
            capture: CaptureState::None,
            modulate: false,
            frames: 0,
        }
    }

    /// Motion sample times count seconds from `epoch` instead of from the Unix epoch (a
    /// recorded track that starts at 0).
    pub fn with_motion_epoch(mut self, epoch: UnixMillis) -> Self {
        self.motion_epoch = epoch;
        self
    }

    /// Feeds one accelerometer sample; the tilt is taken relative to the first one, and a
    /// shake sets off the burst. A refused sample leaves the session as it was.
    pub fn push_motion(&mut self, s: Sample) -> Result<(), MotionError> {
        self.phone.push(s)
    }

    /// Sets the tilt directly (a mouse, a command-line option) instead of the accelerometer's.
    pub fn set_tilt(&mut self, tilt: Tilt) {
        self.tilt = Some(tilt);
    }

    /// A shake at `at` (a key press, a command-line option): the burst runs from then.
    pub fn shake(&mut self, at: UnixMillis) {
        self.shake = Some(at);
    }

    /// Sets the capture state the OS reports: anything but `None` blanks the card from the
    /// next frame on.
    pub fn set_capture(&mut self, capture: CaptureState) {
        self.capture = capture;
    }

    /// The capture state.
    pub fn capture(&self) -> CaptureState {
        self.capture
    }

    /// Turns the temporal modulation on or off (by default, off).
    pub fn set_modulation(&mut self, on: bool) {
        self.modulate = on;
    }

    /// Whether the temporal modulation is on.
    pub fn modulating(&self) -> bool {
        self.modulate
    }

    /// The tilt the next frame is drawn with.
    pub fn tilt(&self) -> Tilt {
        self.tilt.unwrap_or_else(|| self.phone.tilt())
    }

    /// The start of the latest shake, set directly or read from the accelerometer.
    pub fn last_shake(&self) -> Option<UnixMillis> {
        let sensed = self.phone.last_shake().map(|t| {
            UnixMillis(
                self.motion_epoch
                    .0
                    .saturating_add((t.max(0.0) * 1000.0).round() as u64),
            )
        });
        sensed.max(self.shake)
    }

    /// The parameters of the next frame, drawn for `time`; counts the frame, so a modulated
    /// session alternates `Plus` and `Minus`.
    pub fn next_frame(&mut self, time: UnixMillis) -> FrameParams {
        let modulation = if self.modulate {
            Modulation::for_frame(self.frames)
        } else {
            Modulation::Off
        };
        self.frames = self.frames.wrapping_add(1);
        FrameParams {
            time,
            tilt: self.tilt(),
            shake_started: self.last_shake(),
            capture: self.capture,
            modulation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(t: f64) -> Sample {
        Sample {
            t,
            accel: [0.0, 0.0, 9.81],
        }
    }

    #[test]
    fn frames_alternate_only_when_modulating() {
        let mut s = WalletSession::new(MotionConfig::default());
        assert_eq!(s.next_frame(UnixMillis(1)).modulation, Modulation::Off);
        s.set_modulation(true);
        let a = s.next_frame(UnixMillis(2)).modulation;
        let b = s.next_frame(UnixMillis(3)).modulation;
        assert_ne!(a, Modulation::Off);
        assert_eq!(a.sign(), -b.sign());
    }

    #[test]
    fn capture_state_reaches_the_frame() {
        let mut s = WalletSession::new(MotionConfig::default());
        s.set_capture(CaptureState::Recording);
        let f = s.next_frame(UnixMillis(10));
        assert!(f.capture.blocks());
        assert_eq!(f.time, UnixMillis(10));
    }

    #[test]
    fn a_set_tilt_wins_over_the_accelerometer_and_shakes_keep_the_latest() {
        let mut s = WalletSession::new(MotionConfig::default()).with_motion_epoch(UnixMillis(5_000));
        s.push_motion(still(0.0)).unwrap();
        s.push_motion(still(0.02)).unwrap();
        assert_eq!(s.tilt(), Tilt::default());
        let t = Tilt { x: 0.1, y: -0.2 };
        s.set_tilt(t);
        assert_eq!(s.next_frame(UnixMillis(6_000)).tilt, t);
        assert_eq!(s.last_shake(), None);
        s.shake(UnixMillis(7_000));
        assert_eq!(
            s.next_frame(UnixMillis(7_500)).shake_started,
            Some(UnixMillis(7_000))
        );
    }

    #[test]
    fn a_refused_sample_leaves_the_session_as_it_was() {
        let mut s = WalletSession::new(MotionConfig::default());
        s.push_motion(still(1.0)).unwrap();
        assert!(s.push_motion(still(0.5)).is_err());
        assert_eq!(s.tilt(), Tilt::default());
    }
}
