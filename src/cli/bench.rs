//! `dfpar bench`'s flags: apply's own (flattened), less those bench sets per case, and
//! the lists of job counts and modes, the runs, the exports.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::{parse_jobs, ApplyArgs};
use crate::bench::{self, BenchOptions};
use crate::error::{Error, Result};
use crate::pipeline::Mode;

pub const BENCH_HELP: &str = "\
Each case (job count x mode) runs `dfpar apply` as a child process with --jobs N,
--mode M and POLARS_MAX_THREADS=N, its output written to /dev/null so that no terminal or
disk write is timed: --warmup untimed runs, then --runs timed ones, in rounds that run
every case once, so that a change in the machine's load falls on all cases alike. Reported per case:
median, min and max wall time, rows/s and MB/s of the input, speedup over --jobs 1 of the
same mode (medians), efficiency (speedup / jobs), peak RSS. Amdahl's law,
speedup(n) = 1 / (s + (1 - s) / n), is fitted to the speedups of each mode.

Examples:
  dfpar bench --fn count_range --arg min=4 --arg max=8 big.csv
  dfpar bench --fn sum --jobs-list 1,2,4,8 --modes ordered,unordered --runs 10 \\
      --export-json bench.json --plot speedup.svg big.csv

Exit codes: 0 success, 1 a timed run failed (its message is shown) or I/O error,
2 usage error.";

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
pub const SET_PER_CASE: [&str; 4] = ["jobs", "mode", "output", "progress"];

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
    pub fn into_options(self, child_args: Vec<OsString>) -> Result<BenchOptions> {
        if self.apply.output_dir.is_some() {
            return Err(Error::usage(
                "bench writes the output to /dev/null: no --output-dir",
            ));
        }
        if self.apply.shard.is_some() {
            return Err(Error::usage(
                "bench times whole runs: run the shards with dfpar apply --shard",
            ));
        }
        if self.apply.inputs.iter().any(|i| i == "-") {
            return Err(Error::usage(
                "INPUT: bench reads its input once per run: give a file, not - (standard input)",
            ));
        }
        let mut jobs = self
            .jobs_list
            .unwrap_or_else(|| bench::default_jobs_list(crate::jobs::cores()));
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
            apply: self.apply.into_request(Vec::new())?,
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

#[cfg(test)]
mod tests {
    use super::super::{given_args, Cli, Command};
    use super::*;
    use crate::request::Request;
    use clap::Parser;

    /// Parses `dfpar bench ARGS`: its apply request, and the arguments of its child.
    fn bench(args: &[&str]) -> (Request, Vec<OsString>) {
        use clap::{CommandFactory, FromArgMatches};
        let argv = ["dfpar", "bench"].iter().chain(args);
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let Command::Bench(b) = Cli::from_arg_matches(&matches).unwrap().command else {
            panic!("not bench")
        };
        let child = given_args(matches.subcommand_matches("bench").unwrap(), &SET_PER_CASE);
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
            let again = a.into_request(Vec::new()).unwrap();
            assert_eq!(format!("{again:?}"), format!("{request:?}"), "{child:?}");
        }
    }
}
