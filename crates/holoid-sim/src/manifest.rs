//! The dataset manifest, `manifest.jsonl`: one JSON object a line, one line a capture, with
//! its frames' files and SHA-256, species, level, capture and drawn times and every pose,
//! camera, panel and print parameter. `holoid simulate` writes it and `holoid eval` reads it,
//! both through [`ManifestEntry`] and the simulator's own parameter types ([`CameraParams`],
//! [`Display`], [`PrintParams`]); a dataset made elsewhere needs only `id`, `species`,
//! `level`, `frames[].file` and `capture_times_ms`.

use std::path::{Component, Path, PathBuf};

use holoid_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::camera::{CameraParams, Level, Pose};
use crate::display::Display;
use crate::print::PrintParams;
use crate::species::{Capture, Species};

/// One capture of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `species/level/NNNN`.
    pub id: String,
    /// What it is.
    pub species: Species,
    /// Whether the species is an attack.
    #[serde(default)]
    pub attack: bool,
    /// How hard.
    pub level: Level,
    /// The credential the card belongs to.
    #[serde(default)]
    pub credential: String,
    /// The frames, in the order taken.
    pub frames: Vec<FrameFile>,
    /// When each frame was taken, Unix milliseconds.
    pub capture_times_ms: Vec<u64>,
    /// The time the card in each frame was drawn for, Unix milliseconds.
    #[serde(default)]
    pub drawn_times_ms: Vec<u64>,
    /// Whether a replay was a still screenshot (true) or a recording (false).
    #[serde(default)]
    pub still_replay: Option<bool>,
    /// Which edit a `text_edit` capture carries (`holoid_core::demo::EDIT_NAMES`).
    #[serde(default)]
    pub edit: Option<String>,
    /// Each frame's screen corners in camera pixels.
    #[serde(default)]
    pub poses: Vec<[[f64; 2]; 4]>,
    /// Each frame's camera.
    #[serde(default)]
    pub cameras: Vec<CameraParams>,
    /// The second screen of a screen photo.
    #[serde(default)]
    pub display: Option<Display>,
    /// The print of a print attack.
    #[serde(default)]
    pub print: Option<PrintParams>,
}

/// A frame's file, relative to the dataset folder, and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameFile {
    /// `species/level/NNNN-F.jpg`.
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    #[serde(default)]
    pub sha256: String,
}

impl ManifestEntry {
    /// The entry of capture number `n` of `cap`, whose frames were written as `frames`.
    pub fn new(
        cap: &Capture,
        n: u32,
        credential_id: &str,
        frames: Vec<FrameFile>,
        edit: Option<&str>,
    ) -> ManifestEntry {
        ManifestEntry {
            id: format!("{}/{}/{n:04}", cap.species.name(), cap.level.name()),
            species: cap.species,
            attack: cap.species.is_attack(),
            level: cap.level,
            credential: credential_id.to_string(),
            frames,
            capture_times_ms: cap.capture_times.iter().map(|t| t.0).collect(),
            drawn_times_ms: cap.drawn_times.iter().map(|t| t.0).collect(),
            still_replay: cap.still,
            edit: edit.map(str::to_string),
            poses: cap.poses.iter().map(|p: &Pose| p.screen_corners).collect(),
            cameras: cap.cameras.clone(),
            display: cap.display,
            print: cap.print,
        }
    }

    /// The manifest line: compact JSON with its keys in sorted order, so a line parsed and
    /// written again by any JSON tool that sorts keys is the same text.
    pub fn to_line(&self) -> String {
        serde_json::to_value(self)
            .expect("a manifest entry is plain data")
            .to_string()
    }

    /// Reads a manifest line; refuses an entry that is not one (with the reason), whose frames
    /// and capture times differ in number, or whose frame paths leave the dataset folder.
    pub fn from_line(line: &str) -> Result<ManifestEntry, String> {
        let e: ManifestEntry =
            serde_json::from_str(line).map_err(|e| format!("not a manifest entry: {e}"))?;
        if e.frames.is_empty() || e.frames.len() != e.capture_times_ms.len() {
            return Err(format!(
                "{} frames but {} capture times",
                e.frames.len(),
                e.capture_times_ms.len()
            ));
        }
        for f in &e.frames {
            if Path::new(&f.file)
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(format!("frame path `{}` leaves the dataset directory", f.file));
            }
        }
        Ok(e)
    }

    /// Each frame's path under the dataset folder `dir`, with its capture time.
    pub fn frame_paths(&self, dir: &Path) -> Vec<(PathBuf, UnixMillis)> {
        self.frames
            .iter()
            .zip(&self.capture_times_ms)
            .map(|(f, &t)| (dir.join(&f.file), UnixMillis(t)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(frames: &str, times: &str) -> String {
        format!(
            r#"{{"id":"x/easy/0000","species":"print","level":"easy","frames":{frames},"capture_times_ms":{times}}}"#
        )
    }

    #[test]
    fn a_minimal_entry_from_elsewhere_is_read() {
        let e = ManifestEntry::from_line(&minimal(r#"[{"file":"a/b.jpg"}]"#, "[5]")).unwrap();
        assert_eq!(e.species, Species::Print);
        assert_eq!(e.level, Level::Easy);
        assert_eq!(
            e.frame_paths(Path::new("/d")),
            vec![(PathBuf::from("/d/a/b.jpg"), UnixMillis(5))]
        );
        assert_eq!(ManifestEntry::from_line(&e.to_line()).unwrap(), e);
    }

    #[test]
    fn bad_entries_are_refused_with_the_reason() {
        for (line, says) in [
            ("{", "not a manifest entry"),
            (
                r#"{"id":"x","species":"dragon","level":"easy","frames":[],"capture_times_ms":[]}"#,
                "unknown variant `dragon`",
            ),
            (
                r#"{"id":"x","species":"print","level":"easy","capture_times_ms":[]}"#,
                "frames",
            ),
            (
                &minimal(r#"[{"file":"a.jpg"}]"#, "[1,2]"),
                "1 frames but 2 capture times",
            ),
            (
                &minimal(r#"[{"file":"../a.jpg"}]"#, "[1]"),
                "leaves the dataset directory",
            ),
            (
                &minimal(r#"[{"file":"/etc/passwd"}]"#, "[1]"),
                "leaves the dataset directory",
            ),
            (&minimal(r#"[{"file":"a.jpg"}]"#, "[-1]"), "not a manifest entry"),
        ] {
            let e = ManifestEntry::from_line(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }
}
