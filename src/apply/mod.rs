//! `dfpar apply`: checks the request against the input, builds the job for the chosen
//! `--by`, runs the engine, and writes rows as they are released or the merged table.

mod cmd;
mod context;
mod row;
mod table;

use cmd::CmdJob;
use context::{Context, Rejects};
use row::{RowJob, Rows};
use table::{column_table, ColumnJob, FrameJob};

use std::path::PathBuf;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::functions::column::Moments;
use crate::functions::frame::{FrameState, Table};
use crate::functions::{Function, Kind};

use crate::format::{Format, FrameWriter};
use crate::parse::{self, Parser};
use crate::pipeline::{self, Settings};
use crate::plan::{self, Request};
use crate::progress::{self, Progress};
use crate::read::{Inputs, Source};
use crate::write::Output;

/// Rows read to decide which columns are numeric.
const INFER_ROWS: usize = 1000;

/// A checked `dfpar apply` request.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Paths, or `-` for standard input; several inputs with the same header are one stream.
    pub inputs: Vec<String>,
    /// One output per input in this directory, with the input's file name (instead of `output`).
    pub output_dir: Option<PathBuf>,
    pub kind: Kind,
    pub functions: Vec<String>,
    pub args: Vec<(String, String)>,
    pub cols: Option<Vec<String>>,
    pub jobs: usize,
    pub ordered: bool,
    pub chunk_size: usize,
    pub output: Option<PathBuf>,
    pub only_results: bool,
    pub progress: progress::When,
    pub dialect: Dialect,
    /// `--on-bad-rows skip`: drop rows of the wrong width instead of failing.
    pub skip_bad_rows: bool,
    /// `--rejects FILE`: where the skipped rows are written.
    pub rejects: Option<PathBuf>,
    /// `--format`; by default the output's extension decides, else CSV.
    pub format: Option<Format>,
    /// `--cmd`: a shell command run on each chunk instead of builtin functions.
    pub command: Option<String>,
}

/// Runs `dfpar apply`. On any error the output file is left untouched.
pub fn apply(o: &ApplyOptions) -> Result<()> {
    if o.inputs.is_empty() {
        return Err(Error::usage("name an input file (or - for standard input)"));
    }
    if o.rejects.is_some() && !o.skip_bad_rows {
        return Err(Error::usage("--rejects needs --on-bad-rows skip"));
    }
    match &o.output_dir {
        Some(dir) => apply_each(o, dir),
        None => apply_stream(o),
    }
}

/// `--output-dir`: one run per input, each written to `DIR/<input's file name>`.
fn apply_each(o: &ApplyOptions, dir: &std::path::Path) -> Result<()> {
    if o.output.is_some() {
        return Err(Error::usage("give either -o or --output-dir, not both"));
    }
    let mut targets: Vec<PathBuf> = Vec::new();
    for input in &o.inputs {
        let name = std::path::Path::new(input)
            .file_name()
            .filter(|_| input != "-");
        let Some(name) = name else {
            return Err(Error::usage(format!(
                "--output-dir needs input files, not '{input}'"
            )));
        };
        let mut target = dir.join(name);
        if let Some(format) = o.format {
            target.set_extension(format.extension());
        }
        if targets.contains(&target) {
            return Err(Error::usage(format!(
                "two inputs named {} would write the same {}",
                name.to_string_lossy(),
                target.display()
            )));
        }
        targets.push(target);
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.to_path_buf(),
        source,
    })?;
    for (input, target) in o.inputs.iter().zip(targets) {
        apply_stream(&ApplyOptions {
            inputs: vec![input.clone()],
            output: Some(target),
            output_dir: None,
            ..o.clone()
        })?;
    }
    Ok(())
}

/// Every input as one stream, to one output.
fn apply_stream(o: &ApplyOptions) -> Result<()> {
    // The output first: a target that cannot be written fails before any reading.
    let mut output = Output::create(o.output.as_deref())?;
    let sources = o.inputs.iter().map(|i| Source::from_arg(i)).collect();
    let inputs = Inputs::open(sources, &o.dialect, o.chunk_size)?;
    let splitter = inputs.first();
    let names = splitter.header().names.clone();
    let raw_header = splitter.header().raw.clone();
    let format = Format::resolve(o.format, o.output.as_deref());
    let out_dialect = Dialect {
        delimiter: if format == Format::Tsv {
            b'\t'
        } else {
            o.dialect.delimiter
        },
        ..o.dialect.clone()
    };
    let ctx = Context {
        paths: inputs.names().to_vec(),
        dialect: o.dialect.clone(),
        out: out_dialect,
        format,
        schema: Arc::new(Schema::default()),
        width: names.len(),
        parser: Parser::new(&names, &[], &o.dialect).skipping_bad_rows(o.skip_bad_rows),
        row_index: !o.ordered,
        rejects: match o.skip_bad_rows {
            true => Some(Rejects::new(o.rejects.as_deref(), &o.dialect)?),
            false => None,
        },
    };
    let sample = ctx.inference_sample(splitter.sample(), splitter.next_line(), INFER_ROWS)?;
    let kinds = parse::infer(&sample, names.len(), &o.dialect)
        .map_err(|e| ctx.data_err(0, None, format!("cannot read the first rows: {e}")))?;
    if let Some(command) = &o.command {
        if !o.functions.is_empty() {
            return Err(Error::usage("give either --fn or --cmd, not both"));
        }
        if !format.is_text() || format == Format::Tsv {
            return Err(Error::usage("--cmd output is CSV: --format csv only"));
        }
        let header = splitter.header().raw.clone().map(|mut h| {
            h.push(b'\n');
            h
        });
        let job = CmdJob {
            ctx,
            command: command.clone(),
            header: header.unwrap_or_default(),
        };
        let progress = Progress::new(o.progress, inputs.size);
        let settings = Settings {
            jobs: o.jobs.max(1),
            ordered: o.ordered,
        };
        let mut header: Option<Vec<u8>> = None;
        pipeline::run(inputs, &job, settings, &progress, |part| {
            match &header {
                None => {
                    output.write_all(&part.header)?;
                    header = Some(part.header);
                }
                Some(h) if *h != part.header => {
                    return Err(Error::Data {
                        path: job.ctx.paths.join(", "),
                        line: None,
                        message: format!(
                            "command '{command}' wrote different headers for different chunks: {} and {}",
                            String::from_utf8_lossy(h).trim_end(),
                            String::from_utf8_lossy(&part.header).trim_end()
                        ),
                    })
                }
                Some(_) => {}
            }
            output.write_all(&part.rows)
        })?;
        progress.finish();
        if let Some(rejects) = job.ctx.rejects {
            rejects.finish(&job.ctx.paths)?;
        }
        return output.commit();
    }
    let request = Request {
        kind: o.kind,
        functions: &o.functions,
        args: &o.args,
        cols: o.cols.as_deref(),
    };
    let numeric: Vec<bool> = kinds.iter().map(|k| k.is_numeric()).collect();
    let plan = plan::plan(&request, &names, &numeric)?;
    let parser = Parser::new(&names, &plan.parsed, &o.dialect).skipping_bad_rows(o.skip_bad_rows);
    let ctx = Context {
        parser,
        schema: Arc::new(parse::schema_of(&names, &kinds)),
        ..ctx
    };
    let parsed_names: Vec<String> = plan.parsed.iter().map(|&i| names[i].clone()).collect();

    let progress = Progress::new(o.progress, inputs.size);
    progress.advance(splitter.header_bytes, 0);
    let settings = Settings {
        jobs: o.jobs.max(1),
        ordered: o.ordered,
    };
    let ctx = match o.kind {
        Kind::Row => {
            let job = RowJob {
                ctx,
                plan,
                only_results: o.only_results,
            };
            if format.is_text() {
                // The header goes out with the first rows, so that a run failing in its
                // first chunk writes nothing at all.
                let mut header = raw_header.as_deref().map(|raw| job.header(raw));
                pipeline::run(inputs, &job, settings, &progress, |part| {
                    if let Some(h) = header.take() {
                        output.write_all(&h)?;
                    }
                    match part {
                        Rows::Text(bytes) => output.write_all(&bytes),
                        Rows::Frame(_) => unreachable!("frames come only in frame formats"),
                    }
                })?;
                if let Some(h) = header.take() {
                    output.write_all(&h)?;
                }
            } else {
                let mut frames = FrameWriter::new(format, &mut output);
                pipeline::run(inputs, &job, settings, &progress, |part| match part {
                    Rows::Frame(mut df) => frames.write(&mut df),
                    Rows::Text(_) => unreachable!("text comes only in text formats"),
                })?;
                frames.finish(|| job.empty_frame())?;
            }
            job.ctx
        }
        Kind::Column => {
            let job = ColumnJob { ctx };
            let mut total = vec![Moments::default(); plan.parsed.len()];
            pipeline::run(inputs, &job, settings, &progress, |part| {
                total = total.iter().zip(&part).map(|(a, b)| a.merge(b)).collect();
                Ok(())
            })?;
            let table = column_table(&plan, &parsed_names, &total)
                .map_err(|e| Error::Internal(e.to_string()))?;
            job.ctx
                .write_table(Table::Frame(table), raw_header.as_deref(), &mut output)?;
            job.ctx
        }
        Kind::Frame => {
            let Some(Function::Frame(function)) = plan.calls.first().map(|c| &c.function) else {
                unreachable!("frame plans hold one frame function")
            };
            let job = FrameJob {
                ctx,
                function: *function,
            };
            let mut state: Option<FrameState> = None;
            pipeline::run(inputs, &job, settings, &progress, |part| {
                state = Some(match state.take() {
                    None => part,
                    Some(s) => function.merge(s, part),
                });
                Ok(())
            })?;
            let state = match state {
                Some(s) => s,
                None => job.empty_state(),
            };
            let table = function
                .finish(state, &parsed_names, names.len())
                .map_err(|e| Error::Internal(e.to_string()))?;
            job.ctx
                .write_table(table, raw_header.as_deref(), &mut output)?;
            job.ctx
        }
    };
    progress.finish();
    if let Some(rejects) = ctx.rejects {
        rejects.finish(&ctx.paths)?;
    }
    output.commit()
}
