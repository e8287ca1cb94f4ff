//! `dfpar apply`'s flags, and the checked request they make: every conflict that the
//! flags alone decide is a usage error here, before any file is opened.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{parse_delimiter, parse_jobs, parse_key_value, parse_size};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::functions::Kind;
use crate::pipeline::{Mode, Settings};
use crate::progress::When;
use crate::read::Source;
use crate::request::{self, BadRows, Request, Types, Work, WorkFlags};
use crate::shard::Shard;

pub const APPLY_HELP: &str = "\
Examples:
  dfpar apply --fn count_range --arg min=4 --arg max=8 data/sample.csv -o out.csv
  dfpar apply --by column --fn mean --fn std --cols c0,c1 data/sample.csv
  dfpar apply --by frame --fn describe -j 1 data/sample.csv
  cat big.csv | dfpar apply --fn sum --mode unordered - | sort -t, -k1,1n

Modes: ordered (alias map) writes results in input order and is byte-identical to --jobs 1;
unordered (alias async) writes each chunk as soon as it is done, with a first column row_index.

Exit codes: 0 success (also on a closed pipe), 1 data or I/O error, 2 usage error.";

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Input CSV files, or - for standard input. Several inputs with the same header are
    /// processed as one stream (or one by one with --output-dir).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// What each function is applied to.
    #[arg(long, value_enum, default_value_t = Kind::Row)]
    pub by: Kind,

    /// A function to apply (repeat to chain; `dfpar list` shows them all).
    #[arg(long = "fn", value_name = "NAME", required_unless_present_any = ["command", "exprs", "filter", "python_function"])]
    pub functions: Vec<String>,

    /// A SQL expression evaluated by polars, as NAME = EXPRESSION (repeat; mixes with
    /// --fn, whose outputs it may read). With --by column, `_` stands for each column:
    /// --by column --expr 'sum_sq = sum(_ * _)'.
    #[arg(long = "expr", value_name = "NAME = EXPRESSION")]
    pub exprs: Vec<String>,

    /// --by frame: keep only the rows for which this SQL expression is true.
    #[arg(long = "where", value_name = "EXPRESSION")]
    pub filter: Option<String>,

    /// Instead of --fn: a shell command run once per chunk (`sh -c`), reading the chunk as
    /// CSV with the header on stdin and writing its result as CSV with a header on stdout.
    #[arg(long = "cmd", value_name = "COMMAND", conflicts_with = "functions")]
    pub command: Option<String>,

    /// Instead of --fn: your Python function, run by --jobs long-lived Python workers.
    /// --by row: f(row, **args) per row (a tuple of the selected values; int, float or
    /// None), returning a value, a tuple or a dict. --by frame: f(df, **args) per chunk (a
    /// pandas DataFrame of the selected columns), returning a DataFrame or Series of the
    /// chunk's height (appended) or of any height (the output). Not --by column: its
    /// results could not be merged across chunks. --arg values are Python literals.
    #[arg(long = "py", value_name = "FILE.py:FUNCTION")]
    pub python_function: Option<String>,

    /// With --py: names of the result columns [default: the function's name, a dict's keys].
    #[arg(long = "as", value_name = "NAMES", value_delimiter = ',')]
    pub names: Option<Vec<String>>,

    /// The Python interpreter of --py (a virtualenv's, for example) [default: $DFPAR_PYTHON,
    /// else python3].
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// A function parameter, e.g. min=4 (or count_range.min=4 to aim at one function).
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    /// Comma-separated columns the functions read [default: every numeric column].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cols: Option<Vec<String>>,

    /// Worker threads; 1 runs every stage serially in the calling thread [default:
    /// $DFPAR_JOBS, else $SLURM_CPUS_PER_TASK, else the usable cores: `dfpar info` says].
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,

    /// Order of the output.
    #[arg(long, value_enum, default_value_t = Mode::Ordered)]
    pub mode: Mode,

    /// Approximate size of the chunks handed to workers (e.g. 4MiB, 512KiB, 65536) [default:
    /// 4MiB; with --fn or --expr by row or column, less for narrow rows of many numbers,
    /// down to 256KiB, so that a chunk's parsed values take about 2 MiB and stay in the caches].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub chunk_size: Option<usize>,

    /// Write to this file (replaced only when the run succeeds) instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format [default: by the output's extension (.csv, .tsv, .parquet, .jsonl), else csv].
    #[arg(long, value_enum)]
    pub format: Option<crate::format::Format>,

    /// Compress the output (CSV or TSV), each chunk in its worker: one gzip member or zstd
    /// frame per chunk [default: by the output's extension, .gz or .zst, else none].
    #[arg(long, value_enum, value_name = "CODEC")]
    pub compress: Option<crate::compress::Codec>,

    /// Write one output per input into this directory, with the input's file name (for
    /// Make pattern rules and make -j); the directory is created if needed.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub output_dir: Option<PathBuf>,

    /// Row mode: write only the new columns, not the input's.
    #[arg(long)]
    pub only_results: bool,

    /// Show a progress bar on stderr.
    #[arg(long, value_enum, default_value_t = When::Auto)]
    pub progress: When,

    /// Field delimiter, one character (`\t` or `tab` for tabs).
    #[arg(short, long, value_name = "C", default_value = ",", value_parser = parse_delimiter)]
    pub delimiter: u8,

    /// The input has no header: columns are named column_1, column_2, ... and the output
    /// of row mode gets no header either.
    #[arg(long)]
    pub no_header: bool,

    /// Numbers have a decimal comma (21,5), as spreadsheets write CSV in much of Europe:
    /// read so, and new float fields written so (needs a delimiter other than the comma).
    #[arg(long)]
    pub decimal_comma: bool,

    /// Comma-separated columns to read as numbers whatever their first rows hold.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub numeric: Vec<String>,

    /// Comma-separated columns to take as text whatever their first rows hold.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub text: Vec<String>,

    /// Comma-separated field texts read as null, besides the empty field (e.g. NA,null).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub null_values: Vec<String>,

    /// What to do with a row whose field count differs from the header's: stop with an
    /// error naming its line, or skip it (counted on stderr, kept in --rejects).
    #[arg(long, value_enum, default_value_t = OnBadRows::Fail)]
    pub on_bad_rows: OnBadRows,

    /// With --on-bad-rows skip: write the skipped rows here as CSV (file, line, reason, record).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Process only shard I of N of the input file (its records that start in the I-th
    /// of N equal byte ranges), into -o PART and its manifest, for `dfpar merge`; `auto`
    /// takes I and N from a Slurm, Kubernetes or AWS Batch array job's environment.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,

    /// With --shard auto where the scheduler does not say how many shards there are
    /// (Kubernetes JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_count: Option<u64>,
}

/// The flags that do not shape a shard's result: left out of its manifest's options
/// (the input is recorded on its own, by its canonical path).
pub const NOT_RECORDED: [&str; 9] = [
    "inputs",
    "jobs",
    "progress",
    "output",
    "output_dir",
    "chunk_size",
    "rejects",
    "shard",
    "shard_count",
];

/// The handling of rows of the wrong width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnBadRows {
    Fail,
    Skip,
}

impl ApplyArgs {
    /// The checked request: every conflict that the flags alone decide is a usage error
    /// here, before any file is opened.
    /// `given`: the options as given (see [`super::given_args`]), kept for a shard's manifest.
    pub fn into_request(self, given: Vec<OsString>) -> Result<Request> {
        let shard = self.shard()?;
        let options = given
            .into_iter()
            .map(|a| a.into_string())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|a| Error::usage(format!("{}: options must be UTF-8", a.to_string_lossy())))?;
        let work = Work::check(WorkFlags {
            kind: self.by,
            functions: self.functions,
            args: self.args,
            exprs: self.exprs,
            filter: self.filter,
            command: self.command,
            only_results: self.only_results,
            python_function: self.python_function,
            names: self.names,
            python: self.python.unwrap_or_else(|| {
                std::env::var_os("DFPAR_PYTHON").map_or("python3".into(), PathBuf::from)
            }),
        })?;
        let bad_rows = match (self.on_bad_rows, self.rejects) {
            (OnBadRows::Skip, rejects) => BadRows::Skip { rejects },
            (OnBadRows::Fail, None) => BadRows::Fail,
            (OnBadRows::Fail, Some(_)) => {
                return Err(Error::usage("--rejects needs --on-bad-rows skip"))
            }
        };
        let inputs = self.inputs.iter().map(|i| Source::from_arg(i)).collect();
        let output = self.output.filter(|p| p.as_os_str() != "-");
        if output.is_some() && self.output_dir.is_some() {
            return Err(Error::usage("give either -o or --output-dir, not both"));
        }
        let dir = self.output_dir.as_deref();
        let runs = request::runs(inputs, output, dir, self.format, self.compress)?;
        Request {
            runs,
            output_dir: self.output_dir,
            work,
            cols: self.cols,
            settings: Settings {
                jobs: match self.jobs {
                    Some(jobs) => jobs,
                    None => crate::jobs::default_jobs()?.jobs,
                },
                mode: self.mode,
            },
            chunk_size: self.chunk_size,
            progress: self.progress,
            dialect: Dialect {
                delimiter: self.delimiter,
                has_header: !self.no_header,
                null_values: self.null_values,
                decimal_comma: self.decimal_comma,
                ..Dialect::default()
            },
            bad_rows,
            only_results: self.only_results,
            shard,
            options,
            types: Types::check(self.numeric, self.text)?,
        }
        .check()
    }

    /// `--shard I/N` or `--shard auto` (with `--shard-count`), from the environment.
    fn shard(&self) -> Result<Option<Shard>> {
        match (self.shard.as_deref(), self.shard_count) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Error::usage("--shard-count goes with --shard auto")),
            (Some("auto"), count) => Shard::from_env(count, |k| std::env::var(k).ok()).map(Some),
            (Some(_), Some(_)) => Err(Error::usage(
                "--shard-count goes with --shard auto (--shard I/N names the count)",
            )),
            (Some(spec), None) => Shard::parse(spec)
                .map(Some)
                .map_err(|e| Error::usage(format!("--shard: {e}"))),
        }
    }
}
