//! `--py FILE.py:FUNCTION`: the user's Python function over each chunk, in one of the
//! `--jobs` long-lived Python workers; its result columns are appended to the records,
//! or (`--by frame`, a result of another height) are the output table.

use std::borrow::Cow;
use std::sync::Mutex;

use super::stream::BatchJob;
use super::Env;
use crate::error::{Error, Result};
use crate::infer::Inferred;
use crate::parse::{Parsed, Rows};
use crate::python::protocol::{Column, Failure, Table};
use crate::python::{Answer, Pool, Spec};
use crate::read::Chunk;
use crate::sink::{Batch, Layout, Records};

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

    /// The chunk's selected columns as the worker takes them: integer columns as integers.
    fn columns(&self, parsed: &Parsed) -> Vec<Column> {
        let plan = self.env.plan;
        parsed
            .columns
            .iter()
            .zip(&plan.parsed)
            .map(|(c, &i)| Column::of(c, plan.kinds[i] == Inferred::Integer))
            .collect()
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
        let columns = self.columns(&parsed);
        let answer = self
            .pool
            .with(|w| w.call(rows, &columns))
            .map_err(|gone| self.env.reader.chunk_err(chunk, gone))?;
        let table: Table = match answer {
            Answer::Raised(f) => return Err(self.raised(chunk, &parsed, f)),
            Answer::Result(t) => t,
        };
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
