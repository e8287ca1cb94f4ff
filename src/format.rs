//! Output formats: CSV and TSV written as text by dfpar, Parquet and JSON lines by polars'
//! writers one batch at a time; chosen with `--format` or by the output's extension.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::write::Output;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Tsv,
    Parquet,
    Jsonl,
}

impl Format {
    /// The format asked for, else the one the output's extension names, else CSV.
    pub fn resolve(explicit: Option<Format>, output: Option<&Path>) -> Format {
        let by_extension = || {
            let ext = output?.extension()?.to_str()?.to_ascii_lowercase();
            Some(match ext.as_str() {
                "tsv" | "tab" => Format::Tsv,
                "parquet" | "pq" => Format::Parquet,
                "jsonl" | "ndjson" => Format::Jsonl,
                _ => Format::Csv,
            })
        };
        explicit.or_else(by_extension).unwrap_or(Format::Csv)
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }

    /// CSV and TSV are written by dfpar as text; the others go through polars' writers.
    pub fn is_text(self) -> bool {
        matches!(self, Format::Csv | Format::Tsv)
    }
}

/// Writes DataFrames batch by batch as Parquet or JSON lines.
pub enum FrameWriter<'a> {
    Jsonl(&'a mut Output),
    Parquet {
        out: Option<&'a mut Output>,
        batched: Option<Box<polars::io::parquet::write::BatchedWriter<&'a mut Output>>>,
    },
}

impl<'a> FrameWriter<'a> {
    pub fn new(format: Format, out: &'a mut Output) -> FrameWriter<'a> {
        match format {
            Format::Parquet => FrameWriter::Parquet {
                out: Some(out),
                batched: None,
            },
            _ => FrameWriter::Jsonl(out),
        }
    }

    pub fn write(&mut self, df: &mut DataFrame) -> Result<()> {
        match self {
            FrameWriter::Jsonl(out) => {
                let mut buf = Vec::new();
                JsonWriter::new(&mut buf)
                    .with_json_format(JsonFormat::JsonLines)
                    .finish(df)
                    .map_err(|e| write_err(out, e))?;
                out.write_all(&buf)
            }
            FrameWriter::Parquet { out, batched } => {
                if batched.is_none() {
                    let out = out.take().expect("output until the first batch");
                    let path = out.path().to_path_buf();
                    let w = ParquetWriter::new(out).batched(df.schema()).map_err(|e| {
                        Error::Output {
                            path,
                            source: std::io::Error::other(e.to_string()),
                        }
                    })?;
                    *batched = Some(Box::new(w));
                }
                let w = batched.as_mut().expect("created above");
                w.write_batch(df)
                    .map_err(|e| Error::Internal(format!("writing parquet: {e}")))
            }
        }
    }

    /// Ends the file; `empty` is written first when no batch came (a file with the schema).
    pub fn finish(mut self, empty: impl FnOnce() -> DataFrame) -> Result<()> {
        if let FrameWriter::Parquet { batched: None, .. } = &self {
            self.write(&mut empty())?;
        }
        if let FrameWriter::Parquet {
            batched: Some(w), ..
        } = &self
        {
            w.finish()
                .map_err(|e| Error::Internal(format!("writing parquet: {e}")))?;
        }
        Ok(())
    }
}

fn write_err(out: &Output, e: PolarsError) -> Error {
    Error::Output {
        path: out.path().to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// A first column `row_index` with the given row numbers.
pub fn with_row_index(
    mut df: DataFrame,
    rows: impl IntoIterator<Item = u64>,
) -> PolarsResult<DataFrame> {
    let index: Vec<u64> = rows.into_iter().collect();
    df.insert_column(0, Column::new("row_index".into(), index))?;
    Ok(df)
}
