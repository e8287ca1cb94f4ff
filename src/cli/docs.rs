//! `dfpar completions SHELL` and `dfpar man [COMMAND]`: shell completions and man pages
//! generated from the same clap definitions as the command line itself.

use std::io::Write;

use clap::{Args, CommandFactory};

use super::Cli;
use crate::error::{Error, Result};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete dfpar for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The command whose page to write (dfpar-apply, ...) [default: dfpar's own page].
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Writes the completion script of `shell` to stdout.
pub fn completions(a: &CompletionsArgs) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "dfpar", &mut out);
    print(&out)
}

/// Writes the man page (roff) of dfpar, or of one of its commands, to stdout.
pub fn man(a: &ManArgs) -> Result<()> {
    let root = Cli::command();
    let page = match &a.command {
        None => root,
        Some(name) => {
            let sub = root.find_subcommand(name).cloned().ok_or_else(|| {
                let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                Error::usage(format!(
                    "no command '{name}' (dfpar has: {})",
                    names.join(", ")
                ))
            })?;
            let full = format!("dfpar-{name}");
            sub.name(full.clone()).bin_name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|source| Error::Output {
            path: "<stdout>".into(),
            source,
        })?;
    print(&out)
}

fn print(bytes: &[u8]) -> Result<()> {
    std::io::stdout()
        .write_all(bytes)
        .map_err(|source| Error::Output {
            path: "<stdout>".into(),
            source,
        })
}
