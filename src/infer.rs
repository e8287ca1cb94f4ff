//! polars' CSV reader, in its two uses: inferring which input columns are numeric from the
//! first rows, and parsing whole records into typed frames for Parquet, JSON and expressions.

use std::io::Cursor;

use polars::prelude::*;

use crate::dialect::Dialect;

/// What polars' inference found a column to hold in the first rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Inferred {
    Integer,
    Float,
    Text,
}

impl Inferred {
    pub fn is_numeric(self) -> bool {
        self != Inferred::Text
    }
}

/// What each input column holds, judged by polars' inference on `sample` (whole records).
/// With no data rows at all every column counts as numeric (there is nothing to compute).
pub fn infer(sample: &[u8], width: usize, dialect: &Dialect) -> PolarsResult<Vec<Inferred>> {
    if sample.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(vec![Inferred::Float; width]);
    }
    let df = polars_options(dialect)
        .with_infer_schema_length(None)
        .map_parse_options(|p| p.with_encoding(CsvEncoding::LossyUtf8))
        .into_reader_with_file_handle(Cursor::new(sample))
        .finish()?;
    Ok(df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            d if d.is_integer() => Inferred::Integer,
            d if d.is_primitive_numeric() => Inferred::Float,
            _ => Inferred::Text,
        })
        .chain(std::iter::repeat(Inferred::Text))
        .take(width)
        .collect())
}

/// The input's columns as polars types: integers as Int64, other numbers as Float64,
/// the rest as String (for the Parquet and JSON writers).
pub fn schema_of(names: &[String], kinds: &[Inferred]) -> Schema {
    names
        .iter()
        .zip(kinds)
        .map(|(n, k)| {
            let dtype = match k {
                Inferred::Integer => DataType::Int64,
                Inferred::Float => DataType::Float64,
                Inferred::Text => DataType::String,
            };
            Field::new(n.as_str().into(), dtype)
        })
        .collect()
}

/// Whole records, one per line, parsed by polars into every column of `schema`.
pub fn frame_of_records(
    bytes: &[u8],
    rows: usize,
    schema: SchemaRef,
    dialect: &Dialect,
) -> PolarsResult<DataFrame> {
    if rows == 0 {
        return Ok(DataFrame::empty_with_schema(&schema));
    }
    let df = polars_options(dialect)
        .with_schema(Some(schema))
        .with_n_threads(Some(1))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()?;
    if df.height() != rows {
        polars_bail!(ComputeError: "polars read {} rows where there are {rows}", df.height());
    }
    Ok(df)
}

/// polars' CSV reader for headerless records in `dialect` (delimiter, quote, nulls).
fn polars_options(dialect: &Dialect) -> CsvReadOptions {
    let nulls = (!dialect.null_values.is_empty()).then(|| {
        NullValues::AllColumns(
            dialect
                .null_values
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
        )
    });
    CsvReadOptions::default()
        .with_has_header(false)
        .map_parse_options(|p| {
            p.with_separator(dialect.delimiter)
                .with_quote_char(Some(dialect.quote))
                .with_null_values(nulls.clone())
        })
}
