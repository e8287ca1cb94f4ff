//! `--by frame --fn NAME`: the frame function's partial state per chunk, merged (in input
//! order in ordered mode) and finished into its table.

use polars::prelude::Float64Chunked;

use super::reduce::ReduceJob;
use super::Env;
use crate::error::{Error, Result};
use crate::functions::frame::{AnyFrameFunction, Partition, State, Table};
use crate::functions::Function;
use crate::parse::{Parsed, Rows};
use crate::read::Chunk;
use crate::sink::{Batch, Layout};

pub(super) struct FrameJob<'a> {
    env: &'a Env<'a>,
    function: &'a dyn AnyFrameFunction,
}

impl<'a> FrameJob<'a> {
    pub(super) fn new(env: &'a Env<'a>) -> Result<FrameJob<'a>> {
        match env.plan.steps.first().map(|s| &s.function) {
            Some(Function::Frame(function)) => Ok(FrameJob {
                env,
                function: function.as_ref(),
            }),
            _ => Err(Error::Internal(
                "a frame plan holds one frame function".into(),
            )),
        }
    }
}

impl ReduceJob for FrameJob<'_> {
    type State = State;

    fn partial(&self, chunk: &Chunk, parsed: Parsed) -> Result<State> {
        Ok(self.function.partial(&Partition {
            columns: &parsed.columns,
            bytes: &chunk.bytes,
            spans: &parsed.records,
            rows: &self.env.reader.rows(chunk, &parsed),
            source: chunk.source,
            offset: chunk.offset,
        }))
    }

    fn merge(&self, a: State, b: State) -> Result<State> {
        Ok(self.function.merge(a, b))
    }

    fn save(&self, state: State) -> serde_json::Value {
        self.function.save(state)
    }

    fn load(&self, saved: serde_json::Value, rows: u64) -> Result<State> {
        self.function
            .load(saved, rows)
            .map_err(|e| super::column::saved_err(&e))
    }

    fn finish(&self, state: Option<State>) -> Result<(Batch<'static>, Layout)> {
        let plan = self.env.plan;
        let state = state.unwrap_or_else(|| {
            let columns: Vec<_> = plan
                .parsed
                .iter()
                .map(|_| Float64Chunked::from_vec("".into(), Vec::new()))
                .collect();
            self.function.partial(&Partition {
                columns: &columns,
                bytes: &[],
                spans: &[],
                rows: &Rows::From(0),
                source: 0,
                offset: 0,
            })
        });
        let table = self
            .function
            .finish(state, &plan.parsed_names, plan.names.len())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let row_index = !self.env.req.settings.ordered();
        Ok(match table {
            Table::Frame(df) => (
                Batch::table(df),
                Layout {
                    row_index,
                    header: true,
                },
            ),
            Table::Records(rows) => {
                let header = self.env.req.dialect.has_header;
                (
                    Batch::kept_records(self.env.header, rows),
                    Layout { row_index, header },
                )
            }
        })
    }
}
