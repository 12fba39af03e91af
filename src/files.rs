//! Reading and writing the project's files with clear errors and no half-written results.
//! This is the I/O edge: the core modules never touch the file system.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file operation that failed, with the file and what was being done.
#[derive(Debug)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What holoid was trying to do, e.g. "read the credential".
    pub action: String,
    /// The underlying reason.
    pub reason: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} `{}`: {}",
            self.action,
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for FileError {}

fn file_error(path: &Path, action: &str, reason: impl fmt::Display) -> FileError {
    FileError {
        path: path.to_path_buf(),
        action: action.to_string(),
        reason: reason.to_string(),
    }
}

/// Reads a whole file of at most `max_len` bytes. `what` names it in errors ("credential").
pub fn read_limited(path: &Path, what: &str, max_len: u64) -> Result<Vec<u8>, FileError> {
    let action = format!("read the {what}");
    let meta = fs::metadata(path).map_err(|e| file_error(path, &action, e))?;
    if meta.is_dir() {
        return Err(file_error(path, &action, "it is a directory, not a file"));
    }
    if meta.len() > max_len {
        return Err(file_error(
            path,
            &action,
            format!(
                "it is {} bytes, more than the {max_len} a {what} can be",
                meta.len()
            ),
        ));
    }
    fs::read(path).map_err(|e| file_error(path, &action, e))
}

/// Reads a UTF-8 text file of at most `max_len` bytes.
pub fn read_text(path: &Path, what: &str, max_len: u64) -> Result<String, FileError> {
    let bytes = read_limited(path, what, max_len)?;
    String::from_utf8(bytes).map_err(|e| {
        file_error(
            path,
            &format!("read the {what}"),
            format!(
                "not UTF-8 text (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk,
/// then renamed over the target, so a reader sees the old file or the whole new one and a
/// failure leaves no partial file. `secret` files get mode 0600 on Unix.
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> Result<(), FileError> {
    let action = "write";
    let name = path
        .file_name()
        .ok_or_else(|| file_error(path, action, "not a file path"))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        file_error(path, action, e)
    })
}
