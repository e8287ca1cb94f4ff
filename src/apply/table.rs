//! `--by column` and `--by frame`: jobs whose partial states are merged across chunks
//! and finished into one table.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::functions::column::Moments;
use crate::functions::frame::{FrameFn, FrameState, Partition};
use crate::functions::Function;
use crate::pipeline::Job;
use crate::plan::Plan;
use crate::read::Chunk;

use super::context::Context;

/// `--by column`: the mergeable state of every selected column.
pub(super) struct ColumnJob {
    pub(super) ctx: Context,
    /// Column expressions need whole columns: hand the parsed columns on too.
    pub(super) keep_columns: bool,
}

impl Job for ColumnJob {
    type Part = (Vec<Moments>, Vec<Float64Chunked>);

    fn process(&self, chunk: &Chunk) -> Result<Self::Part> {
        let parsed = self.ctx.read(chunk)?;
        let moments = parsed.columns.iter().map(Moments::of).collect();
        let columns = if self.keep_columns {
            parsed.columns
        } else {
            Vec::new()
        };
        Ok((moments, columns))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}

/// One row per selected column: its name, then one value per column function.
pub(super) fn column_table(
    plan: &Plan,
    names: &[String],
    total: &[Moments],
) -> PolarsResult<DataFrame> {
    use crate::functions::column::Stat;
    let mut columns = vec![Column::new("column".into(), names)];
    for call in &plan.calls {
        let Function::Column(stat) = &call.function else {
            unreachable!("column plans hold column functions")
        };
        let name = call.builtin.name.into();
        columns.push(match stat {
            Stat::Float(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
            Stat::Count(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
        });
    }
    DataFrame::new(names.len(), columns)
}

/// `--by frame`: the partial state of the frame function over each partition.
pub(super) struct FrameJob {
    pub(super) ctx: Context,
    pub(super) function: FrameFn,
}

impl FrameJob {
    /// The state of an input without rows.
    pub(super) fn empty_state(&self) -> FrameState {
        let columns: Vec<Float64Chunked> = self
            .ctx
            .parser
            .selected()
            .iter()
            .map(|_| Float64Chunked::full_null("".into(), 0))
            .collect();
        self.function.partial(&Partition {
            columns: &columns,
            records: Vec::new(),
            first_row: 0,
        })
    }
}

impl Job for FrameJob {
    type Part = FrameState;

    fn process(&self, chunk: &Chunk) -> Result<FrameState> {
        let parsed = self.ctx.read(chunk)?;
        Ok(self.function.partial(&Partition {
            columns: &parsed.columns,
            records: parsed.records.iter().map(|r| r.of(&chunk.bytes)).collect(),
            first_row: chunk.first_row,
        }))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}
