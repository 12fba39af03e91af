//! The witness file: signed tree heads of the audit log, one JSON line each, appended by the
//! service as the log grows (`holoid serve --audit-witness FILE`). Put it where a database
//! writer cannot reach — a write-once share, another host's mount — and a later check
//! (`holoid audit verify --against FILE`, or the service at start) catches a database that was
//! wiped, rolled back, replaced or rewritten since.
//!
//! A file of one head in any JSON layout (what `GET /v1/audit/head` answers) reads too.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::audit::TreeHead;

/// Why the witness file could not be read or written.
#[derive(Debug)]
pub enum WitnessError {
    /// The file could not be read, opened or written.
    Io(PathBuf, std::io::Error),
    /// A line is not a head.
    Bad {
        /// The file.
        path: PathBuf,
        /// Its line number, from 1.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

impl fmt::Display for WitnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WitnessError::Io(p, e) => write!(f, "the witness file {}: {e}", p.display()),
            WitnessError::Bad { path, line, why } => write!(
                f,
                "line {line} of the witness file {} is not a signed audit head: {why}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for WitnessError {}

/// The heads in `path`, oldest first; none when the file does not exist yet. A last line
/// without its newline that does not parse (a write cut short by a crash) is skipped.
pub fn read(path: &Path) -> Result<Vec<TreeHead>, WitnessError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WitnessError::Io(path.to_path_buf(), e)),
    };
    if let Ok(one) = serde_json::from_str::<TreeHead>(&text) {
        return Ok(vec![one]);
    }
    let torn = !text.is_empty() && !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut heads = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<TreeHead>(line) {
            Ok(h) => heads.push(h),
            Err(_) if torn && i + 1 == lines.len() => {}
            Err(e) => {
                return Err(WitnessError::Bad {
                    path: path.to_path_buf(),
                    line: i + 1,
                    why: e.to_string(),
                });
            }
        }
    }
    Ok(heads)
}

/// Appends `head` as one line and waits until it is on disk.
pub fn append(path: &Path, head: &TreeHead) -> Result<(), WitnessError> {
    let io = |e| WitnessError::Io(path.to_path_buf(), e);
    let mut line = serde_json::to_string(head).map_err(|e| io(std::io::Error::other(e)))?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_data().map_err(io)
}
