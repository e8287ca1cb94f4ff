//! Parsing: infers which input columns are numeric from the first rows, then turns each
//! chunk into polars columns (only those the functions read, as Float64), in the worker.

use std::io::Cursor;
use std::sync::Arc;

use polars::prelude::*;

use crate::dialect::Dialect;

/// What polars' inference found a column to hold in the first rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// What each input column holds, judged by polars' inference on the first rows.
/// With no data rows at all every column counts as numeric (there is nothing to compute).
pub fn infer(sample: &[u8], width: usize, dialect: &Dialect) -> PolarsResult<Vec<Inferred>> {
    if sample.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(vec![Inferred::Float; width]);
    }
    let df = base_options(dialect)
        .with_infer_schema_length(None)
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
/// Integer columns are parsed as Int64 (polars' fastest path) and widened to Float64; a
/// chunk where such a column holds a non-integer number is parsed again all as Float64.
pub struct Parser {
    typed: CsvReadOptions,
    wide: Option<CsvReadOptions>,
    /// Input column indices to parse, in the order the caller wants them back.
    selected: Vec<usize>,
    /// Position of each selected column within polars' output (file order).
    order: Vec<usize>,
    names: Vec<String>,
}

impl Parser {
    pub fn new(
        names: &[String],
        kinds: &[Inferred],
        selected: &[usize],
        dialect: &Dialect,
    ) -> Parser {
        let schema = |integers: bool| -> SchemaRef {
            let fields = names.iter().enumerate().map(|(i, n)| {
                let dtype = match (selected.contains(&i), kinds.get(i)) {
                    (false, _) => DataType::String,
                    (true, Some(Inferred::Integer)) if integers => DataType::Int64,
                    (true, _) => DataType::Float64,
                };
                Field::new(n.as_str().into(), dtype)
            });
            Arc::new(fields.collect())
        };
        let mut projection = selected.to_vec();
        projection.sort_unstable();
        projection.dedup();
        let order = selected
            .iter()
            .map(|i| projection.binary_search(i).expect("projected"))
            .collect();
        let options = |schema| {
            base_options(dialect)
                .with_schema(Some(schema))
                .with_projection(Some(Arc::new(projection.clone())))
        };
        let any_integer = selected
            .iter()
            .any(|&i| kinds.get(i) == Some(&Inferred::Integer));
        Parser {
            typed: options(schema(true)),
            wide: any_integer.then(|| options(schema(false))),
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
        let read = |options: &CsvReadOptions| {
            options
                .clone()
                .into_reader_with_file_handle(Cursor::new(bytes))
                .finish()
        };
        let df = match (read(&self.typed), &self.wide) {
            (Ok(df), _) => df,
            (Err(_), Some(wide)) => read(wide)?,
            (Err(e), None) => return Err(e),
        };
        if df.height() != rows {
            polars_bail!(ComputeError: "parsed {} rows where the chunk holds {rows} records", df.height());
        }
        self.order
            .iter()
            .map(|&i| Ok(df.columns()[i].cast(&DataType::Float64)?.f64()?.clone()))
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
