//! The checked request of `dfpar apply`: what to run on which inputs to which outputs, in
//! types with no flag left to interpret. `cli.rs` builds it once, before any file is touched.

use std::path::PathBuf;

use polars::prelude::Expr;

use crate::compress::Codec;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::expr::{self, NamedExpr};
use crate::format::Format;
use crate::functions::{self, Args, Builtin, Kind};
use crate::pipeline::Settings;
use crate::progress::When;
use crate::read::Source;
use crate::shard::Shard;

/// A checked `dfpar apply` request.
#[derive(Clone, Debug)]
pub struct Request {
    /// One run per output: every input as one stream, or (`--output-dir`) one run per input.
    pub runs: Vec<Run>,
    /// `--output-dir`: created before the first run.
    pub output_dir: Option<PathBuf>,
    pub work: Work,
    /// `--cols`: the columns the functions read (default: every numeric column).
    pub cols: Option<Vec<String>>,
    pub settings: Settings,
    /// `--chunk-size`; `None`: the default (`Inputs::open`, `Inputs::fit_chunk_size`).
    pub chunk_size: Option<usize>,
    pub progress: When,
    pub dialect: Dialect,
    pub bad_rows: BadRows,
    /// Row mode: write only the new columns.
    pub only_results: bool,
    /// `--shard`: this run processes one shard of its one input file.
    pub shard: Option<Shard>,
    /// The options that shape the result, as given (recorded in a shard's manifest).
    pub options: Vec<String>,
    /// `--numeric`, `--text`: columns typed whatever their first rows hold.
    pub types: Types,
}

/// Columns whose type is given rather than inferred.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Types {
    pub numeric: Vec<String>,
    pub text: Vec<String>,
}

impl Types {
    pub fn check(numeric: Vec<String>, text: Vec<String>) -> Result<Types> {
        if let Some(both) = numeric.iter().find(|n| text.contains(n)) {
            return Err(Error::usage(format!(
                "column '{both}' is in both --numeric and --text"
            )));
        }
        Ok(Types { numeric, text })
    }
}

/// Inputs read as one stream, and where their result goes.
#[derive(Clone, Debug)]
pub struct Run {
    pub inputs: Vec<Source>,
    /// A file (replaced only on success), or `None` for standard output.
    pub output: Option<PathBuf>,
    pub format: Format,
    /// The output's compression (`--compress`, or the output's extension).
    pub compress: Option<Codec>,
}

/// What is computed.
#[derive(Clone, Debug)]
pub enum Work {
    /// `--by row`: builtins, then expressions, chained: each may read the ones before it.
    Rows {
        calls: Vec<Call>,
        exprs: Vec<NamedExpr>,
    },
    /// `--by column`: builtins and expressions, each reducing every selected column.
    Columns {
        calls: Vec<Call>,
        exprs: Vec<NamedExpr>,
    },
    /// `--by frame --fn NAME`: one table from the whole input.
    Frame(Call),
    /// `--by frame --where EXPRESSION`: the records for which it is true.
    Filter(Filter),
    /// `--cmd COMMAND`: a shell command run on each chunk.
    Command(String),
    /// `--py FILE.py:FUNCTION`: a Python function over each row or each chunk's frame.
    Python(crate::python::Spec),
}

/// One `--fn`, its parameters checked.
#[derive(Clone, Debug)]
pub struct Call {
    pub builtin: &'static Builtin,
    pub args: Args,
}

/// `--where`: the text as given (for messages) and the parsed expression.
#[derive(Clone, Debug)]
pub struct Filter {
    pub text: String,
    pub expr: Expr,
}

/// What to do with a record of the wrong width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadRows {
    /// Stop with an error naming its line.
    Fail,
    /// Leave it out, counted on stderr, and written to `rejects` when given.
    Skip { rejects: Option<PathBuf> },
}

/// The flags that choose the work, as given.
pub struct WorkFlags {
    pub kind: Kind,
    pub functions: Vec<String>,
    pub args: Vec<(String, String)>,
    pub exprs: Vec<String>,
    pub filter: Option<String>,
    pub command: Option<String>,
    pub only_results: bool,
    /// `--py`, `--as`, and the interpreter (`--python`, else `$DFPAR_PYTHON`, else python3).
    pub python_function: Option<String>,
    pub names: Option<Vec<String>>,
    pub python: std::path::PathBuf,
}

impl Work {
    /// Checks every combination of the work flags and parses functions and expressions.
    pub fn check(f: WorkFlags) -> Result<Work> {
        if let Some(function) = f.python_function.clone() {
            return python(function, f);
        }
        if f.names.is_some() {
            return Err(Error::usage("--as names the columns of a --py function"));
        }
        if let Some(command) = f.command {
            let other = [
                (!f.functions.is_empty(), "--fn"),
                (!f.exprs.is_empty(), "--expr"),
                (f.filter.is_some(), "--where"),
                (!f.args.is_empty(), "--arg"),
                (f.only_results, "--only-results"),
                (f.kind == Kind::Column, "--by column"),
            ];
            if let Some((_, flag)) = other.iter().find(|(given, _)| *given) {
                return Err(Error::usage(format!(
                    "give either {flag} or --cmd, not both (the command's output is the result)"
                )));
            }
            return Ok(Work::Command(command));
        }
        let exprs = f
            .exprs
            .iter()
            .map(|s| expr::parse_named(s))
            .collect::<Result<Vec<_>>>()?;
        if let Some(text) = f.filter {
            if f.kind != Kind::Frame || !f.functions.is_empty() || !exprs.is_empty() {
                return Err(Error::usage(
                    "--where filters rows with --by frame and no --fn",
                ));
            }
            let expr = expr::parse(&text, "--where")?;
            return Ok(Work::Filter(Filter { text, expr }));
        }
        if f.functions.is_empty() && exprs.is_empty() {
            return Err(Error::usage(
                "name a function with --fn (`dfpar list` shows them), or use --expr or --cmd",
            ));
        }
        let mut calls = calls(f.kind, &f.functions, &f.args)?;
        match f.kind {
            Kind::Row => return Ok(Work::Rows { calls, exprs }),
            Kind::Column => return Ok(Work::Columns { calls, exprs }),
            Kind::Frame => {}
        }
        if !exprs.is_empty() {
            return Err(Error::usage(
                "--by frame takes --where EXPRESSION, not --expr",
            ));
        }
        if calls.len() > 1 {
            return Err(Error::usage(
                "--by frame takes one --fn (each makes a table of its own)",
            ));
        }
        Ok(Work::Frame(calls.remove(0)))
    }

    /// The `--by` of this work.
    pub fn kind(&self) -> Kind {
        match self {
            Work::Python(spec) if spec.frame => Kind::Frame,
            Work::Rows { .. } | Work::Command(_) | Work::Python(_) => Kind::Row,
            Work::Columns { .. } => Kind::Column,
            Work::Frame(_) | Work::Filter(_) => Kind::Frame,
        }
    }
}

/// `--py`: a Python function by row or by frame, with nothing else to compute.
fn python(function: String, f: WorkFlags) -> Result<Work> {
    let other = [
        (!f.functions.is_empty(), "--fn"),
        (!f.exprs.is_empty(), "--expr"),
        (f.filter.is_some(), "--where"),
        (f.command.is_some(), "--cmd"),
    ];
    if let Some((_, flag)) = other.iter().find(|(given, _)| *given) {
        return Err(Error::usage(format!(
            "give either {flag} or --py, not both"
        )));
    }
    if f.kind == Kind::Column {
        return Err(Error::usage(
            "--py works --by row or --by frame: a column function's results could not be merged across chunks without a second function",
        ));
    }
    if !function.contains(':') {
        return Err(Error::usage(format!(
            "--py {function}: expected FILE.py:FUNCTION or MODULE:FUNCTION"
        )));
    }
    Ok(Work::Python(crate::python::Spec {
        function,
        python: f.python,
        frame: f.kind == Kind::Frame,
        args: f.args,
        names: f.names,
    }))
}

/// Looks up each `--fn` of `kind` and checks the `--arg`s meant for it.
fn calls(kind: Kind, names: &[String], given: &[(String, String)]) -> Result<Vec<Call>> {
    let builtins = names
        .iter()
        .map(|f| functions::lookup(kind, f))
        .collect::<Result<Vec<_>>>()?;
    for (i, b) in builtins.iter().enumerate() {
        if builtins[..i].iter().any(|o| o.name == b.name) {
            return Err(Error::usage(format!("--fn {} is given twice", b.name)));
        }
    }
    let args = split_args(&builtins, given)?;
    builtins
        .into_iter()
        .zip(args)
        .map(|(builtin, given)| {
            Ok(Call {
                builtin,
                args: Args::check(builtin, &given)?,
            })
        })
        .collect()
}

/// Distributes `--arg` pairs: `fn.key=value` goes to that function, `key=value` to every
/// function of the chain that has a parameter `key`. Any other name is an error.
fn split_args(
    builtins: &[&'static Builtin],
    given: &[(String, String)],
) -> Result<Vec<Vec<(String, String)>>> {
    let mut per_call = vec![Vec::new(); builtins.len()];
    for (key, value) in given {
        let (target, param) = match key.split_once('.') {
            Some((f, p)) => (Some(f), p),
            None => (None, key.as_str()),
        };
        let mut used = false;
        for (i, b) in builtins.iter().enumerate() {
            if target.is_some_and(|t| t != b.name) {
                continue;
            }
            if b.params.iter().any(|p| p.name == param) {
                per_call[i].push((param.to_string(), value.clone()));
                used = true;
            }
        }
        if !used {
            return Err(unknown_parameter(builtins, key, target));
        }
    }
    Ok(per_call)
}

fn unknown_parameter(builtins: &[&'static Builtin], key: &str, target: Option<&str>) -> Error {
    let takes: Vec<String> = builtins
        .iter()
        .filter(|b| target.is_none_or(|t| t == b.name))
        .map(|b| {
            let ps: Vec<&str> = b.params.iter().map(|p| p.name).collect();
            if ps.is_empty() {
                format!("{} takes no parameters", b.name)
            } else {
                format!("{} takes {}", b.name, ps.join(", "))
            }
        })
        .collect();
    let takes = if takes.is_empty() {
        format!("no --fn {} in this run", target.unwrap_or_default())
    } else {
        takes.join("; ")
    };
    Error::usage(format!("unknown parameter '{key}' in --arg ({takes})"))
}

/// The runs of `inputs`: one stream to `output`, or one run per input into `output_dir`
/// (named after the input, with the extension of `--format` when given).
pub fn runs(
    inputs: Vec<Source>,
    output: Option<PathBuf>,
    output_dir: Option<&std::path::Path>,
    format: Option<Format>,
    compress: Option<Codec>,
) -> Result<Vec<Run>> {
    let Some(dir) = output_dir else {
        return Ok(vec![Run {
            format: Format::resolve(format, output.as_deref()),
            compress: compress.or_else(|| output.as_deref().and_then(Codec::by_extension)),
            inputs,
            output,
        }]);
    };
    let mut runs: Vec<Run> = Vec::new();
    for input in inputs {
        let Source::File(path) = &input else {
            return Err(Error::usage("--output-dir needs input files, not '-'"));
        };
        let name = path.file_name().unwrap_or(path.as_os_str());
        let mut target = dir.join(name);
        if let Some(format) = format {
            // a.csv.gz with --format tsv: a.tsv.gz
            let codec =
                Codec::by_extension(&target).map(|_| target.extension().map(|e| e.to_os_string()));
            if let Some(ext) = codec.flatten() {
                target.set_extension("");
                target.set_extension(format.extension());
                target.as_mut_os_string().push(".");
                target.as_mut_os_string().push(ext);
            } else {
                target.set_extension(format.extension());
            }
        }
        if runs.iter().any(|r| r.output.as_ref() == Some(&target)) {
            return Err(Error::usage(format!(
                "two inputs named {} would write the same {}",
                name.to_string_lossy(),
                target.display()
            )));
        }
        runs.push(Run {
            format: Format::resolve(format, Some(&target)),
            compress: compress.or_else(|| Codec::by_extension(&target)),
            inputs: vec![input],
            output: Some(target),
        });
    }
    Ok(runs)
}

/// dfpar compresses CSV and TSV, as gzip or zstd.
fn check_compress(run: &Run) -> Result<()> {
    let Some(codec) = run.compress else {
        return Ok(());
    };
    if !codec.writable() {
        return Err(Error::usage(format!(
            "{} output is not written by dfpar: --compress gzip or zstd (or an output named .gz or .zst)",
            codec.name()
        )));
    }
    if !matches!(run.format, Format::Csv | Format::Tsv) {
        return Err(Error::usage(format!(
            "--compress {} goes with CSV or TSV output, not {}",
            codec.name(),
            run.format.extension()
        )));
    }
    Ok(())
}

impl Request {
    /// Checks what depends on the work and the outputs together.
    pub fn check(self) -> Result<Request> {
        if self.dialect.decimal_comma && self.dialect.delimiter == b',' {
            return Err(Error::usage(
                "--decimal-comma needs another delimiter (e.g. -d ';'): a comma cannot separate both fields and decimals",
            ));
        }
        if matches!(self.work, Work::Command(_))
            && self.runs.iter().any(|r| r.format != Format::Csv)
        {
            return Err(Error::usage("--cmd output is CSV: --format csv only"));
        }
        for run in &self.runs {
            check_compress(run)?;
        }
        if self.shard.is_some() {
            self.check_shard()?;
        }
        Ok(self)
    }

    /// A shard reads one file and writes a part file that merge can join exactly.
    fn check_shard(&self) -> Result<()> {
        let why = match (&self.runs[..], &self.work) {
            _ if self.output_dir.is_some() => {
                "--shard writes one part: give -o PART, not --output-dir"
            }
            ([run], _) if run.inputs.len() != 1 => "--shard takes one input file",
            ([run], _) if run.inputs[0] == Source::Stdin => {
                "--shard needs a file: each shard seeks to its own byte range, which standard input cannot do"
            }
            ([run], _) if run.compress.is_some() => {
                "--shard writes plain parts for dfpar merge: compress the merged result instead"
            }
            ([run], _) if run.inputs[0].path().and_then(Codec::by_extension).is_some() => {
                "--shard needs an uncompressed file: a compressed stream cannot be entered at a byte offset"
            }
            ([run], _) if run.output.is_none() => {
                "--shard needs -o PART: the shard's own file, for dfpar merge"
            }
            (_, Work::Command(_)) => {
                "--cmd cannot be sharded: a command's result per chunk cannot be merged into a single run's"
            }
            (_, Work::Python(spec)) if spec.frame => {
                "--by frame --py cannot be sharded: a frame function's result per chunk cannot be merged into a single run's"
            }
            (_, Work::Columns { exprs, .. }) if !exprs.is_empty() => {
                "--expr in --by column cannot be sharded: an expression over a whole column has no mergeable state"
            }
            _ => return Ok(()),
        };
        Err(Error::usage(why))
    }
}
