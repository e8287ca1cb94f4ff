//! `dfpar apply`, as its data flow: open the inputs, infer their types, plan, run the job
//! of the `--by` through the engine into the sink, and commit the outputs.

mod cmd;
mod column;
mod filter;
mod frame;
mod python;
mod reader;
mod reduce;
mod row;
mod shard;
mod stream;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::read::{Header, Inputs};
use crate::request::{BadRows, Request, Run, Work};
use crate::shard::LineBase;
use crate::sink::{Layout, Outputs, Rejects};
use crate::write::Output;

use reader::Reader;
pub use reduce::Saved;

/// Rows read to decide which columns are numeric.
const INFER_ROWS: usize = 1000;

/// What the jobs of one run share.
struct Env<'a> {
    req: &'a Request,
    run: &'a Run,
    plan: &'a Plan,
    reader: &'a Reader,
    /// The input's header line, raw (empty when the input has none).
    header: &'a [u8],
    progress: &'a Progress,
}

impl Env<'_> {
    /// The layout of this run's output: `row_index` in unordered mode; a header line or not.
    fn layout(&self, header: bool) -> Layout {
        Layout {
            row_index: !self.req.settings.ordered(),
            header,
        }
    }
}

/// Runs `dfpar apply`. On any error the output files are left untouched.
pub fn apply(req: &Request) -> Result<()> {
    if let Some(dir) = &req.output_dir {
        std::fs::create_dir_all(dir).map_err(|source| Error::Output {
            path: dir.clone(),
            source,
        })?;
    }
    req.runs.iter().try_for_each(|run| apply_run(req, run))
}

/// One run: every input of `run` as one stream (or one shard of its file), to its output.
/// A shard whose start was found fast and that meets bad data runs again with its start
/// found exactly: the fast start may have fallen inside a long quoted field.
fn apply_run(req: &Request, run: &Run) -> Result<()> {
    match apply_once(req, run, false) {
        (Err(Error::Data { .. } | Error::Function { .. }), Some(false)) => {
            apply_once(req, run, true).0
        }
        (result, _) => result,
    }
}

/// One run, and for a shard whether its start was exact.
fn apply_once(req: &Request, run: &Run, exact: bool) -> (Result<()>, Option<bool>) {
    // The outputs first: a target that cannot be written fails before any reading.
    let opened = create_outputs(req, run).and_then(|outputs| match req.shard {
        Some(shard) => {
            let (inputs, part) = shard::open(req, run, shard, exact)?;
            Ok((outputs, inputs, Some(part)))
        }
        None => {
            let inputs = Inputs::open(run.inputs.clone(), &req.dialect, req.chunk_size)?;
            Ok((outputs, inputs, None))
        }
    });
    let (outputs, inputs, part) = match opened {
        Ok(opened) => opened,
        Err(e) => return (Err(e), None),
    };
    let exact = part.as_ref().map(|p| p.start.exact);
    let result = process(req, run, inputs, outputs).and_then(|()| match part {
        Some(part) => part.write_manifest(req, run),
        None => Ok(()),
    });
    (result, exact)
}

/// The inputs' types inferred, the plan made, the job run into the outputs, committed.
fn process(req: &Request, run: &Run, mut inputs: Inputs, outputs: Outputs) -> Result<()> {
    let header: Header = inputs.first().header().clone();
    let kinds = infer(req, &inputs, &header)?;
    let plan = Plan::new(req, &header.names, &kinds)?;
    if let (None, Work::Rows { .. } | Work::Columns { .. }) = (req.chunk_size, &req.work) {
        inputs.fit_chunk_size(plan.parsed.len());
    }
    let line_base = inputs.first().line_base.clone();
    let names = inputs.names().to_vec();
    let reader = Reader::new(
        &names,
        &header.names,
        &plan.parsed,
        &req.dialect,
        &req.bad_rows,
        line_base,
    );
    let progress = Progress::new(req.progress, inputs.size);
    progress.advance(inputs.first().header_input_bytes, 0);
    let env = Env {
        req,
        run,
        plan: &plan,
        reader: &reader,
        header: header.raw.as_deref().unwrap_or_default(),
        progress: &progress,
    };
    let outputs = run_job(&env, inputs, outputs)?;
    progress.finish();
    outputs.commit(&names)
}

/// What the input's columns hold, judged on its first rows.
fn infer(req: &Request, inputs: &Inputs, header: &Header) -> Result<Vec<crate::infer::Inferred>> {
    let first = inputs.first();
    let none = Arc::new(LineBase::none());
    let reader = Reader::new(
        inputs.names(),
        &header.names,
        &[],
        &req.dialect,
        &req.bad_rows,
        none,
    );
    reader.infer(first.sample(), first.sample_line(), INFER_ROWS)
}

/// Runs the job of the request's work over the inputs into the outputs.
fn run_job(env: &Env, inputs: Inputs, outputs: Outputs) -> Result<Outputs> {
    match &env.req.work {
        Work::Rows { exprs, .. } => {
            stream::run(&row::RowJob::new(env, exprs), env, inputs, outputs)
        }
        Work::Filter(f) => stream::run(&filter::FilterJob::new(env, f), env, inputs, outputs),
        Work::Command(c) => stream::run(&cmd::CmdJob::new(env, c), env, inputs, outputs),
        Work::Python(spec) => {
            stream::run(&python::PythonJob::start(env, spec)?, env, inputs, outputs)
        }
        Work::Columns { exprs, .. } => {
            reduce::run(&column::ColumnJob::new(env, exprs), env, inputs, outputs)
        }
        Work::Frame(_) => reduce::run(&frame::FrameJob::new(env)?, env, inputs, outputs),
    }
}

/// `dfpar merge` of the saved states of column or frame shards, in shard order with the
/// rows before each: the table of a single run over the whole input, written to `run`.
pub fn merge_states(req: &Request, run: &Run, parts: Vec<(Saved, u64)>) -> Result<()> {
    let outputs = create_outputs(req, run)?;
    let Some((first, _)) = parts.first() else {
        return Err(Error::Internal("no parts to merge".into()));
    };
    let (names, kinds, header) = (
        first.names.clone(),
        first.kinds.clone(),
        first.header.clone(),
    );
    let plan = Plan::new(req, &names, &kinds)?;
    let paths: Vec<String> = run.inputs.iter().map(|s| s.name()).collect();
    let none = Arc::new(LineBase::none());
    let reader = Reader::new(
        &paths,
        &names,
        &plan.parsed,
        &req.dialect,
        &req.bad_rows,
        none,
    );
    let progress = Progress::hidden();
    let env = Env {
        req,
        run,
        plan: &plan,
        reader: &reader,
        header: &header,
        progress: &progress,
    };
    let outputs = match &req.work {
        Work::Columns { exprs, .. } => {
            reduce::merge_saved(&column::ColumnJob::new(&env, exprs), &env, parts, outputs)
        }
        Work::Frame(_) => reduce::merge_saved(&frame::FrameJob::new(&env)?, &env, parts, outputs),
        _ => Err(Error::Internal(
            "only column and frame shards save states".into(),
        )),
    }?;
    outputs.commit(&paths)
}

fn create_outputs(req: &Request, run: &Run) -> Result<Outputs> {
    let out = Output::create(run.output.as_deref())?;
    let rejects = match &req.bad_rows {
        BadRows::Skip { rejects } => rejects.as_deref(),
        BadRows::Fail => None,
    };
    Ok(Outputs {
        out,
        rejects: Rejects::create(rejects, &req.dialect)?,
    })
}
