//! The manifest a shard writes beside its output (`PART.manifest.json`): which input, which
//! shard, the bytes and rows it covered, and the options that shape the result.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Shard;
use crate::error::{Error, Result};
use crate::format::Format;

/// The version of the manifest format; `merge` takes only this one.
pub const VERSION: &str = "dfpar-shard/1";

/// Which file a shard read: its path, size and modification time when the shard started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: PathBuf,
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

/// What a part holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Part {
    /// Output rows (row mode, `--where`), with a header line when `header`; in unordered
    /// mode numbered from the shard's first row.
    Rows {
        format: String,
        header: bool,
        row_index: bool,
        delimiter: u8,
    },
    /// The partial state of a column or frame job, as JSON.
    State,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub input: InputFile,
    pub shard: Shard,
    /// Where the input's data starts (after the header): shard 0's start.
    pub data_start: u64,
    /// The bytes whose records the shard processed: [start, end).
    pub start: u64,
    pub end: u64,
    /// The start was found by counting the quotes before it (else by the line start,
    /// proved right by the shard before ending there).
    pub exact_start: bool,
    /// Data rows in the shard's records (skipped bad rows included).
    pub rows: u64,
    /// The `dfpar apply` options that shape the result, as given.
    pub options: Vec<String>,
    pub part: Part,
    /// The part's size when the manifest was written.
    pub part_bytes: u64,
}

/// Where the manifest of `part` is.
pub fn path_of(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

impl InputFile {
    /// The file as it is now.
    pub fn of(path: &Path) -> Result<InputFile> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Input {
            path: path.display().to_string(),
            what: "cannot read",
            source,
        })?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(InputFile {
            path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            size: meta.len(),
            modified_ns,
        })
    }
}

impl Part {
    pub fn rows(format: Format, header: bool, row_index: bool, delimiter: u8) -> Part {
        Part::Rows {
            format: format.extension().to_string(),
            header,
            row_index,
            delimiter,
        }
    }
}

impl Manifest {
    /// Writes the manifest of `part` (atomically, beside it), recording the part's size.
    pub fn write(mut self, part: &Path) -> Result<()> {
        self.part_bytes = std::fs::metadata(part).map_or(0, |m| m.len());
        let text = serde_json::to_string_pretty(&self).expect("a manifest is JSON") + "\n";
        let mut out = crate::write::Output::create(Some(&path_of(part)))?;
        out.write_all(text.as_bytes())?;
        out.commit()
    }

    /// Reads the manifest of `part`.
    pub fn read(part: &Path) -> Result<Manifest> {
        let path = path_of(part);
        let fail = |message: String| Error::Data {
            path: part.display().to_string(),
            line: None,
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fail(format!(
                "no manifest ({}: {e}): a shard that did not finish leaves none; run it (again) with dfpar apply --shard",
                path.display()
            ))
        })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| fail(format!("{} is not a dfpar manifest: {e}", path.display())))?;
        if manifest.version != VERSION {
            return Err(fail(format!(
                "{} is of format {}, this dfpar merges {VERSION}",
                path.display(),
                manifest.version
            )));
        }
        Ok(manifest)
    }
}
