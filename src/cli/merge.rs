//! `dfpar merge`'s flags: the parts (any order), the output and, for a merged table, its
//! format; everything else comes from the parts' manifests.

use std::path::PathBuf;

use clap::Args;

use crate::format::Format;
use crate::shard::merge::MergeOptions;

pub const MERGE_HELP: &str = "\
The parts are the -o files of `dfpar apply --shard I/N` (or --shard auto), each with its
manifest PART.manifest.json beside it. merge checks that they are every shard of one run
over one input (same file, size, modification time and options) and that each shard starts
where the one before it ended, then writes the result a single run gives: row parts
concatenated under one header (row_index renumbered over the whole input in unordered
mode), column and frame parts' states combined into the one table.

Examples:
  dfpar merge parts/part-*.csv -o result.csv
  dfpar merge parts/*.json -o summary.parquet

Exit codes: 0 success, 1 a part is missing, repeated, of another run, or unreadable
(named), 2 usage error.";

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The parts written by `dfpar apply --shard`, in any order.
    #[arg(value_name = "PART", required = true)]
    pub parts: Vec<PathBuf>,

    /// Write to this file (replaced only when the merge succeeds) instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Format of a merged table [default: by the output's extension, else csv]; row parts
    /// are written in their own format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

impl MergeArgs {
    pub fn into_options(self) -> MergeOptions {
        MergeOptions {
            parts: self.parts,
            output: self.output.filter(|p| p.as_os_str() != "-"),
            format: self.format,
        }
    }
}
