//! `--cmd COMMAND`: a partition function in any language. Each chunk goes as CSV (with the
//! header) to the stdin of a new `sh -c COMMAND`; its stdout, checked as CSV, is the result.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::pipeline::Job;
use crate::read::Chunk;

use super::context::Context;

/// The runs of the command, one per chunk.
pub(super) struct CmdJob {
    pub(super) ctx: Context,
    pub(super) command: String,
    /// The input's header line, sent before each chunk's records.
    pub(super) header: Vec<u8>,
}

/// A chunk's result: the command's header line and the rows after it.
pub(super) struct CmdOutput {
    pub(super) header: Vec<u8>,
    pub(super) rows: Vec<u8>,
}

impl CmdJob {
    fn fail(&self, chunk: &Chunk, what: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("command '{}' {what}", self.command))
    }

    /// Sends `input` to a new process and returns its stdout (stderr passes through).
    fn run(&self, chunk: &Chunk, input: Vec<u8>) -> Result<Vec<u8>> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| self.fail(chunk, format!("cannot start: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Feed stdin from another thread, so a command that writes before it has read
        // everything never deadlocks against us.
        let feeder = std::thread::spawn(move || {
            let r = stdin.write_all(&input);
            drop(stdin);
            r
        });
        let mut out = Vec::new();
        let read = child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_end(&mut out);
        let status = child
            .wait()
            .map_err(|e| self.fail(chunk, format!("cannot be waited for: {e}")))?;
        let fed = feeder.join().expect("stdin feeder");
        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => format!("was killed ({status})"),
            };
            return Err(self.fail(chunk, how));
        }
        read.map_err(|e| self.fail(chunk, format!("output cannot be read: {e}")))?;
        // A command may exit before reading all its input (`head`): that is its right.
        if let Err(e) = fed {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(self.fail(chunk, format!("input cannot be written: {e}")));
            }
        }
        Ok(out)
    }
}

impl Job for CmdJob {
    type Part = CmdOutput;

    fn process(&self, chunk: &Chunk) -> Result<CmdOutput> {
        let parsed = self.ctx.read(chunk)?;
        let mut input = self.header.clone();
        for r in &parsed.records {
            input.extend_from_slice(r.of(&chunk.bytes));
            input.push(b'\n');
        }
        let out = self.run(chunk, input)?;
        let d = &self.ctx.dialect;
        if out.is_empty() {
            return Err(self.fail(chunk, "wrote nothing (expected CSV with a header)".into()));
        }
        let header_end = crate::read::first_record_end(&out, d.quote).unwrap_or(out.len());
        let (header, body) = out.split_at(header_end);
        let width = crate::read::split_fields(header.trim_ascii_end(), d)
            .map_err(|e| self.fail(chunk, format!("wrote a header that is not CSV: {e}")))?
            .len();
        let mut rows = Vec::with_capacity(body.len() + 1);
        let mut count = 0u64;
        crate::records::for_each_record(body, d.delimiter, d.quote, |r| {
            if r.fields != width {
                return Err(self.fail(
                    chunk,
                    format!(
                        "wrote a row of {} fields under a header of {width}: {}",
                        r.fields,
                        String::from_utf8_lossy(&body[r.start..r.end])
                    ),
                ));
            }
            if self.ctx.row_index {
                rows.extend_from_slice(
                    itoa::Buffer::new()
                        .format(chunk.first_row + count)
                        .as_bytes(),
                );
                rows.push(d.delimiter);
            }
            rows.extend_from_slice(&body[r.start..r.end]);
            rows.push(b'\n');
            count += 1;
            Ok(())
        })?;
        if self.ctx.row_index && count != parsed.records.len() as u64 {
            return Err(self.fail(
                chunk,
                format!(
                    "returned {count} rows for {}; --mode unordered numbers rows by input row, so it needs one output row per input row",
                    parsed.records.len()
                ),
            ));
        }
        let mut header = header.trim_ascii_end().to_vec();
        if self.ctx.row_index {
            header.splice(0..0, [b"row_index".as_slice(), &[d.delimiter]].concat());
        }
        header.push(b'\n');
        Ok(CmdOutput { header, rows })
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}

/// Runs the command over every chunk; the first result's header is written once and every
/// later chunk must give the same header.
pub(super) fn run(
    job: CmdJob,
    inputs: crate::read::Inputs,
    settings: crate::pipeline::Settings,
    progress: &crate::progress::Progress,
    output: &mut crate::write::Output,
) -> Result<Context> {
    let command = job.command.clone();
    let mut header: Option<Vec<u8>> = None;
    crate::pipeline::run(inputs, &job, settings, progress, |part| {
        match &header {
            None => {
                output.write_all(&part.header)?;
                header = Some(part.header);
            }
            Some(h) if *h != part.header => {
                return Err(Error::Data {
                    path: job.ctx.paths.join(", "),
                    line: None,
                    message: format!(
                    "command '{command}' wrote different headers for different chunks: {} and {}",
                    String::from_utf8_lossy(h).trim_end(),
                    String::from_utf8_lossy(&part.header).trim_end()
                ),
                })
            }
            Some(_) => {}
        }
        output.write_all(&part.rows)
    })?;
    Ok(job.ctx)
}
