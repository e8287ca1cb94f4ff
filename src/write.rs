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
            let done = replace(temp, &self.path).map_err(|e| fail(&self.path, e));
            forget_pending(&name);
            done?;
        }
        Ok(())
    }
}

/// Moves the finished temporary file onto `path`. A file already there is swapped out in one
/// step (Linux's `RENAME_EXCHANGE`) and then removed: a `rename` over it would make ext4
/// allocate and start writing the whole new file to disk first (its `auto_da_alloc`), which
/// took 0.2 s for 240 MB here. Either way `path` always names a whole file, old or new.
fn replace(temp: tempfile::TempPath, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if exchange(&temp, path).is_ok() {
        return temp.close(); // the old file, now under the temporary name
    }
    temp.persist(path).map_err(|e| e.error)
}

/// Swaps two names atomically; fails where either is missing or the file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    Ok(renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn commit(path: &Path, text: &str) {
        let mut out = Output::create(Some(path)).unwrap();
        out.write_all(text.as_bytes()).unwrap();
        out.commit().unwrap();
    }

    #[test]
    fn a_commit_replaces_the_name_and_leaves_no_other_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let other = dir.path().join("other_link.csv");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::hard_link(&path, &other).unwrap();
        let mut out = Output::create(Some(&path)).unwrap();
        out.write_all(b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        // The old file was not written in place: its other name still holds it.
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["other_link.csv", "out.csv"]);
        commit(&dir.path().join("fresh.csv"), "a\n");
        commit(&path, "newer\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "newer\n");
        assert_eq!(
            names(dir.path()),
            ["fresh.csv", "other_link.csv", "out.csv"]
        );
    }
}
