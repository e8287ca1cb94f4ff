//! Parsing: infers which input columns are numeric from the first rows, then turns each
//! chunk into polars columns (only those the functions read, as Float64), in the worker.

use std::io::Cursor;
use std::sync::Arc;

use polars::prelude::*;

use crate::dialect::Dialect;

/// Which input columns hold numbers, judged by polars' inference on the first rows.
/// With no data rows at all every column counts as numeric (there is nothing to compute).
pub fn infer_numeric(sample: &[u8], width: usize, dialect: &Dialect) -> PolarsResult<Vec<bool>> {
    if sample.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(vec![true; width]);
    }
    let df = base_options(dialect)
        .with_infer_schema_length(Some(1000))
        .with_n_rows(Some(1000))
        .into_reader_with_file_handle(Cursor::new(sample))
        .finish()?;
    Ok(df
        .columns()
        .iter()
        .map(|c| c.dtype().is_primitive_numeric())
        .chain(std::iter::repeat(false))
        .take(width)
        .collect())
}

fn base_options(dialect: &Dialect) -> CsvReadOptions {
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
        .with_n_threads(Some(1))
        .with_rechunk(false)
        .map_parse_options(|p| {
            p.with_separator(dialect.delimiter)
                .with_quote_char(Some(dialect.quote))
                .with_null_values(nulls.clone())
                .with_encoding(CsvEncoding::LossyUtf8)
        })
}

/// Parses chunks of whole records into the selected columns, with the schema fixed once.
pub struct Parser {
    options: CsvReadOptions,
    /// Input column indices to parse, in the order the caller wants them back.
    selected: Vec<usize>,
    /// Position of each selected column within polars' output (file order).
    order: Vec<usize>,
    names: Vec<String>,
}

impl Parser {
    pub fn new(names: &[String], selected: &[usize], dialect: &Dialect) -> Parser {
        let schema: Schema = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let dtype = if selected.contains(&i) {
                    DataType::Float64
                } else {
                    DataType::String
                };
                Field::new(n.as_str().into(), dtype)
            })
            .collect();
        let mut projection = selected.to_vec();
        projection.sort_unstable();
        projection.dedup();
        let order = selected
            .iter()
            .map(|i| projection.binary_search(i).expect("projected"))
            .collect();
        let options = base_options(dialect)
            .with_schema(Some(Arc::new(schema)))
            .with_projection(Some(Arc::new(projection)));
        Parser {
            options,
            selected: selected.to_vec(),
            order,
            names: names.to_vec(),
        }
    }

    /// The selected columns of a chunk, in the order they were selected.
    pub fn parse(&self, bytes: &[u8], rows: usize) -> PolarsResult<Vec<Float64Chunked>> {
        if self.selected.is_empty() || rows == 0 {
            return Ok(self
                .selected
                .iter()
                .map(|_| Float64Chunked::full_null("".into(), rows))
                .collect());
        }
        let df = self
            .options
            .clone()
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()?;
        if df.height() != rows {
            polars_bail!(ComputeError: "parsed {} rows where the chunk holds {rows} records", df.height());
        }
        self.order
            .iter()
            .map(|&i| Ok(df.columns()[i].f64()?.clone()))
            .collect()
    }

    pub fn selected(&self) -> &[usize] {
        &self.selected
    }

    /// The name of input column `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }
}

/// Finds the first field of the selected columns that is neither a number nor null, for a
/// precise message after a parse error: `(line offset in chunk, column index, text)`.
pub fn find_bad_number(
    bytes: &[u8],
    selected: &[usize],
    dialect: &Dialect,
) -> Option<(u64, usize, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).ok()? {
        for &c in selected {
            let field = record.get(c).unwrap_or_default();
            let ok = dialect.is_null(field)
                || std::str::from_utf8(field).is_ok_and(|s| s.parse::<f64>().is_ok());
            if !ok {
                let line = record.position().map_or(1, |p| p.line()) - 1;
                return Some((line, c, String::from_utf8_lossy(field).into_owned()));
            }
        }
    }
    None
}
