//! Sharding one file by byte range (`--shard I/N`): shard I processes the records whose
//! first byte lies in [I·size/N, (I+1)·size/N), and `dfpar merge` joins the shards' outputs.
//!
//! Where a shard's first record starts: the first line start at or after its first byte,
//! found without reading the bytes before it, unless a quote is near (then the quotes before
//! it are counted, so a quoted line break is never taken for a record's end). Each shard
//! also finds its own end by parsing on from its start; `merge` checks that every shard
//! starts where the one before it ended, which proves the fast starts right.

pub mod manifest;
pub mod merge;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use memchr::{memchr, memchr_iter};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Shard `index` of `count` (0 <= index < count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The environment variables `--shard auto` reads, as the schedulers set them.
pub const AUTO_VARIABLES: &str = "SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (or \
SLURM_ARRAY_TASK_MIN/MAX) for a Slurm job array, JOB_COMPLETION_INDEX (a Kubernetes Indexed \
Job) or AWS_BATCH_JOB_ARRAY_INDEX (an AWS Batch array job) with --shard-count N";

impl Shard {
    /// `I/N`, as `--shard` takes it.
    pub fn parse(spec: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("expected I/N with 0 <= I < N (e.g. 3/16) or auto, not '{spec}'");
        let (i, n) = spec.split_once('/').ok_or_else(bad)?;
        let (index, count) = match (i.trim().parse(), n.trim().parse()) {
            (Ok(i), Ok(n)) => (i, n),
            _ => return Err(bad()),
        };
        match index < count {
            true => Ok(Shard { index, count }),
            false => Err(bad()),
        }
    }

    /// `--shard auto`: this task's shard, from the scheduler's environment (`var`).
    pub fn from_env(count: Option<u64>, var: impl Fn(&str) -> Option<String>) -> Result<Shard> {
        let num = |name: &str| -> Result<Option<u64>> {
            match var(name) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| {
                    Error::usage(format!("--shard auto: {name}={v} is not a whole number"))
                }),
            }
        };
        let (index, count) = if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let tasks = match (num("SLURM_ARRAY_TASK_COUNT")?, num("SLURM_ARRAY_TASK_MAX")?) {
                (Some(n), _) => Some(n),
                (None, Some(max)) => Some((max.saturating_sub(min)) / step + 1),
                (None, None) => count,
            };
            (id.saturating_sub(min) / step, tasks)
        } else if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            (i, count)
        } else if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
            (i, count)
        } else {
            return Err(Error::usage(format!(
                "--shard auto found no shard index in the environment: it reads {AUTO_VARIABLES}"
            )));
        };
        let Some(count) = count else {
            return Err(Error::usage(
                "--shard auto: give the number of shards with --shard-count N",
            ));
        };
        match index < count {
            true => Ok(Shard { index, count }),
            false => Err(Error::usage(format!(
                "--shard auto: shard index {index} is not below the shard count {count}"
            ))),
        }
    }

    /// The first byte of shard `i` of this count in a file of `size` bytes.
    fn byte(&self, i: u64, size: u64) -> u64 {
        (u128::from(i) * u128::from(size) / u128::from(self.count)) as u64
    }

    /// This shard's byte range [start, end): its records are those that start in it.
    pub fn range(&self, size: u64) -> (u64, u64) {
        (self.byte(self.index, size), self.byte(self.index + 1, size))
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a shard's records start.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    pub offset: u64,
    /// Found by counting the quotes before it (else by the line start alone).
    pub exact: bool,
    /// Line endings before `offset`, when they were counted on the way.
    pub lines_before: Option<u64>,
}

/// The first record start at or after `from` in `path`, whose data (after the header)
/// starts at `data_start`, after `header_lines` line endings. `fast`: how far after `from`
/// a quote makes the fast start unsafe (`None`: always count the quotes before `from`).
pub fn find_start(
    path: &Path,
    from: u64,
    data_start: u64,
    header_lines: u64,
    quote: u8,
    fast: Option<usize>,
) -> Result<Start> {
    if from <= data_start {
        return Ok(Start {
            offset: data_start,
            exact: true,
            lines_before: Some(header_lines),
        });
    }
    let input_err = |source| Error::Input {
        path: path.display().to_string(),
        what: "cannot read",
        source,
    };
    let Some(window) = fast else {
        return exact_start(path, from, data_start, header_lines, quote).map_err(input_err);
    };
    let mut file = File::open(path).map_err(input_err)?;
    file.seek(SeekFrom::Start(from - 1)).map_err(input_err)?;
    let mut near = Vec::new();
    (&mut file)
        .take(window as u64)
        .read_to_end(&mut near)
        .map_err(input_err)?;
    if let Some(i) = memchr(b'\n', &near) {
        if memchr(quote, &near).is_none() {
            return Ok(Start {
                offset: from + i as u64,
                exact: false,
                lines_before: None,
            });
        }
    }
    exact_start(path, from, data_start, header_lines, quote).map_err(input_err)
}

/// The first record start at or after `from`, with the quote state read from `data_start`
/// on: a line ending closes a record only outside quotes.
fn exact_start(
    path: &Path,
    from: u64,
    data_start: u64,
    header_lines: u64,
    quote: u8,
) -> std::io::Result<Start> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(data_start))?;
    let mut at = data_start;
    let (mut quoted, mut lines) = (false, header_lines);
    let mut block = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok(Start {
                offset: at,
                exact: true,
                lines_before: Some(lines),
            });
        }
        if at + (n as u64) < from {
            // The whole block is before `from`: only the counts matter.
            quoted ^= memchr_iter(quote, &block[..n]).count() % 2 == 1;
            lines += memchr_iter(b'\n', &block[..n]).count() as u64;
            at += n as u64;
            continue;
        }
        for (i, &b) in block[..n].iter().enumerate() {
            if b == quote {
                quoted = !quoted;
            } else if b == b'\n' {
                lines += 1;
                if !quoted && at + i as u64 + 1 >= from {
                    return Ok(Start {
                        offset: at + i as u64 + 1,
                        exact: true,
                        lines_before: Some(lines),
                    });
                }
            }
        }
        at += n as u64;
    }
}

/// The line endings before a shard's first record: known, or counted in the bytes before
/// it only when a message needs a line number.
pub struct LineBase {
    lazy: Option<(PathBuf, u64)>,
    value: OnceLock<u64>,
}

impl LineBase {
    /// No lines before: line numbers are the file's own.
    pub fn none() -> LineBase {
        LineBase::known(0)
    }

    pub fn known(lines: u64) -> LineBase {
        let value = OnceLock::new();
        let _ = value.set(lines);
        LineBase { lazy: None, value }
    }

    /// The line endings in the first `offset` bytes of `path`, counted when first asked.
    pub fn lazy(path: PathBuf, offset: u64) -> LineBase {
        LineBase {
            lazy: Some((path, offset)),
            value: OnceLock::new(),
        }
    }

    pub fn get(&self) -> u64 {
        *self.value.get_or_init(|| match &self.lazy {
            Some((path, offset)) => count_lines(path, *offset).unwrap_or(0),
            None => 0,
        })
    }
}

/// Line endings in the first `len` bytes of `path`.
fn count_lines(path: &Path, len: u64) -> std::io::Result<u64> {
    let mut file = File::open(path)?.take(len);
    let mut block = vec![0; 1 << 20];
    let mut lines = 0;
    loop {
        match file.read(&mut block)? {
            0 => return Ok(lines),
            n => lines += memchr_iter(b'\n', &block[..n]).count() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs() {
        assert_eq!(
            Shard::parse("3/16"),
            Ok(Shard {
                index: 3,
                count: 16
            })
        );
        for bad in ["16/16", "1", "a/b", "-1/3", "0/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_from_the_schedulers_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_env(None, slurm).unwrap(),
            Shard { index: 7, count: 8 }
        );
        let minmax = env(&[
            ("SLURM_ARRAY_TASK_ID", "12"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_MAX", "13"),
        ]);
        assert_eq!(
            Shard::from_env(None, minmax).unwrap(),
            Shard { index: 2, count: 4 }
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            Shard::from_env(Some(5), k8s).unwrap(),
            Shard { index: 2, count: 5 }
        );
        let err = Shard::from_env(None, env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap_err();
        assert!(err.to_string().contains("--shard-count"), "{err}");
        let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "9")]);
        assert!(Shard::from_env(Some(9), aws).is_err(), "index below count");
        let none = Shard::from_env(Some(4), env(&[])).unwrap_err().to_string();
        assert!(none.contains("SLURM_ARRAY_TASK_ID") && none.contains("JOB_COMPLETION_INDEX"));
    }

    #[test]
    fn ranges_tile_the_file() {
        for count in [1, 2, 3, 7, 64] {
            let mut next = 0;
            for index in 0..count {
                let (a, b) = Shard { index, count }.range(1000);
                assert_eq!(a, next);
                next = b;
            }
            assert_eq!(next, 1000);
        }
    }
}
