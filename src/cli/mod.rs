//! The command line (clap derive): raw flags for `apply`, `bench`, `merge`, `list`, `gen`
//! and `info`, each turned once into the checked options the library takes.

mod apply;
mod bench;
pub mod docs;
mod merge;

pub use apply::{ApplyArgs, OnBadRows, NOT_RECORDED};
pub use bench::{BenchArgs, SET_PER_CASE};
pub use merge::MergeArgs;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::gen::GenOptions;

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
    #[command(after_help = apply::APPLY_HELP)]
    Apply(Box<ApplyArgs>),
    /// Time `apply` at several --jobs and modes: speedups, efficiency, memory, Amdahl fit.
    #[command(after_help = bench::BENCH_HELP)]
    Bench(Box<BenchArgs>),
    /// Time the record scanner and the reader alone, in MB/s on one core.
    ///
    /// On the file's first MB as it is and with every field quoted: the SIMD kernel beside
    /// the scalar reference, and the parser; then the reader thread over the whole file.
    BenchScanner(ScannerArgs),
    /// List the builtin functions with their kind, parameters and description.
    List,
    /// Write a CSV of random numbers in [min, max), header c0..cK-1 (deterministic).
    Gen(GenArgs),
    /// Join the parts that `apply --shard` wrote into the result of a single run.
    #[command(after_help = merge::MERGE_HELP)]
    Merge(merge::MergeArgs),
    /// Show the available cores, the default --jobs (and where it comes from), the version.
    Info,
    /// Write the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(docs::CompletionsArgs),
    /// Write dfpar's man page, or a command's (dfpar man apply), as roff.
    Man(docs::ManArgs),
}

#[derive(Args, Debug)]
pub struct ScannerArgs {
    /// A CSV file with a header, comma-separated (e.g. from dfpar gen).
    pub input: PathBuf,
    /// Timed runs per case; the median is shown.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: usize,
    /// How many MB of the file the in-memory cases scan.
    #[arg(long, value_name = "MB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_mb: u64,
}

impl ScannerArgs {
    pub fn into_options(self) -> crate::bench::scanner::ScannerOptions {
        crate::bench::scanner::ScannerOptions {
            input: self.input,
            runs: self.runs,
            max_bytes: self.max_mb as usize * 1_000_000,
        }
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
    /// Write decimals with D digits after the point, in [min, max), in columns named
    /// f0..fK-1 (the float benchmark: --rows 2000000 --cols 20 --decimals 6).
    #[arg(long, value_name = "D", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub decimals: u32,
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
            decimals: self.decimals,
            output: self.output.filter(|p| p.as_os_str() != "-"),
        }
    }
}

/// The flags of `apply` given on a command line (`matches`), re-read as `dfpar apply`
/// takes them: `apply`, `--long=value` for every value given, `--`, the inputs; without
/// the flags named in `leave_out` (by their ids). A new flag of apply needs no change here.
pub fn given_args(matches: &clap::ArgMatches, leave_out: &[&str]) -> Vec<OsString> {
    use clap::parser::ValueSource;
    let apply = ApplyArgs::augment_args(clap::Command::new("apply"));
    let mut out: Vec<OsString> = vec!["apply".into()];
    let mut inputs = Vec::new();
    for arg in apply.get_arguments() {
        let id = arg.get_id().as_str();
        if leave_out.contains(&id) || matches.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let occurrences = matches
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
            let mut a = OsString::from(format!("--{long}="));
            a.push(value);
            out.push(a);
        }
    }
    out.push("--".into());
    out.extend(inputs);
    out
}

pub(crate) fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, e.g. min=4, not '{s}'")),
    }
}

pub(crate) fn parse_jobs(s: &str) -> Result<usize, String> {
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

pub(crate) fn parse_delimiter(s: &str) -> Result<u8, String> {
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

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
