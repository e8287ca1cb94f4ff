//! Output formats: chosen with `--format` or by the output's extension. CSV and TSV are
//! delimited text written by dfpar; the others are typed frames written by polars.

use std::path::Path;

use crate::sink::frames::FrameFile;
use crate::sink::{jsonl, parquet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Tsv,
    Parquet,
    Jsonl,
}

/// How a format is written.
pub enum Family {
    /// Delimited text with this delimiter: input records copied, new fields appended.
    Text { delimiter: Option<u8> },
    /// Typed frames, one per chunk, written by polars.
    Frames(Box<dyn FrameFile>),
}

impl Format {
    /// The format asked for, else the one the output's extension names, else CSV.
    pub fn resolve(explicit: Option<Format>, output: Option<&Path>) -> Format {
        explicit
            .or_else(|| output.and_then(Format::by_extension))
            .unwrap_or(Format::Csv)
    }

    /// The format a file's extension names, if it names one (under a compression's
    /// extension: `out.csv.gz` is CSV).
    pub fn by_extension(path: &Path) -> Option<Format> {
        let path = match crate::compress::Codec::by_extension(path) {
            Some(_) => Path::new(path.file_stem()?),
            None => path,
        };
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "tab" => Some(Format::Tsv),
            "pq" => Some(Format::Parquet),
            "ndjson" => Some(Format::Jsonl),
            other => Format::by_name(other),
        }
    }

    /// The format named by its usual extension (`csv`, `tsv`, `parquet`, `jsonl`).
    pub fn by_name(name: &str) -> Option<Format> {
        [Format::Csv, Format::Tsv, Format::Parquet, Format::Jsonl]
            .into_iter()
            .find(|f| f.extension() == name)
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

    /// How the format is written: text with the input's delimiter (`None`) or another,
    /// or the polars writer of its frames.
    pub fn family(self) -> Family {
        match self {
            Format::Csv => Family::Text { delimiter: None },
            Format::Tsv => Family::Text {
                delimiter: Some(b'\t'),
            },
            Format::Parquet => Family::Frames(Box::<parquet::Parquet>::default()),
            Format::Jsonl => Family::Frames(Box::new(jsonl::Jsonl)),
        }
    }
}
