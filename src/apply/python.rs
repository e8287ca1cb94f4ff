//! `--py FILE.py:FUNCTION`: the user's Python function over each chunk, in one of the
//! `--jobs` long-lived Python workers; its result columns are appended to the records,
//! or (`--by frame`, a result of another height) are the output table.

use std::borrow::Cow;
use std::sync::Mutex;

use polars::prelude::*;

use super::stream::BatchJob;
use super::Env;
use crate::error::{Error, Result};
use crate::infer::Inferred;
use crate::parse::{Parsed, Rows};
use crate::python::protocol::{Column, Failure, Table};
use crate::python::{Answer, Pool, Spec};
use crate::read::Chunk;
use crate::sink::{Batch, Layout, Records};

/// The most rows a row function's worker gets at once (its memory stays small); a frame
/// function gets the whole chunk (pandas pays a fixed cost per call).
const ROW_BATCH: usize = 1 << 16;

pub(super) struct PythonJob<'a> {
    env: &'a Env<'a>,
    spec: &'a Spec,
    pool: Pool,
    /// Frame mode: whether the first result was a table of its own; every chunk's must be
    /// of the same kind, or the output would mix two layouts.
    replace: Mutex<Option<bool>>,
}

impl<'a> PythonJob<'a> {
    /// Starts the workers; an import error or a wrong signature is reported here.
    pub(super) fn start(env: &'a Env<'a>, spec: &'a Spec) -> Result<PythonJob<'a>> {
        let pool = Pool::start(spec, &env.plan.parsed_names, env.req.settings.jobs)?;
        Ok(PythonJob {
            env,
            spec,
            pool,
            replace: Mutex::new(None),
        })
    }

    /// Calls the function on rows `[offset, offset + len)` of the chunk's columns.
    fn call(&self, chunk: &Chunk, parsed: &Parsed, offset: usize, len: usize) -> Result<Table> {
        let plan = self.env.plan;
        let slices: Vec<Float64Chunked> = parsed
            .columns
            .iter()
            .map(|c| c.slice(offset as i64, len))
            .collect();
        let columns: Vec<Column> = slices
            .iter()
            .zip(&plan.parsed)
            .map(|(c, &i)| Column::new(c, plan.kinds[i] == Inferred::Integer))
            .collect();
        let answer = self
            .pool
            .with(|w| w.call(len, &columns))
            .map_err(|gone| self.env.reader.chunk_err(chunk, gone))?;
        match answer {
            Answer::Result(t) => Ok(t),
            Answer::Raised(mut f) => {
                f.row = f.row.map(|r| r + offset);
                Err(self.raised(chunk, parsed, f))
            }
        }
    }

    /// The function over the whole chunk, in batches of at most `ROW_BATCH` rows in row
    /// mode, the results put together.
    fn call_all(&self, chunk: &Chunk, parsed: &Parsed) -> Result<Table> {
        let rows = parsed.records.len();
        let batch = if self.spec.frame {
            rows.max(1)
        } else {
            ROW_BATCH
        };
        let mut whole: Option<Table> = None;
        for offset in (0..rows.max(1)).step_by(batch) {
            let part = self.call(chunk, parsed, offset, batch.min(rows - offset))?;
            whole = Some(match whole {
                None => part,
                Some(mut t) => {
                    let fail = |e: PolarsError| self.env.reader.chunk_err(chunk, e);
                    if t.columns.len() != part.columns.len() || t.replace != part.replace {
                        return Err(self.env.reader.chunk_err(
                            chunk,
                            format!("{} returned other columns for other rows", self.spec.name()),
                        ));
                    }
                    for (a, b) in t.columns.iter_mut().zip(&part.columns) {
                        append(a, b).map_err(fail)?;
                    }
                    t.height += part.height;
                    t
                }
            });
        }
        Ok(whole.expect("at least one batch"))
    }

    /// The function raised: the record's line (row mode) or the chunk's lines, the message
    /// and the traceback's last frames.
    fn raised(&self, chunk: &Chunk, parsed: &Parsed, f: Failure) -> Error {
        let what = format!(
            "{} raised {}\n{}",
            self.spec.name(),
            f.message,
            f.traceback.trim_end()
        );
        let reader = self.env.reader;
        match f.row.filter(|_| !self.spec.frame) {
            Some(row) if row < parsed.records.len() => reader.record_err(chunk, parsed, row, what),
            _ => reader.chunk_err(chunk, what),
        }
    }

    /// Frame mode: checks that this result is of the kind of the first one.
    fn same_kind(&self, chunk: &Chunk, replace: bool) -> Result<()> {
        let mut first = self.replace.lock().expect("the first result's kind");
        match *first.get_or_insert(replace) == replace {
            true => Ok(()),
            false => Err(self.env.reader.chunk_err(
                chunk,
                format!(
                    "{} returned {} for this chunk but {} for another: return the same kind for every chunk",
                    self.spec.name(),
                    kind(replace),
                    kind(!replace)
                ),
            )),
        }
    }
}

/// `b` after `a`, both as their common type where they differ: ints and floats as floats,
/// a column of nulls as the other's type, any other mix as text.
fn append(a: &mut Series, b: &Series) -> PolarsResult<()> {
    if a.dtype() == b.dtype() {
        a.append(b)?;
        return Ok(());
    }
    let common = match (a.dtype(), b.dtype()) {
        (DataType::Null, t) | (t, DataType::Null) => t.clone(),
        (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
            DataType::Float64
        }
        _ => DataType::String,
    };
    *a = a.cast(&common)?;
    a.append(&b.cast(&common)?)?;
    Ok(())
}

fn kind(replace: bool) -> &'static str {
    match replace {
        true => "a table of another height",
        false => "columns of the chunk's height",
    }
}

impl BatchJob for PythonJob<'_> {
    fn layout(&self) -> Layout {
        self.env.layout(self.env.req.dialect.has_header)
    }

    fn batch<'c>(&self, chunk: &'c Chunk, parsed: Parsed) -> Result<Batch<'c>> {
        let rows = parsed.records.len();
        let table = self.call_all(chunk, &parsed)?;
        if self.spec.frame {
            self.same_kind(chunk, table.replace)?;
        }
        if table.replace {
            return Ok(Batch {
                height: table.height,
                rows: Rows::From(chunk.first_row),
                records: None,
                columns: table.columns,
            });
        }
        if table.height != rows {
            let message = format!(
                "{} returned {} rows for {rows}",
                self.spec.name(),
                table.height
            );
            return Err(self.env.reader.chunk_err(chunk, message));
        }
        let row_numbers = self.env.reader.rows(chunk, &parsed);
        let records = (!self.env.req.only_results).then(|| Records {
            header: Cow::Owned(self.env.header.to_vec()),
            bytes: Cow::Borrowed(&chunk.bytes[..]),
            spans: parsed.records,
        });
        Ok(Batch {
            height: rows,
            rows: row_numbers,
            records,
            columns: table.columns,
        })
    }
}
