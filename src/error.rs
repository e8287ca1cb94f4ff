//! The one error type of dfpar, by stage, with messages written for users.
//! `main` prints them as `dfpar: <message>` and maps them to exit codes.

use std::path::PathBuf;

/// Every way a dfpar run can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be done (exit code 2).
    #[error("{0}")]
    Usage(String),

    /// The input cannot be opened or read.
    #[error("{path}: {what}: {source}")]
    Input {
        path: String,
        what: &'static str,
        source: std::io::Error,
    },

    /// The input is not CSV dfpar can process: names the file and, where known, the line.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Data {
        path: String,
        line: Option<u64>,
        message: String,
    },

    /// A function failed on a chunk of data.
    #[error("{path}: lines {first_line}-{last_line}: {message}")]
    Function {
        path: String,
        first_line: u64,
        last_line: u64,
        message: String,
    },

    /// A run that `dfpar bench` timed failed: which run, and the run's own message.
    #[error("bench: {run}: {message}")]
    Bench { run: String, message: String },

    /// A bug in dfpar, reported rather than hidden.
    #[error("internal error: {0}")]
    Internal(String),

    /// The output cannot be written.
    #[error("{}: cannot write output: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The documented exit code: 2 for usage errors, 1 for data and I/O errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// True when the output was a pipe closed by its reader (`dfpar ... | head`): not an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
