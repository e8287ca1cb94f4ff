//! The `dfpar` binary: parses the command line, runs the command, and maps errors to
//! `dfpar: ` messages on stderr and the documented exit codes (0, 1, 2).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use dfpar::cli::{Cli, Command};

/// polars allocates and frees large buffers per chunk: mimalloc reuses them instead of
/// returning pages to the kernel and faulting them in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Apply(args) => {
            let options = args.into_options();
            bound_polars_threads(options.jobs);
            dfpar::apply(&options)
        }
        Command::Bench(args) => args.into_options().and_then(|o| dfpar::bench::bench(&o)),
        Command::Gen(args) => dfpar::gen::gen(&args.into_options()),
        Command::List => print(&dfpar::list_text()),
        Command::Info => print(&dfpar::info_text()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dfpar: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// polars parses on its own global pool, sized once from POLARS_MAX_THREADS: size it to
/// `--jobs` so that `--jobs 1` is truly serial and `--jobs N` uses N cores, not all.
fn bound_polars_threads(jobs: usize) {
    if std::env::var_os("POLARS_MAX_THREADS").is_none() {
        // Safe: called before any other thread exists.
        std::env::set_var("POLARS_MAX_THREADS", jobs.to_string());
    }
}

fn print(text: &str) -> dfpar::Result<()> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|source| dfpar::Error::Output {
            path: "<stdout>".into(),
            source,
        })
}
