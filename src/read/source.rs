//! Where an input comes from: a file or standard input, opened with the size when known
//! and decoded on the way when it is compressed.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::compress::{self, Codec};
use crate::error::{Error, Result};

/// Where the input comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(std::path::PathBuf),
}

impl Source {
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(arg.into())
        }
    }

    /// The file's path (`None` for standard input).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Stdin => None,
            Source::File(p) => Some(p),
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// The size in bytes of a regular file; `None` for stdin, pipes and devices.
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::Stdin => None,
            Source::File(p) => std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
        }
    }

    /// Opens the input, decoded when it is compressed (by its extension or first bytes).
    pub(super) fn open(&self) -> Result<Opened> {
        let (raw, size): (Box<dyn Read + Send>, _) = match self {
            Source::Stdin => (Box::new(std::io::stdin()), None),
            Source::File(path) => open_file(path)?,
        };
        let (reader, decoding) =
            compress::open(raw, self.path()).map_err(|source| Error::Input {
                path: self.name(),
                what: "cannot read",
                source,
            })?;
        Ok(Opened {
            reader,
            size,
            decoding,
        })
    }
}

/// An input opened for reading.
pub(super) struct Opened {
    pub(super) reader: Box<dyn Read + Send>,
    /// The size of a regular file (compressed, when it is).
    pub(super) size: Option<u64>,
    /// When it is compressed: its codec, and the compressed bytes decoded so far.
    pub(super) decoding: Option<(Codec, Arc<AtomicU64>)>,
}

fn open_file(path: &Path) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    let input_err = |what, source| Error::Input {
        path: path.display().to_string(),
        what,
        source,
    };
    let file = File::open(path).map_err(|e| input_err("cannot open", e))?;
    let meta = file.metadata().map_err(|e| input_err("cannot read", e))?;
    if meta.is_dir() {
        return Err(Error::Data {
            path: path.display().to_string(),
            line: None,
            message: "is a directory, expected a CSV file".into(),
        });
    }
    let size = meta.is_file().then_some(meta.len());
    Ok((Box::new(file), size))
}
