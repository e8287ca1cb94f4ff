//! `--by frame --where EXPRESSION`: keeps the records for which a SQL expression is true,
//! chunk by chunk, unchanged and in input order (ordered mode).

use std::borrow::Cow;

use super::stream::BatchJob;
use super::Env;
use crate::error::Result;
use crate::expr;
use crate::parse::Parsed;
use crate::read::Chunk;
use crate::request::Filter;
use crate::sink::{Batch, Layout, Records, Rows};

pub(super) struct FilterJob<'a> {
    env: &'a Env<'a>,
    filter: &'a Filter,
}

impl<'a> FilterJob<'a> {
    pub(super) fn new(env: &'a Env<'a>, filter: &'a Filter) -> FilterJob<'a> {
        FilterJob { env, filter }
    }
}

impl BatchJob for FilterJob<'_> {
    fn layout(&self) -> Layout {
        self.env.layout(self.env.req.dialect.has_header)
    }

    fn batch<'c>(&self, chunk: &'c Chunk, parsed: Parsed) -> Result<Batch<'c>> {
        let reader = self.env.reader;
        let df = reader.expr_frame(self.env.plan, chunk, &parsed, &[])?;
        let keep = expr::mask(&df, &self.filter.expr).map_err(|e| reader.chunk_err(chunk, e))?;
        let rows = reader.rows(chunk, &parsed);
        let (mut spans, mut kept) = (Vec::new(), Vec::new());
        for (i, span) in parsed.records.iter().enumerate().filter(|(i, _)| keep[*i]) {
            spans.push(*span);
            kept.push(rows.get(i));
        }
        Ok(Batch {
            height: spans.len(),
            rows: Rows::List(kept),
            records: Some(Records {
                header: Cow::Owned(self.env.header.to_vec()),
                bytes: Cow::Borrowed(&chunk.bytes[..]),
                spans,
            }),
            columns: Vec::new(),
        })
    }
}
