//! `--by frame --where EXPRESSION`: keeps the records for which a SQL expression is true,
//! chunk by chunk, unchanged and in input order (ordered mode).

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::pipeline::Job;
use crate::read::Chunk;

use super::context::Context;
use super::row::Rows;

pub(super) struct FilterJob {
    pub(super) ctx: Context,
    pub(super) filter: Expr,
}

impl Job for FilterJob {
    type Part = Rows;

    fn process(&self, chunk: &Chunk) -> Result<Rows> {
        let parsed = self.ctx.read(chunk)?;
        let df = self.ctx.expr_frame(chunk, &parsed, &[])?;
        let keep = crate::expr::mask(&df, &self.filter)
            .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
        let rows = self.ctx.row_numbers(chunk, &parsed);
        let kept: Vec<(u64, &[u8])> = parsed
            .records
            .iter()
            .zip(rows)
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|((r, row), _)| (row, r.of(&chunk.bytes)))
            .collect();
        if self.ctx.format.is_text() {
            let d = &self.ctx.out;
            let mut out = Vec::new();
            let mut index = itoa::Buffer::new();
            for (row, record) in kept {
                if self.ctx.row_index {
                    out.extend_from_slice(index.format(row).as_bytes());
                    out.push(d.delimiter);
                }
                crate::encode::push_record(&mut out, record, &self.ctx.dialect, d);
                out.push(b'\n');
            }
            return Ok(Rows::Text(out));
        }
        let mut bytes = Vec::new();
        for (_, record) in &kept {
            bytes.extend_from_slice(record);
            bytes.push(b'\n');
        }
        let df = self.ctx.records_frame(&bytes, kept.len())?;
        let df = self
            .ctx
            .indexed(df, kept.iter().map(|(row, _)| *row))
            .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
        Ok(Rows::Frame(df))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}
