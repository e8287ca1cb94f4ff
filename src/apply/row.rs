//! `--by row`: each record is copied unchanged, byte for byte, and the new fields are
//! appended to it; the chain of row functions runs over the parsed columns.

use polars::prelude::*;

use crate::encode;
use crate::error::{Error, Result};
use crate::functions::Function;
use crate::parse::Parsed;
use crate::pipeline::Job;
use crate::plan::Plan;
use crate::read::Chunk;

use super::context::{line, Context};

/// `--by row`: each record is copied unchanged and the new fields appended to it.
pub(super) struct RowJob {
    pub(super) ctx: Context,
    pub(super) plan: Plan,
    pub(super) only_results: bool,
    /// `--expr`s, evaluated after the builtins.
    pub(super) exprs: Vec<crate::expr::NamedExpr>,
}

impl RowJob {
    /// `[row_index,]` the input's header `[,new names]`, or only the new names.
    pub(super) fn header(&self, raw: &[u8]) -> Vec<u8> {
        let d = &self.ctx.out;
        let mut fields: Vec<Vec<u8>> = Vec::new();
        if self.ctx.row_index {
            fields.push(b"row_index".to_vec());
        }
        if !self.only_results {
            let mut f = Vec::new();
            encode::push_record(&mut f, raw, &self.ctx.dialect, d);
            fields.push(f);
        }
        let expr_names = self.exprs.iter().map(|e| e.name.as_str());
        for name in self.plan.output_names().into_iter().chain(expr_names) {
            let mut f = Vec::new();
            encode::push_text(&mut f, name.as_bytes(), d);
            fields.push(f);
        }
        line(&fields, d.delimiter)
    }

    /// Runs the chain on the parsed columns of `height` rows; returns the new columns.
    pub(super) fn run_chain(
        &self,
        height: usize,
        columns: Vec<Float64Chunked>,
    ) -> PolarsResult<Vec<Series>> {
        let mut slots: Vec<Series> = columns.into_iter().map(|c| c.into_series()).collect();
        let mut outputs = Vec::new();
        for call in &self.plan.calls {
            let Function::Row(kernel) = &call.function else {
                unreachable!("row plans hold row functions")
            };
            let inputs = call
                .inputs
                .iter()
                .zip(&call.input_names)
                .map(|(&s, name)| {
                    Ok(slots[s]
                        .cast(&DataType::Float64)?
                        .f64()?
                        .clone()
                        .with_name(name.into()))
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            for (out, name) in kernel(&inputs)?.into_iter().zip(&call.outputs) {
                let out = out.with_name(name.into());
                if out.len() != height {
                    polars_bail!(ShapeMismatch: "{} returned {} values for {height} rows", call.builtin.name, out.len());
                }
                slots.push(out.clone());
                outputs.push(out);
            }
        }
        Ok(outputs)
    }
}

/// The rows of one chunk as they go to the writer.
pub(super) enum Rows {
    /// CSV or TSV text: each input record with its new fields.
    Text(Vec<u8>),
    /// For Parquet and JSON lines: every input column, typed, and the new columns.
    Frame(DataFrame),
}

impl RowJob {
    /// The chunk's rows as text: `[row_index,]record[,new fields]` per line.
    fn text(&self, chunk: &Chunk, parsed: &Parsed, outputs: &[Series]) -> PolarsResult<Vec<u8>> {
        let d = &self.ctx.out;
        let encoded = outputs
            .iter()
            .map(|s| encode::encode(s, d))
            .collect::<PolarsResult<Vec<_>>>()?;
        let rows = if self.ctx.row_index {
            self.ctx.row_numbers(chunk, parsed)
        } else {
            Vec::new()
        };
        let mut out =
            Vec::with_capacity(chunk.bytes.len() + parsed.records.len() * (1 + 4 * encoded.len()));
        let mut index = itoa::Buffer::new();
        for (i, r) in parsed.records.iter().enumerate() {
            let mut first = true;
            if let Some(row) = rows.get(i) {
                out.extend_from_slice(index.format(*row).as_bytes());
                first = false;
            }
            if !self.only_results {
                if !first {
                    out.push(d.delimiter);
                }
                encode::push_record(&mut out, r.of(&chunk.bytes), &self.ctx.dialect, d);
                first = false;
            }
            for e in &encoded {
                if !first {
                    out.push(d.delimiter);
                }
                out.extend_from_slice(e.field(i));
                first = false;
            }
            out.push(b'\n');
        }
        Ok(out)
    }

    /// The chunk's rows as a DataFrame: `[row_index,]` input columns `[, new columns]`.
    fn frame(&self, chunk: &Chunk, parsed: &Parsed, outputs: Vec<Series>) -> Result<DataFrame> {
        let internal = |e: PolarsError| self.ctx.chunk_err(chunk, e.to_string());
        let height = parsed.records.len();
        let mut df = if self.only_results {
            DataFrame::new(height, Vec::new()).map_err(internal)?
        } else {
            let mut bytes = Vec::with_capacity(chunk.bytes.len());
            for r in &parsed.records {
                bytes.extend_from_slice(r.of(&chunk.bytes));
                bytes.push(b'\n');
            }
            self.ctx.records_frame(&bytes, height)?
        };
        for s in outputs {
            df.with_column(s.into_column()).map_err(internal)?;
        }
        self.ctx
            .indexed(df, self.ctx.row_numbers(chunk, parsed))
            .map_err(internal)
    }

    /// The frame of an input without rows (so a Parquet file still has its schema).
    pub(super) fn empty_frame(&self) -> DataFrame {
        let chunk = Chunk {
            seq: 0,
            bytes: Vec::new(),
            first_line: 1,
            first_row: 0,
            rows: 0,
            lines: 0,
            source: 0,
        };
        match self.process(&chunk) {
            Ok(Rows::Frame(df)) => df,
            _ => DataFrame::empty(),
        }
    }
}

impl Job for RowJob {
    type Part = Rows;

    fn process(&self, chunk: &Chunk) -> Result<Rows> {
        let parsed = self.ctx.read(chunk)?;
        if parsed.records.is_empty() && self.ctx.format.is_text() {
            return Ok(Rows::Text(Vec::new()));
        }
        let mut outputs = self
            .run_chain(parsed.records.len(), parsed.columns.clone())
            .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
        if !self.exprs.is_empty() {
            let df = self.ctx.expr_frame(chunk, &parsed, &outputs)?;
            let results = crate::expr::evaluate(&df, &self.exprs)
                .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
            outputs.extend(results.into_iter().map(|c| c.take_materialized_series()));
        }
        if self.ctx.format.is_text() {
            let text = self
                .text(chunk, &parsed, &outputs)
                .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
            Ok(Rows::Text(text))
        } else {
            Ok(Rows::Frame(self.frame(chunk, &parsed, outputs)?))
        }
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}
