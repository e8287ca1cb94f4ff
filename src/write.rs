//! The writer: one owner of the output, stdout or a file. A file is written under a
//! temporary name in its directory and renamed only when the whole run succeeded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files not yet moved into place: what an interrupt must remove.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary output of this process (on SIGINT or SIGTERM).
pub fn remove_pending() {
    let pending = PENDING.lock().map(|p| p.clone()).unwrap_or_default();
    for path in pending {
        let _ = std::fs::remove_file(path);
    }
}

fn forget_pending(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}

/// Where the results go.
pub struct Output {
    writer: BufWriter<Box<dyn Write + Send>>,
    path: PathBuf,
    /// The temporary file to rename onto `path` at commit; removed when dropped uncommitted.
    temp: Option<tempfile::TempPath>,
}

impl Output {
    /// Standard output, or a file at `path`. Existing non-regular files (a device such as
    /// `/dev/null`, a named pipe) are written in place, never replaced.
    pub fn create(path: Option<&Path>) -> Result<Output> {
        let Some(path) = path else {
            return Ok(Output {
                writer: BufWriter::with_capacity(1 << 16, Box::new(std::io::stdout())),
                path: PathBuf::from("<stdout>"),
                temp: None,
            });
        };
        let fail = |source| Error::Output {
            path: path.to_path_buf(),
            source,
        };
        let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if special {
            let file = File::options().write(true).open(path).map_err(fail)?;
            return Ok(Output {
                writer: BufWriter::with_capacity(1 << 16, Box::new(file)),
                path: path.to_path_buf(),
                temp: None,
            });
        }
        if path.is_dir() {
            return Err(fail(std::io::Error::other("is a directory")));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".dfpar-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // What a plain `File::create` would give under the usual umask, not tempfile's 0600.
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let temp = builder.tempfile_in(dir).map_err(fail)?;
        let (file, temp_path) = temp.into_parts();
        if let Ok(mut p) = PENDING.lock() {
            p.push(temp_path.to_path_buf());
        }
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 16, Box::new(file)),
            path: path.to_path_buf(),
            temp: Some(temp_path),
        })
    }

    /// Where the output goes, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|source| Error::Output {
                path: self.path.clone(),
                source,
            })
    }

    /// Flushes everything and, for a file, moves it into place.
    pub fn commit(mut self) -> Result<()> {
        let fail = |path: &Path, source| Error::Output {
            path: path.to_path_buf(),
            source,
        };
        self.writer.flush().map_err(|e| fail(&self.path, e))?;
        if let Some(temp) = self.temp.take() {
            let name = temp.to_path_buf();
            let done = temp
                .persist(&self.path)
                .map_err(|e| fail(&self.path, e.error));
            forget_pending(&name);
            done?;
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // An uncommitted temporary file is removed by its TempPath; stop tracking it.
        if let Some(temp) = &self.temp {
            forget_pending(temp);
        }
    }
}

/// For polars' writers, which take any `Write`.
impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}
