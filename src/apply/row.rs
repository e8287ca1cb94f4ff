//! `--by row`: the chain of row functions, then the expressions, run over each chunk's parsed
//! columns; the batch carries the input records unchanged and the new columns.

use std::borrow::Cow;

use polars::prelude::*;

use super::stream::BatchJob;
use super::Env;
use crate::error::Result;
use crate::expr::{self, NamedExpr};
use crate::functions::Function;
use crate::parse::Parsed;
use crate::read::Chunk;
use crate::sink::{Batch, Layout, Records};

pub(super) struct RowJob<'a> {
    env: &'a Env<'a>,
    /// `--expr`s, evaluated after the builtins.
    exprs: &'a [NamedExpr],
}

impl<'a> RowJob<'a> {
    pub(super) fn new(env: &'a Env<'a>, exprs: &'a [NamedExpr]) -> RowJob<'a> {
        RowJob { env, exprs }
    }

    /// Runs the chain on the parsed columns of `height` rows; returns the new columns.
    fn run_chain(&self, height: usize, columns: &[Float64Chunked]) -> PolarsResult<Vec<Series>> {
        let mut slots: Vec<Series> = columns.iter().map(|c| c.clone().into_series()).collect();
        let mut outputs = Vec::new();
        for step in &self.env.plan.steps {
            let Function::Row(kernel) = &step.function else {
                polars_bail!(InvalidOperation: "{} is not a row function", step.builtin.name);
            };
            let inputs = step
                .inputs
                .iter()
                .zip(&step.input_names)
                .map(|(&s, name)| {
                    Ok(slots[s]
                        .cast(&DataType::Float64)?
                        .f64()?
                        .clone()
                        .with_name(name.into()))
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            for (out, name) in kernel(&inputs)?.into_iter().zip(&step.outputs) {
                let out = out.with_name(name.into());
                if out.len() != height {
                    polars_bail!(ShapeMismatch: "{} returned {} values for {height} rows", step.builtin.name, out.len());
                }
                slots.push(out.clone());
                outputs.push(out);
            }
        }
        Ok(outputs)
    }
}

impl BatchJob for RowJob<'_> {
    fn layout(&self) -> Layout {
        self.env.layout(self.env.req.dialect.has_header)
    }

    fn batch<'c>(&self, chunk: &'c Chunk, parsed: Parsed) -> Result<Batch<'c>> {
        let reader = self.env.reader;
        let height = parsed.records.len();
        let mut columns = self
            .run_chain(height, &parsed.columns)
            .map_err(|e| reader.chunk_err(chunk, e))?;
        if !self.exprs.is_empty() {
            let df = reader.expr_frame(self.env.plan, chunk, &parsed, &columns)?;
            let results =
                expr::evaluate(&df, self.exprs).map_err(|e| reader.chunk_err(chunk, e))?;
            columns.extend(results.into_iter().map(|c| c.take_materialized_series()));
        }
        let rows = reader.rows(chunk, &parsed);
        let records = (!self.env.req.only_results).then(|| Records {
            header: Cow::Owned(self.env.header.to_vec()),
            bytes: Cow::Borrowed(&chunk.bytes[..]),
            spans: parsed.records,
        });
        Ok(Batch {
            height,
            rows,
            records,
            columns,
        })
    }
}
