//! Reading a chunk in a worker: the parser's pass, its failures turned into messages that
//! name the file, line and column, the skipped rows, the rows' input numbers.

use std::sync::Arc;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::infer;
use crate::parse::{self, ParseError, Parsed, Parser};
use crate::plan::Plan;
use crate::read::Chunk;
use crate::records;
use crate::request::BadRows;
use crate::shard::LineBase;
use crate::sink::{rejects, RejectLines, Rows};

/// What every job needs to read a chunk.
pub(super) struct Reader {
    /// The inputs' names, indexed by `Chunk::source`.
    paths: Vec<String>,
    pub(super) dialect: Dialect,
    width: usize,
    parser: Parser,
    /// Write the skipped rows' text (there is a rejects file).
    reject_text: bool,
    /// What the chunks' line numbers count from.
    line_base: Arc<LineBase>,
}

impl Reader {
    /// Reads records of `names`' width, parsing the columns `selected` as numbers.
    pub(super) fn new(
        paths: &[String],
        names: &[String],
        selected: &[usize],
        dialect: &Dialect,
        bad_rows: &BadRows,
        line_base: Arc<LineBase>,
    ) -> Reader {
        let skip = matches!(bad_rows, BadRows::Skip { .. });
        Reader {
            paths: paths.to_vec(),
            dialect: dialect.clone(),
            width: names.len(),
            parser: Parser::new(names, selected, dialect).skipping_bad_rows(skip),
            reject_text: matches!(bad_rows, BadRows::Skip { rejects: Some(_) }),
            line_base,
        }
    }

    /// The input line number of line `line` of the chunks.
    fn line(&self, line: u64) -> u64 {
        line + self.line_base.get()
    }

    pub(super) fn data_err(&self, source: usize, line: Option<u64>, message: String) -> Error {
        Error::Data {
            path: self.paths[source].clone(),
            line,
            message,
        }
    }

    pub(super) fn chunk_err(&self, chunk: &Chunk, message: impl std::fmt::Display) -> Error {
        Error::Function {
            path: self.paths[chunk.source].clone(),
            first_line: self.line(chunk.first_line),
            last_line: self.line(chunk.last_line()),
            message: message.to_string(),
        }
    }

    /// An error at record `i` of a parsed chunk, naming the record's (first) line.
    pub(super) fn record_err(
        &self,
        chunk: &Chunk,
        parsed: &Parsed,
        i: usize,
        message: String,
    ) -> Error {
        let start = parsed.records[i].start as usize;
        let before = memchr::memchr_iter(b'\n', &chunk.bytes[..start]).count() as u64;
        self.data_err(
            chunk.source,
            Some(self.line(chunk.first_line + before)),
            message,
        )
    }

    /// A worker's panic on `chunk`, as that chunk's error.
    pub(super) fn panicked(&self, chunk: &Chunk, message: &str) -> Error {
        self.chunk_err(chunk, format!("a worker panicked: {message}"))
    }

    /// Parses `bytes`, the records of which start at line `first_line`.
    fn parse(&self, bytes: &[u8], source: usize, first_line: u64) -> Result<Parsed> {
        self.parser.parse(bytes).map_err(|e| match e {
            ParseError::Ragged { line, found } => self.data_err(
                source,
                Some(self.line(first_line + line)),
                format!("expected {} fields, found {found}", self.width),
            ),
            ParseError::NotNumber { line, column, text } => self.data_err(
                source,
                Some(self.line(first_line + line)),
                format!(
                    "column '{}': '{text}' {}",
                    self.parser.name(column),
                    parse::why_not_a_number(&text)
                ),
            ),
        })
    }

    /// The records of a chunk and its parsed columns, and the records of the wrong width
    /// when those are skipped.
    pub(super) fn read(&self, chunk: &Chunk) -> Result<(Parsed, RejectLines)> {
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
        let path = &self.paths[chunk.source];
        let lines = rejects::lines(
            path,
            self.line(chunk.first_line),
            &chunk.bytes,
            &parsed.rejected,
            self.width,
            &self.dialect,
            self.reject_text,
        );
        Ok((parsed, lines))
    }

    /// Which input columns are numeric, judged on the first `n` records of the input's
    /// first block (checked; rows of the wrong width left out when they are skipped).
    pub(super) fn infer(
        &self,
        sample: &[u8],
        first_line: u64,
        n: usize,
    ) -> Result<Vec<infer::Inferred>> {
        let d = &self.dialect;
        let sample = &sample[..records::end_of_records(sample, n, d.delimiter, d.quote)];
        let parsed = self.parse(sample, 0, first_line)?;
        Ok(infer::infer(
            &parse::lines(sample, &parsed.records),
            self.width,
            d,
        ))
    }

    /// The input row numbers of the records (they count the rows skipped as bad, too).
    pub(super) fn rows(&self, chunk: &Chunk, parsed: &Parsed) -> Rows {
        if parsed.rejected.is_empty() {
            return Rows::From(chunk.first_row);
        }
        let mut skipped = parsed.rejected.iter().peekable();
        let mut row = chunk.first_row;
        let rows = parsed.records.iter().map(|r| {
            while skipped.next_if(|s| s.span.start < r.start).is_some() {
                row += 1;
            }
            row += 1;
            row - 1
        });
        Rows::List(rows.collect())
    }

    /// The frame user expressions run on: the input columns they read, then `extra`.
    pub(super) fn expr_frame(
        &self,
        plan: &Plan,
        chunk: &Chunk,
        parsed: &Parsed,
        extra: &[Series],
    ) -> Result<DataFrame> {
        let fail = |e: PolarsError| self.chunk_err(chunk, e);
        let height = parsed.records.len();
        let input = &plan.expr_input;
        let mut columns: Vec<Column> = Vec::new();
        if input.needs_text {
            let lines = parse::lines(&chunk.bytes, &parsed.records);
            let df = infer::frame_of_records(&lines, height, plan.schema.clone(), &self.dialect)
                .map_err(fail)?;
            for (name, _, _) in &input.columns {
                columns.push(df.column(name).map_err(fail)?.clone());
            }
        } else {
            for (name, index, integer) in &input.columns {
                let slot = plan.parsed.iter().position(|i| i == index).expect("parsed");
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
}
