//! What every job shares: the inputs' names, the dialect, the parser, and the rejects;
//! turns parse failures into messages that name the file, line and column.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::encode;
use crate::error::{Error, Result};
use crate::format::{Format, FrameWriter};
use crate::functions::frame::Table;
use crate::parse::{self, ParseError, Parsed, Parser, Rejected};
use crate::read::Chunk;
use crate::write::Output;

/// What every job needs to read a chunk.
pub(super) struct Context {
    /// The inputs' names, indexed by `Chunk::source`.
    pub(super) paths: Vec<String>,
    pub(super) dialect: Dialect,
    /// The output's dialect (the input's, with a tab for TSV).
    pub(super) out: Dialect,
    pub(super) format: Format,
    /// The input's columns as polars types, for the Parquet and JSON writers.
    pub(super) schema: SchemaRef,
    pub(super) width: usize,
    pub(super) parser: Parser,
    /// Unordered mode: outputs carry a first column `row_index`.
    pub(super) row_index: bool,
    /// Where rows of the wrong width go with `--on-bad-rows skip`.
    pub(super) rejects: Option<Rejects>,
    /// What the user expressions read of each chunk.
    pub(super) expr_input: ExprInput,
}

/// The input columns user expressions read: numeric ones come from the parser's columns
/// (integers typed back as Int64), text ones need polars to parse the records.
#[derive(Default)]
pub(super) struct ExprInput {
    /// (name, input index, inferred integer)
    pub(super) columns: Vec<(String, usize, bool)>,
    pub(super) needs_text: bool,
}

/// The skipped rows: counted, and written to `--rejects FILE` as CSV
/// (`file,line,reason,record`) in the order chunks finish.
pub(super) struct Rejects {
    pub(super) count: AtomicU64,
    pub(super) out: Option<Mutex<Output>>,
}

impl Rejects {
    pub(super) fn new(path: Option<&std::path::Path>, d: &Dialect) -> Result<Rejects> {
        let out = match path {
            Some(p) => {
                let mut out = Output::create(Some(p))?;
                let mut header = Vec::new();
                encode::push_names(&mut header, ["file", "line", "reason", "record"], d);
                out.write_all(&header)?;
                Some(Mutex::new(out))
            }
            None => None,
        };
        Ok(Rejects {
            count: AtomicU64::new(0),
            out,
        })
    }

    pub(super) fn log(
        &self,
        path: &str,
        chunk: &Chunk,
        rejected: &[Rejected],
        width: usize,
        d: &Dialect,
    ) -> Result<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        self.count
            .fetch_add(rejected.len() as u64, Ordering::Relaxed);
        let Some(out) = &self.out else { return Ok(()) };
        let mut text = Vec::new();
        let mut num = itoa::Buffer::new();
        for r in rejected {
            let reason = format!("expected {width} fields, found {}", r.found);
            let fields = [
                path.as_bytes(),
                num.format(chunk.first_line + r.line).as_bytes(),
                reason.as_bytes(),
                r.span.of(&chunk.bytes),
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    text.push(d.delimiter);
                }
                encode::push_text(&mut text, f, d);
            }
            text.push(b'\n');
        }
        out.lock().expect("rejects writer").write_all(&text)
    }

    /// Reports the count on stderr and moves the rejects file into place.
    pub(super) fn finish(self, inputs: &[String]) -> Result<()> {
        let n = self.count.load(Ordering::Relaxed);
        let input = match inputs {
            [one] => one.clone(),
            many => format!("{} inputs", many.len()),
        };
        if n > 0 {
            eprintln!(
                "dfpar: {input}: skipped {n} bad row{}",
                if n == 1 { "" } else { "s" }
            );
        }
        match self.out {
            Some(out) => out.into_inner().expect("rejects writer").commit(),
            None => Ok(()),
        }
    }
}

impl Context {
    pub(super) fn data_err(&self, source: usize, line: Option<u64>, message: String) -> Error {
        Error::Data {
            path: self.paths[source].clone(),
            line,
            message,
        }
    }

    pub(super) fn chunk_err(&self, chunk: &Chunk, message: String) -> Error {
        Error::Function {
            path: self.paths[chunk.source].clone(),
            first_line: chunk.first_line,
            last_line: chunk.last_line(),
            message,
        }
    }

    /// Parses `bytes`, the records of which start at line `first_line`.
    pub(super) fn parse(&self, bytes: &[u8], source: usize, first_line: u64) -> Result<Parsed> {
        self.parser.parse(bytes).map_err(|e| match e {
            ParseError::Ragged { line, found } => self.data_err(
                source,
                Some(first_line + line),
                format!("expected {} fields, found {found}", self.width),
            ),
            ParseError::NotNumber { line, column, text } => self.data_err(
                source,
                Some(first_line + line),
                format!(
                    "column '{}': '{text}' {}",
                    self.parser.name(column),
                    parse::why_not_a_number(&text)
                ),
            ),
        })
    }

    /// The records of a chunk and its parsed columns; records of the wrong width, when
    /// skipped, go to the rejects.
    pub(super) fn read(&self, chunk: &Chunk) -> Result<Parsed> {
        let parsed = self.parse(&chunk.bytes, chunk.source, chunk.first_line)?;
        if (parsed.records.len() + parsed.rejected.len()) as u64 != chunk.rows {
            return Err(Error::Internal(format!(
                "{}: lines {}-{}: counted {} rows, scanned {}",
                self.paths[chunk.source],
                chunk.first_line,
                chunk.last_line(),
                chunk.rows,
                parsed.records.len()
            )));
        }
        if let Some(rejects) = &self.rejects {
            rejects.log(
                &self.paths[chunk.source],
                chunk,
                &parsed.rejected,
                self.width,
                &self.dialect,
            )?;
        }
        Ok(parsed)
    }

    /// The first `n` records of the input's first block, checked, for schema inference
    /// (without the rows of the wrong width when those are skipped).
    pub(super) fn inference_sample(
        &self,
        sample: &[u8],
        first_line: u64,
        n: usize,
    ) -> Result<Vec<u8>> {
        let parsed = self.parse(sample, 0, first_line)?;
        let mut out = Vec::with_capacity(sample.len().min(1 << 20));
        for r in parsed.records.iter().take(n) {
            out.extend_from_slice(r.of(sample));
            out.push(b'\n');
        }
        Ok(out)
    }

    /// A finished table as CSV; records kept whole get the input's header.
    /// Writes a finished table: as text, or through polars' writer for the format.
    /// Records kept whole (`sample`) get the input's header.
    pub(super) fn write_table(
        &self,
        table: Table,
        raw_header: Option<&[u8]>,
        output: &mut Output,
    ) -> Result<()> {
        let internal = |e: PolarsError| Error::Internal(e.to_string());
        if !self.format.is_text() {
            let mut df = match table {
                Table::Frame(df) => {
                    let n = df.height() as u64;
                    self.indexed(df, 0..n).map_err(internal)?
                }
                Table::Records(rows) => {
                    let mut bytes = Vec::new();
                    for (_, r) in &rows {
                        bytes.extend_from_slice(r);
                        bytes.push(b'\n');
                    }
                    let df = self.records_frame(&bytes, rows.len())?;
                    self.indexed(df, rows.iter().map(|(row, _)| *row))
                        .map_err(internal)?
                }
            };
            let mut frames = FrameWriter::new(self.format, output);
            frames.write(&mut df)?;
            return frames.finish(DataFrame::empty);
        }
        let d = &self.out;
        let text = match table {
            Table::Frame(df) => encode::encode_table(&df, d, self.row_index).map_err(internal)?,
            Table::Records(rows) => {
                let mut out = Vec::new();
                if let Some(raw) = raw_header {
                    if self.row_index {
                        encode::push_text(&mut out, b"row_index", d);
                        out.push(d.delimiter);
                    }
                    encode::push_record(&mut out, raw, &self.dialect, d);
                    out.push(b'\n');
                }
                let mut index = itoa::Buffer::new();
                for (row, bytes) in rows {
                    if self.row_index {
                        out.extend_from_slice(index.format(row).as_bytes());
                        out.push(d.delimiter);
                    }
                    encode::push_record(&mut out, &bytes, &self.dialect, d);
                    out.push(b'\n');
                }
                out
            }
        };
        output.write_all(&text)
    }

    /// Input row numbers of the records (they count the rows skipped as bad, too).
    pub(super) fn row_numbers(&self, chunk: &Chunk, parsed: &Parsed) -> Vec<u64> {
        let mut skipped = parsed.rejected.iter().peekable();
        let mut row = chunk.first_row;
        parsed
            .records
            .iter()
            .map(|r| {
                while skipped.next_if(|s| s.span.start < r.start).is_some() {
                    row += 1;
                }
                row += 1;
                row - 1
            })
            .collect()
    }

    /// The frame user expressions run on: the input columns they read, then `extra`.
    pub(super) fn expr_frame(
        &self,
        chunk: &Chunk,
        parsed: &Parsed,
        extra: &[Series],
    ) -> Result<DataFrame> {
        let fail = |e: PolarsError| self.chunk_err(chunk, e.to_string());
        let height = parsed.records.len();
        let mut columns: Vec<Column> = Vec::new();
        if self.expr_input.needs_text {
            let mut bytes = Vec::with_capacity(chunk.bytes.len());
            for r in &parsed.records {
                bytes.extend_from_slice(r.of(&chunk.bytes));
                bytes.push(b'\n');
            }
            let df = self.records_frame(&bytes, height)?;
            for (name, _, _) in &self.expr_input.columns {
                columns.push(df.column(name).map_err(fail)?.clone());
            }
        } else {
            for (name, index, integer) in &self.expr_input.columns {
                let slot = self
                    .parser
                    .selected()
                    .iter()
                    .position(|i| i == index)
                    .expect("parsed");
                let c = &parsed.columns[slot];
                let exact = |v: Option<f64>| {
                    v.is_none_or(|x| x.fract() == 0.0 && x.abs() <= 9.007_199_254_740_992e15)
                };
                let column = if *integer && c.iter().all(exact) {
                    c.cast(&DataType::Int64).map_err(fail)?
                } else {
                    c.clone().into_series()
                };
                columns.push(column.with_name(name.as_str().into()).into_column());
            }
        }
        columns.extend(extra.iter().map(|s| s.clone().into_column()));
        DataFrame::new(height, columns).map_err(fail)
    }

    /// `df` with a first column `row_index` in unordered mode.
    pub(super) fn indexed(
        &self,
        df: DataFrame,
        rows: impl IntoIterator<Item = u64>,
    ) -> PolarsResult<DataFrame> {
        if self.row_index {
            crate::format::with_row_index(df, rows)
        } else {
            Ok(df)
        }
    }

    /// Whole records (one per line) as a typed DataFrame of every input column.
    pub(super) fn records_frame(&self, bytes: &[u8], rows: usize) -> Result<DataFrame> {
        parse::frame_of_records(bytes, rows, self.schema.clone(), &self.dialect).map_err(|e| {
            Error::Internal(format!("reading records for {:?} output: {e}", self.format))
        })
    }
}

/// Fields joined by the delimiter, ending with a line feed.
pub(super) fn line(fields: &[Vec<u8>], delimiter: u8) -> Vec<u8> {
    let mut out = fields.join(&[delimiter][..]);
    out.push(b'\n');
    out
}
