//! What the input's columns hold, judged on the first rows by dfpar's own number rule; and
//! whole records as typed frames (for Parquet, JSON and expressions), numbers read the same way.

use std::io::Cursor;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::parse::{self, Holds};
use crate::records;

/// What a column holds in the input's first rows.
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

/// What each input column holds, judged on `sample` (whole records) by the parser's own
/// number rule, so that detection and parsing never disagree: a column is numeric when
/// every non-null field is a number, integer when every one is a whole number. A column
/// of only nulls is text; with no data rows at all every column counts as numeric.
pub fn infer(sample: &[u8], width: usize, dialect: &Dialect) -> Vec<Inferred> {
    let mut seen = vec![Holds::Null; width];
    let mut records = 0;
    let fold = |a: Holds, b: Holds| match (a, b) {
        (x, Holds::Null) | (Holds::Null, x) => x,
        (Holds::Text, _) | (_, Holds::Text) => Holds::Text,
        (Holds::Integer, Holds::Integer) => Holds::Integer,
        _ => Holds::Number,
    };
    let _ = records::scan(
        sample,
        dialect.delimiter,
        dialect.quote,
        |i, raw, _| {
            if let Some(s) = seen.get_mut(i) {
                *s = fold(*s, parse::holds(raw, dialect));
            }
            Ok::<(), ()>(())
        },
        |_| {
            records += 1;
            Ok(())
        },
    );
    seen.into_iter()
        .map(|h| match h {
            _ if records == 0 => Inferred::Float,
            Holds::Integer => Inferred::Integer,
            Holds::Number => Inferred::Float,
            Holds::Null | Holds::Text => Inferred::Text,
        })
        .collect()
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

/// Whole records, one per line, as a frame of every column of `schema`: polars reads the
/// fields as text, and the numeric columns are then read by the parser's own number rule.
pub fn frame_of_records(
    bytes: &[u8],
    rows: usize,
    schema: SchemaRef,
    dialect: &Dialect,
) -> PolarsResult<DataFrame> {
    if rows == 0 {
        return Ok(DataFrame::empty_with_schema(&schema));
    }
    let text: Schema = schema
        .iter()
        .map(|(name, _)| Field::new(name.clone(), DataType::String))
        .collect();
    let df = polars_options(dialect)
        .with_schema(Some(Arc::new(text)))
        .with_n_threads(Some(1))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()?;
    if df.height() != rows {
        polars_bail!(ComputeError: "polars read {} rows where there are {rows}", df.height());
    }
    let columns = df
        .columns()
        .iter()
        .zip(schema.iter())
        .map(|(c, (_, dtype))| typed(c, dtype, dialect))
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(rows, columns)
}

/// A text column as `dtype`: numbers by the parser's rule (a field that is none fails).
fn typed(c: &Column, dtype: &DataType, dialect: &Dialect) -> PolarsResult<Column> {
    if !dtype.is_primitive_numeric() {
        return Ok(c.clone());
    }
    let values = c
        .str()?
        .iter()
        .map(|v| match v.map(|t| parse::number(t.as_bytes(), dialect)) {
            None => Ok(None),
            Some(Some(n)) => Ok(n),
            Some(None) => polars_bail!(ComputeError: "column '{}': '{}' is not a number", c.name(), v.unwrap_or_default()),
        })
        .collect::<PolarsResult<Vec<Option<f64>>>>()?;
    Float64Chunked::from_iter_options(c.name().clone(), values.into_iter())
        .into_column()
        .cast(dtype)
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
