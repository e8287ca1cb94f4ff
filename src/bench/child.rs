//! One timed run: `dfpar apply` as a child process of this executable, its output to
//! /dev/null, its wall time and its peak RSS from the kernel's rusage (`wait4`).

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::Mode;
use crate::error::Error;

/// Where each run's output goes: written, so the work is done, but never to a terminal.
pub const NULL_DEVICE: &str = "/dev/null";

/// What one run took.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set of the child, in KiB (None where rusage is not available).
    pub peak_rss_kib: Option<u64>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot start {exe}: {source}")]
    Spawn { exe: String, source: std::io::Error },
    #[error("cannot wait for the child: {0}")]
    Wait(std::io::Error),
    /// The child ran and failed: its own message (without `dfpar: `) and exit code.
    #[error("{message}")]
    Exited { code: Option<i32>, message: String },
}

impl Failure {
    /// The error that stops the bench. A usage error of the child (exit code 2: unknown
    /// function, column or parameter) stays one; anything else names the run.
    pub fn into_error(self, run: &str) -> Error {
        match self {
            Failure::Exited {
                code: Some(2),
                message,
            } => Error::Usage(message),
            other => Error::Bench {
                run: run.to_string(),
                message: other.to_string(),
            },
        }
    }
}

/// `base` (the apply arguments given to bench) for one case: `--jobs`, `--mode`, output to /dev/null,
/// no progress bar, inserted before the `--` that precedes the input.
pub fn case_argv(base: &[OsString], jobs: usize, mode: Mode) -> Vec<OsString> {
    let split = base.iter().rposition(|a| a == "--").unwrap_or(base.len());
    let case = [
        format!("--jobs={jobs}"),
        format!("--mode={}", mode.name()),
        format!("--output={NULL_DEVICE}"),
        "--progress=never".to_string(),
    ];
    let mut v = base[..split].to_vec();
    v.extend(case.into_iter().map(OsString::from));
    v.extend_from_slice(&base[split..]);
    v
}

/// Runs `exe argv` with polars' pool sized to `jobs`, and times it from spawn to exit.
pub fn run(exe: &Path, argv: &[OsString], jobs: usize) -> Result<Sample, Failure> {
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(argv)
        .env("POLARS_MAX_THREADS", jobs.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Failure::Spawn {
            exe: exe.display().to_string(),
            source,
        })?;
    // Read stderr to its end (the child's exit) before reaping, so a chatty child never
    // blocks on a full pipe.
    let mut stderr = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_end(&mut stderr).map_err(Failure::Wait)?;
    }
    let (status, peak_rss_kib) = wait(&mut child).map_err(Failure::Wait)?;
    let wall = start.elapsed();
    if status.success() {
        return Ok(Sample { wall, peak_rss_kib });
    }
    let text = String::from_utf8_lossy(&stderr);
    let text = text.trim();
    let message = match text.strip_prefix("dfpar: ").unwrap_or(text) {
        "" => describe(status),
        m => m.to_string(),
    };
    Err(Failure::Exited {
        code: status.code(),
        message,
    })
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    format!("failed without a message ({status})")
}

/// Reaps the child with `wait4`, which also gives its resource usage.
#[cfg(unix)]
fn wait(child: &mut std::process::Child) -> std::io::Result<(ExitStatus, Option<u64>)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals; `pid` is our child, not yet reaped
        // (std reaps only in `wait`/`try_wait`, which are never called on it).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let maxrss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    // Linux and the BSDs count KiB; macOS counts bytes.
    let kib = if cfg!(target_os = "macos") {
        maxrss / 1024
    } else {
        maxrss
    };
    Ok((ExitStatus::from_raw(status), Some(kib)))
}

#[cfg(not(unix))]
fn wait(child: &mut std::process::Child) -> std::io::Result<(ExitStatus, Option<u64>)> {
    Ok((child.wait()?, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command as Cmd};
    use crate::request::Request;
    use clap::Parser;

    fn parse_apply(argv: &[OsString]) -> Request {
        let full = std::iter::once(OsString::from("dfpar")).chain(argv.iter().cloned());
        match Cli::try_parse_from(full).unwrap().command {
            Cmd::Apply(a) => a.into_request(Vec::new()).unwrap(),
            other => panic!("not apply: {other:?}"),
        }
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn case_flags_go_before_the_input() {
        let base = os(&["apply", "--fn=sum", "--", "in.csv"]);
        let argv = case_argv(&base, 2, Mode::Unordered);
        assert_eq!(
            argv,
            os(&[
                "apply",
                "--fn=sum",
                "--jobs=2",
                "--mode=unordered",
                "--output=/dev/null",
                "--progress=never",
                "--",
                "in.csv"
            ])
        );
        let o = parse_apply(&argv);
        assert_eq!((o.settings.jobs, o.settings.mode), (2, Mode::Unordered));
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_child_gives_its_message_and_code() {
        let argv = os(&[
            "-c",
            "echo 'dfpar: bad.csv:3: expected 3 fields' >&2; exit 1",
        ]);
        match run(Path::new("/bin/sh"), &argv, 1) {
            Err(Failure::Exited { code, message }) => {
                assert_eq!(code, Some(1));
                assert_eq!(message, "bad.csv:3: expected 3 fields");
            }
            other => panic!("{other:?}"),
        }
        let ok = run(Path::new("/bin/sh"), &os(&["-c", "exit 0"]), 1).unwrap();
        assert!(ok.peak_rss_kib.unwrap() > 0);
    }
}
