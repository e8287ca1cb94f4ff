//! `dfpar apply`: checks the request against the input, builds the job for the chosen
//! `--by`, runs the engine, and writes rows as they are released or the merged table.

mod cmd;
mod context;
mod filter;
mod row;
mod table;

use cmd::CmdJob;
use context::{Context, Rejects};
use filter::FilterJob;
use row::{RowJob, Rows};
use table::{column_table, ColumnJob, FrameJob};

use std::path::PathBuf;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::functions::column::Moments;
use crate::functions::frame::{FrameState, Table};
use crate::functions::{Function, Kind};

use crate::encode;
use crate::expr;
use crate::format::{Format, FrameWriter};
use crate::parse::{self, Parser};
use crate::pipeline::{self, Job, Settings};
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
    /// `--expr NAME = EXPRESSION`, in order.
    pub exprs: Vec<String>,
    /// `--where EXPRESSION` (frame mode).
    pub filter: Option<String>,
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
        expr_input: context::ExprInput::default(),
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
        let ctx = cmd::run(job, inputs, settings, &progress, &mut output)?;
        progress.finish();
        if let Some(rejects) = ctx.rejects {
            rejects.finish(&ctx.paths)?;
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
    let schema = parse::schema_of(&names, &kinds);
    let exprs = o
        .exprs
        .iter()
        .map(|s| expr::parse_named(s))
        .collect::<Result<Vec<_>>>()?;
    let filter = match &o.filter {
        Some(text) => Some((text.as_str(), expr::parse(text, "--where")?)),
        None => None,
    };
    if filter.is_some() && (o.kind != Kind::Frame || !o.functions.is_empty()) {
        return Err(Error::usage(
            "--where filters rows with --by frame and no --fn",
        ));
    }
    if !exprs.is_empty() && o.kind == Kind::Frame {
        return Err(Error::usage(
            "--by frame takes --where EXPRESSION, not --expr",
        ));
    }
    if o.functions.is_empty() && exprs.is_empty() && filter.is_none() {
        return Err(Error::usage(
            "name a function with --fn (`dfpar list` shows them), or use --expr or --cmd",
        ));
    }
    // The columns to parse: the builtins' (or, for column expressions, the selected ones),
    // then the numeric input columns the expressions read.
    let mut parsed = plan.parsed.clone();
    if o.kind == Kind::Column && !exprs.is_empty() && plan.calls.is_empty() {
        parsed = plan::selected_columns(&request, &names, &numeric)?;
    }
    let mut expr_input = context::ExprInput::default();
    match o.kind {
        Kind::Column => {
            let mut one = Schema::default();
            one.insert("_".into(), DataType::Float64);
            expr::check(&exprs, None, &one)?;
        }
        _ => {
            let mut with_outputs = schema.clone();
            for name in plan.output_names() {
                with_outputs.insert(name.into(), DataType::Float64);
            }
            expr::check(&exprs, filter.as_ref().map(|(t, f)| (*t, f)), &with_outputs)?;
            let read = exprs
                .iter()
                .map(|e| &e.expr)
                .chain(filter.as_ref().map(|(_, f)| f));
            for name in read.flat_map(expr::columns) {
                let Some(i) = names.iter().position(|n| *n == name) else {
                    continue; // an output of --fn or of an earlier --expr
                };
                if expr_input.columns.iter().any(|(n, _, _)| *n == name) {
                    continue;
                }
                if kinds[i].is_numeric() {
                    if !parsed.contains(&i) {
                        parsed.push(i);
                    }
                } else {
                    expr_input.needs_text = true;
                }
                expr_input
                    .columns
                    .push((name, i, kinds[i] == parse::Inferred::Integer));
            }
        }
    }
    let parser = Parser::new(&names, &parsed, &o.dialect).skipping_bad_rows(o.skip_bad_rows);
    let ctx = Context {
        parser,
        schema: Arc::new(schema),
        expr_input,
        ..ctx
    };
    let parsed_names: Vec<String> = parsed.iter().map(|&i| names[i].clone()).collect();

    let progress = Progress::new(o.progress, inputs.size);
    progress.advance(splitter.header_bytes, 0);
    let settings = Settings {
        jobs: o.jobs.max(1),
        ordered: o.ordered,
    };
    let ctx = match (o.kind, filter) {
        (Kind::Frame, Some((_, filter))) => {
            let header = raw_header.as_deref().map(|raw| {
                let mut h = Vec::new();
                if ctx.row_index {
                    encode::push_text(&mut h, b"row_index", &ctx.out);
                    h.push(ctx.out.delimiter);
                }
                encode::push_record(&mut h, raw, &ctx.dialect, &ctx.out);
                h.push(b'\n');
                h
            });
            let job = FilterJob { ctx, filter };
            let empty = || job.ctx.records_frame(&[], 0).unwrap_or_default();
            stream_rows(
                inputs,
                &job,
                header,
                empty,
                format,
                settings,
                &progress,
                &mut output,
            )?;
            job.ctx
        }
        (Kind::Row, _) => {
            let job = RowJob {
                ctx,
                plan,
                only_results: o.only_results,
                exprs,
            };
            let header = raw_header.as_deref().map(|raw| job.header(raw));
            stream_rows(
                inputs,
                &job,
                header,
                || job.empty_frame(),
                format,
                settings,
                &progress,
                &mut output,
            )?;
            job.ctx
        }
        (Kind::Column, _) => {
            let keep_columns = !exprs.is_empty();
            let job = ColumnJob { ctx, keep_columns };
            let mut total = vec![Moments::default(); parsed.len()];
            let mut whole: Vec<Option<Float64Chunked>> = vec![None; parsed.len()];
            pipeline::run(inputs, &job, settings, &progress, |(moments, columns)| {
                total = total
                    .iter()
                    .zip(&moments)
                    .map(|(a, b)| a.merge(b))
                    .collect();
                for (acc, c) in whole.iter_mut().zip(columns) {
                    match acc {
                        Some(a) => a.append(&c).map_err(|e| Error::Internal(e.to_string()))?,
                        None => *acc = Some(c),
                    }
                }
                Ok(())
            })?;
            let mut table = column_table(&plan, &parsed_names, &total)
                .map_err(|e| Error::Internal(e.to_string()))?;
            for e in &exprs {
                let values = column_exprs(e, &parsed_names, &whole).map_err(|err| {
                    Error::usage(format!("--expr '{} = {}': {err}", e.name, e.text))
                })?;
                table
                    .with_column(values.with_name(e.name.as_str().into()).into_column())
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
            job.ctx
                .write_table(Table::Frame(table), raw_header.as_deref(), &mut output)?;
            job.ctx
        }
        (Kind::Frame, None) => {
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

/// Streams the rows of a row or filter job to the output: text with the header written
/// with the first rows (a run failing in its first chunk writes nothing), or frames.
#[allow(clippy::too_many_arguments)]
fn stream_rows<J: Job<Part = Rows>>(
    inputs: Inputs,
    job: &J,
    mut header: Option<Vec<u8>>,
    empty: impl FnOnce() -> DataFrame,
    format: Format,
    settings: Settings,
    progress: &Progress,
    output: &mut Output,
) -> Result<()> {
    if format.is_text() {
        pipeline::run(inputs, job, settings, progress, |part| {
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
        return Ok(());
    }
    let mut frames = FrameWriter::new(format, output);
    pipeline::run(inputs, job, settings, progress, |part| match part {
        Rows::Frame(mut df) => frames.write(&mut df),
        Rows::Text(_) => unreachable!("text comes only in text formats"),
    })?;
    frames.finish(empty)
}

/// A column expression's value for each selected column, `_` standing for the column.
fn column_exprs(
    e: &expr::NamedExpr,
    names: &[String],
    whole: &[Option<Float64Chunked>],
) -> PolarsResult<Series> {
    let mut values: Option<Series> = None;
    for (name, c) in names.iter().zip(whole) {
        let c = c
            .clone()
            .unwrap_or_else(|| Float64Chunked::full_null(name.as_str().into(), 0));
        let df = DataFrame::new(
            c.len(),
            vec![c.with_name(name.as_str().into()).into_column()],
        )?;
        let one = expr::NamedExpr {
            expr: expr::for_column(&e.expr, name),
            ..e.clone()
        };
        let out = expr::evaluate(&df, std::slice::from_ref(&one))?;
        let v = out[0].as_materialized_series().head(Some(1));
        match &mut values {
            Some(acc) => {
                acc.append(&v)?;
            }
            None => values = Some(v),
        }
    }
    Ok(values.unwrap_or_else(|| Series::new_empty("".into(), &DataType::Float64)))
}
