//! The command line (clap derive): raw flags for `apply`, `bench`, `list`, `gen` and
//! `info`, turned once into the checked options the library takes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::bench::{self, BenchOptions};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::functions::Kind;
use crate::gen::GenOptions;
use crate::pipeline::{Mode, Settings};
use crate::progress::When;
use crate::read::Source;
use crate::request::{self, BadRows, Request, Work, WorkFlags};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of a pipe closes it early, as `dfpar ... | head` does)
  1  data or I/O error: bad input, unreadable file, output that cannot be written
  2  usage error: bad flag, unknown function, column or parameter";

#[derive(Parser, Debug)]
#[command(
    name = "dfpar",
    version,
    about = "Parallel row, column and frame functions over CSV, on every core",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply functions to every row, every column or the whole input, in parallel.
    #[command(after_help = APPLY_HELP)]
    Apply(Box<ApplyArgs>),
    /// Time `apply` at several --jobs and modes: speedups, efficiency, memory, Amdahl fit.
    #[command(after_help = BENCH_HELP)]
    Bench(Box<BenchArgs>),
    /// List the builtin functions with their kind, parameters and description.
    List,
    /// Write a CSV of random integers in [min, max), header c0..cK-1 (deterministic).
    Gen(GenArgs),
    /// Show the available cores, the default --jobs and the version.
    Info,
}

const APPLY_HELP: &str = "\
Examples:
  dfpar apply --fn count_range --arg min=4 --arg max=8 data/sample.csv -o out.csv
  dfpar apply --by column --fn mean --fn std --cols c0,c1 data/sample.csv
  dfpar apply --by frame --fn describe -j 1 data/sample.csv
  cat big.csv | dfpar apply --fn sum --mode unordered - | sort -t, -k1,1n

Modes: ordered (alias map) writes results in input order and is byte-identical to --jobs 1;
unordered (alias async) writes each chunk as soon as it is done, with a first column row_index.

Exit codes: 0 success (also on a closed pipe), 1 data or I/O error, 2 usage error.";

const BENCH_HELP: &str = "\
Each case (job count x mode) runs `dfpar apply` as a child process with --jobs N,
--mode M and POLARS_MAX_THREADS=N, its output written to /dev/null so that no terminal or
disk write is timed: --warmup untimed runs, then --runs timed ones. Reported per case:
median, min and max wall time, rows/s and MB/s of the input, speedup over --jobs 1 of the
same mode (medians), efficiency (speedup / jobs), peak RSS. Amdahl's law,
speedup(n) = 1 / (s + (1 - s) / n), is fitted to the speedups of each mode.

Examples:
  dfpar bench --fn count_range --arg min=4 --arg max=8 big.csv
  dfpar bench --fn sum --jobs-list 1,2,4,8 --modes ordered,unordered --runs 10 \\
      --export-json bench.json --plot speedup.svg big.csv

Exit codes: 0 success, 1 a timed run failed (its message is shown) or I/O error,
2 usage error.";

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
    #[arg(long = "fn", value_name = "NAME", required_unless_present_any = ["command", "exprs", "filter"])]
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

    /// A function parameter, e.g. min=4 (or count_range.min=4 to aim at one function).
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    /// Comma-separated columns the functions read [default: every numeric column].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cols: Option<Vec<String>>,

    /// Worker threads; 1 runs every stage serially in the calling thread [default: cores].
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,

    /// Order of the output.
    #[arg(long, value_enum, default_value_t = Mode::Ordered)]
    pub mode: Mode,

    /// Approximate size of the chunks handed to workers (e.g. 4MiB, 512KiB, 65536).
    #[arg(long, value_name = "BYTES", default_value = "4MiB", value_parser = parse_size)]
    pub chunk_size: usize,

    /// Write to this file (replaced only when the run succeeds) instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format [default: by the output's extension (.csv, .tsv, .parquet, .jsonl), else csv].
    #[arg(long, value_enum)]
    pub format: Option<crate::format::Format>,

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
}

/// The handling of rows of the wrong width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnBadRows {
    Fail,
    Skip,
}

impl ApplyArgs {
    /// The checked request: every conflict that the flags alone decide is a usage error
    /// here, before any file is opened.
    pub fn into_request(self) -> Result<Request> {
        let work = Work::check(WorkFlags {
            kind: self.by,
            functions: self.functions,
            args: self.args,
            exprs: self.exprs,
            filter: self.filter,
            command: self.command,
            only_results: self.only_results,
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
        let runs = request::runs(inputs, output, self.output_dir.as_deref(), self.format)?;
        Request {
            runs,
            output_dir: self.output_dir,
            work,
            cols: self.cols,
            settings: Settings {
                jobs: self.jobs.unwrap_or_else(crate::default_jobs),
                mode: self.mode,
            },
            chunk_size: self.chunk_size,
            progress: self.progress,
            dialect: Dialect {
                delimiter: self.delimiter,
                has_header: !self.no_header,
                null_values: self.null_values,
                ..Dialect::default()
            },
            bad_rows,
            only_results: self.only_results,
        }
        .check()
    }
}

/// `dfpar bench`: the flags of `apply` (flattened, so that bench follows every new one)
/// less those that bench sets per case: `--jobs`, `--mode` and `-o` are hidden and
/// rejected with a pointer to `--jobs-list` and `--modes`; `--progress` drives bench's bar.
#[derive(Args, Debug)]
#[command(
    mut_arg("inputs", |a| a.help("Input CSV files, read once per run (so not -)")),
    mut_arg("jobs", |a| a.hide(true).value_parser(reject_jobs)),
    mut_arg("mode", |a| a.hide(true).default_value(MODE_UNSET).value_parser(reject_mode)),
    mut_arg("output", |a| a.hide(true).value_parser(reject_output)),
    mut_arg("progress", |a| a.help("Show a progress bar over the runs on stderr")),
)]
pub struct BenchArgs {
    #[command(flatten)]
    pub apply: ApplyArgs,

    /// Comma-separated job counts; 1, the baseline of the speedups, is always added
    /// [default: 1, 2, 4, ... up to the cores, and the cores].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_jobs)]
    pub jobs_list: Option<Vec<usize>>,

    /// Comma-separated modes to time (ordered, unordered).
    #[arg(
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        default_value = "ordered"
    )]
    pub modes: Vec<Mode>,

    /// Timed runs per case.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_jobs)]
    pub runs: usize,

    /// Untimed runs per case before the timed ones (page cache, allocator, CPU clocks).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub warmup: usize,

    /// Write the figures as JSON: one record per case, and the Amdahl fit.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,

    /// Write the figures as CSV, one row per case.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,

    /// Write the figures as a Markdown table, and the Amdahl fit.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,

    /// Draw speedup against jobs (measured, ideal, Amdahl fit) as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

/// The apply flags that bench sets per case (or refuses): never forwarded to its child.
const SET_PER_CASE: [&str; 4] = ["jobs", "mode", "output", "progress"];

/// The apply flags given to `dfpar bench`, re-read from its command line as `dfpar apply`
/// takes them: `apply`, `--long=value` for every value given, `--`, the inputs. Any new
/// flag of apply is forwarded without a change here.
pub fn child_args(bench: &clap::ArgMatches) -> Vec<std::ffi::OsString> {
    use clap::parser::ValueSource;
    let apply = ApplyArgs::augment_args(clap::Command::new("apply"));
    let mut out: Vec<std::ffi::OsString> = vec!["apply".into()];
    let mut inputs = Vec::new();
    for arg in apply.get_arguments() {
        let id = arg.get_id().as_str();
        if SET_PER_CASE.contains(&id) || bench.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let occurrences = bench
            .get_raw_occurrences(id)
            .into_iter()
            .flatten()
            .flatten();
        if arg.is_positional() {
            inputs.extend(occurrences.map(|v| v.to_os_string()));
            continue;
        }
        let long = arg
            .get_long()
            .expect("every option of apply has a long name");
        if !arg.get_action().takes_values() {
            out.push(format!("--{long}").into());
            continue;
        }
        for value in occurrences {
            let mut a = std::ffi::OsString::from(format!("--{long}="));
            a.push(value);
            out.push(a);
        }
    }
    out.push("--".into());
    out.extend(inputs);
    out
}

/// The hidden default of `--mode` under bench. No command-line argument can hold a NUL
/// byte, so only the default reaches `reject_mode` with this text: any `--mode` is refused.
const MODE_UNSET: &str = "\0";

fn reject_jobs(s: &str) -> Result<usize, String> {
    Err(format!(
        "bench times every count of --jobs-list: use --jobs-list {s}"
    ))
}

fn reject_mode(s: &str) -> Result<Mode, String> {
    match s {
        MODE_UNSET => Ok(Mode::Ordered),
        _ => Err(format!(
            "bench times every mode of --modes: use --modes {s}"
        )),
    }
}

fn reject_output(_: &str) -> Result<PathBuf, String> {
    Err(
        "bench writes the output to /dev/null; keep its figures with --export-json, \
         --export-csv or --export-markdown"
            .to_string(),
    )
}

impl BenchArgs {
    /// `child_args`: the apply flags given on bench's command line, as the child takes them.
    pub fn into_options(self, child_args: Vec<std::ffi::OsString>) -> Result<BenchOptions> {
        if self.apply.output_dir.is_some() {
            return Err(Error::usage(
                "bench writes the output to /dev/null: no --output-dir",
            ));
        }
        if self.apply.inputs.iter().any(|i| i == "-") {
            return Err(Error::usage(
                "INPUT: bench reads its input once per run: give a file, not - (standard input)",
            ));
        }
        let mut jobs = self
            .jobs_list
            .unwrap_or_else(|| bench::default_jobs_list(crate::default_jobs()));
        jobs.push(1);
        jobs.sort_unstable();
        jobs.dedup();
        let mut modes = Vec::new();
        for mode in self.modes {
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
        let progress = self.apply.progress;
        Ok(BenchOptions {
            apply: self.apply.into_request()?,
            child_args,
            jobs,
            modes,
            runs: self.runs,
            warmup: self.warmup,
            progress,
            export_json: self.export_json,
            export_csv: self.export_csv,
            export_markdown: self.export_markdown,
            plot: self.plot,
        })
    }
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Number of rows.
    #[arg(long, value_name = "N")]
    pub rows: u64,
    /// Number of columns.
    #[arg(long, value_name = "K")]
    pub cols: usize,
    /// Smallest value (inclusive).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub min: i64,
    /// Largest value (exclusive).
    #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
    pub max: i64,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

impl GenArgs {
    pub fn into_options(self) -> GenOptions {
        GenOptions {
            rows: self.rows,
            cols: self.cols,
            min: self.min,
            max: self.max,
            seed: self.seed,
            output: self.output.filter(|p| p.as_os_str() != "-"),
        }
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, e.g. min=4, not '{s}'")),
    }
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number of at least 1, not '{s}'")),
    }
}

/// Sizes like `65536`, `64K`, `64KiB`, `4M`, `4MiB`, `1G` (binary units).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("expected a size such as 4MiB, not '{s}'"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("unknown unit in '{s}' (use K, M or G)")),
    };
    match n.checked_mul(mult) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(format!("expected a size of at least 1 byte, not '{s}'")),
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" => Ok(s.as_bytes()[0]),
        _ => Err(format!("expected one ASCII character (or \\t), not '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert!(parse_size("0").is_err());
        assert!(parse_size("4 parsecs").is_err());
    }

    /// Parses `dfpar bench ARGS`: its apply request, and the arguments of its child.
    fn bench(args: &[&str]) -> (Request, Vec<std::ffi::OsString>) {
        use clap::{CommandFactory, FromArgMatches};
        let argv = ["dfpar", "bench"].iter().chain(args);
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let Command::Bench(b) = Cli::from_arg_matches(&matches).unwrap().command else {
            panic!("not bench")
        };
        let child = child_args(matches.subcommand_matches("bench").unwrap());
        (b.into_options(child.clone()).unwrap().apply, child)
    }

    #[test]
    fn bench_forwards_the_apply_flags_it_was_given() {
        for args in [
            &[
                "--fn",
                "count_range",
                "--arg",
                "min=-1",
                "--arg",
                "count_range.max=8",
                "--cols",
                "a,-b",
                "--chunk-size",
                "64KiB",
                "--only-results",
                "-d",
                "-",
                "--no-header",
                "--null-values",
                "NA,-",
                "--format",
                "tsv",
                "--expr",
                "x = a + 1",
                "--on-bad-rows",
                "skip",
                "--",
                "-odd name.csv",
            ][..],
            &[
                "--cmd",
                "awk -F, '{ print $0 }'",
                "--format",
                "csv",
                "in.csv",
            ],
            &[
                "--by",
                "frame",
                "--where",
                "a > 1 AND b < 2",
                "a.csv",
                "b.csv",
            ],
            &[
                "--by",
                "column",
                "--expr",
                "s = sum(_ * _)",
                "--fn",
                "mean",
                "x.csv",
            ],
        ] {
            let (request, child) = bench(args);
            let full = std::iter::once("dfpar".into()).chain(child.clone());
            let Command::Apply(a) = Cli::try_parse_from(full).unwrap().command else {
                panic!("not apply: {child:?}")
            };
            let again = a.into_request().unwrap();
            assert_eq!(format!("{again:?}"), format!("{request:?}"), "{child:?}");
        }
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
