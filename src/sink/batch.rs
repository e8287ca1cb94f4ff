//! The neutral batch a job hands to an encoder: the rows' input numbers, the input records
//! carried whole (spans into the chunk), and the new columns. No format is known here.

use std::borrow::Cow;

use polars::prelude::*;

use crate::encode::{self, Encoded};
use crate::parse::{self, Rows, Span};

/// Input records carried whole into the output.
pub struct Records<'a> {
    /// Their header line, raw, in the input's dialect (empty when the input has none).
    pub header: Cow<'a, [u8]>,
    pub bytes: Cow<'a, [u8]>,
    /// Where each record lies in `bytes`, without its line ending.
    pub spans: Vec<Span>,
}

/// The rows of one chunk (or of a finished table), as they go to the output.
pub struct Batch<'a> {
    pub height: usize,
    pub rows: Rows,
    /// The input records, unless only new columns are written.
    pub records: Option<Records<'a>>,
    /// New columns, of `height` values each.
    pub columns: Vec<Series>,
}

impl Batch<'_> {
    /// A table of values: one row per row of `df`, numbered from 0.
    pub fn table(df: DataFrame) -> Batch<'static> {
        Batch {
            height: df.height(),
            rows: Rows::From(0),
            records: None,
            columns: df
                .into_columns()
                .into_iter()
                .map(Column::take_materialized_series)
                .collect(),
        }
    }

    /// Input records kept whole, each with its row number.
    pub fn kept_records(header: &[u8], rows: Vec<(u64, Vec<u8>)>) -> Batch<'static> {
        let mut bytes = Vec::new();
        let mut spans = Vec::with_capacity(rows.len());
        for (_, r) in &rows {
            let start = bytes.len() as u32;
            bytes.extend_from_slice(r);
            spans.push(Span {
                start,
                end: bytes.len() as u32,
            });
            bytes.push(b'\n');
        }
        Batch {
            height: rows.len(),
            rows: Rows::List(rows.into_iter().map(|(row, _)| row).collect()),
            records: Some(Records {
                header: Cow::Owned(header.to_vec()),
                bytes: Cow::Owned(bytes),
                spans,
            }),
            columns: Vec::new(),
        }
    }

    /// The text of the `row_index` column, as [`Batch::index`] holds it.
    pub fn index_text(&self, d: &crate::dialect::Dialect) -> PolarsResult<Encoded> {
        match self.rows {
            Rows::From(first) => Ok(encode::consecutive(first, self.height)),
            Rows::List(_) => encode::encode(&self.index(), d),
        }
    }

    /// The `row_index` column (unordered mode): the one place its values are made.
    pub fn index(&self) -> Series {
        let values: Vec<u64> = match &self.rows {
            Rows::From(first) => (*first..*first + self.height as u64).collect(),
            Rows::List(rows) => rows.clone(),
        };
        Series::new("row_index".into(), values)
    }

    /// The records one per line, as polars' CSV reader takes them.
    pub fn lines(&self) -> Vec<u8> {
        match &self.records {
            Some(r) => parse::lines(&r.bytes, &r.spans),
            None => Vec::new(),
        }
    }
}
