//! `--cmd COMMAND`: a partition function in any language. Each chunk goes as CSV (with the
//! header) to the stdin of a new `sh -c COMMAND`; its stdout, checked as CSV, is the result.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::reader::Reader;
use super::stream::BatchJob;
use super::Env;
use crate::error::{Error, Result};
use crate::parse::{self, Parsed, Span};
use crate::read::Chunk;
use crate::sink::{Batch, Layout, Records, Rows};

/// The runs of the command, one per chunk.
pub(super) struct CmdJob<'a> {
    env: &'a Env<'a>,
    command: &'a str,
    /// The first header the command wrote: every chunk's must be the same.
    header: Mutex<Option<Vec<u8>>>,
}

impl<'a> CmdJob<'a> {
    pub(super) fn new(env: &'a Env<'a>, command: &'a str) -> CmdJob<'a> {
        CmdJob {
            env,
            command,
            header: Mutex::new(None),
        }
    }

    fn fail(&self, chunk: &Chunk, what: impl std::fmt::Display) -> Error {
        self.env
            .reader
            .chunk_err(chunk, format!("command '{}' {what}", self.command))
    }

    /// Sends `input` to a new process and returns its stdout (stderr passes through).
    fn run(&self, chunk: &Chunk, input: Vec<u8>) -> Result<Vec<u8>> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(self.command)
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

    /// The command's header (checked against the first chunk's) and the rest of its output.
    fn split_header(&self, chunk: &Chunk, mut out: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        let d = &self.env.req.dialect;
        if out.is_empty() {
            return Err(self.fail(chunk, "wrote nothing (expected CSV with a header)"));
        }
        let end = crate::read::first_record_end(&out, d.quote).unwrap_or(out.len());
        let body = out.split_off(end);
        let header = out.trim_ascii_end().to_vec();
        let mut first = self.header.lock().expect("first header");
        match &*first {
            None => *first = Some(header.clone()),
            Some(h) if *h != header => {
                return Err(Error::Data {
                    path: self
                        .env
                        .run
                        .inputs
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    line: None,
                    message: format!(
                        "command '{}' wrote different headers for different chunks: {} and {}",
                        self.command,
                        String::from_utf8_lossy(h),
                        String::from_utf8_lossy(&header)
                    ),
                });
            }
            Some(_) => {}
        }
        Ok((header, body))
    }

    /// The records of the command's output, each checked to have the header's width.
    fn records(&self, chunk: &Chunk, header: &[u8], body: &[u8]) -> Result<Vec<Span>> {
        let d = &self.env.req.dialect;
        let width = crate::read::split_fields(header, d)
            .map_err(|e| self.fail(chunk, format!("wrote a header that is not CSV: {e}")))?
            .len();
        let mut spans = Vec::new();
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
            spans.push(Span {
                start: r.start as u32,
                end: r.end as u32,
            });
            Ok(())
        })?;
        Ok(spans)
    }
}

impl BatchJob for CmdJob<'_> {
    fn layout(&self) -> Layout {
        self.env.layout(true)
    }

    fn batch<'c>(&self, chunk: &'c Chunk, parsed: Parsed) -> Result<Batch<'c>> {
        let mut input = self.env.header.to_vec();
        if self.env.req.dialect.has_header {
            input.push(b'\n');
        }
        input.extend(parse::lines(&chunk.bytes, &parsed.records));
        let out = self.run(chunk, input)?;
        let (header, body) = self.split_header(chunk, out)?;
        let spans = self.records(chunk, &header, &body)?;
        if self.layout().row_index && spans.len() != parsed.records.len() {
            return Err(self.fail(
                chunk,
                format!(
                    "returned {} rows for {}; --mode unordered numbers rows by input row, so it needs one output row per input row",
                    spans.len(),
                    parsed.records.len()
                ),
            ));
        }
        Ok(Batch {
            height: spans.len(),
            rows: Rows::From(chunk.first_row),
            records: Some(Records {
                header: Cow::Owned(header),
                bytes: Cow::Owned(body),
                spans,
            }),
            columns: Vec::new(),
        })
    }

    /// A command is not run without rows: an input of only a header gives an empty output.
    fn empty(&self, _: &Reader) -> Result<Option<Batch<'static>>> {
        Ok(None)
    }
}
