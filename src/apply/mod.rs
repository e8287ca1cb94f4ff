//! `dfpar apply`, as its data flow: open the inputs, infer their types, plan, run the job
//! of the `--by` through the engine into the sink, and commit the outputs.

mod cmd;
mod column;
mod filter;
mod frame;
mod reader;
mod reduce;
mod row;
mod stream;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::read::{Header, Inputs};
use crate::request::{BadRows, Request, Run, Work};
use crate::sink::{Layout, Outputs, Rejects};
use crate::write::Output;

use reader::Reader;

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

/// One run: every input of `run` as one stream, to its output.
fn apply_run(req: &Request, run: &Run) -> Result<()> {
    // The outputs first: a target that cannot be written fails before any reading.
    let outputs = create_outputs(req, run)?;
    let inputs = Inputs::open(run.inputs.clone(), &req.dialect, req.chunk_size)?;
    let header: Header = inputs.first().header().clone();
    let kinds = {
        let sample = inputs.first();
        let reader = Reader::new(
            inputs.names(),
            &header.names,
            &[],
            &req.dialect,
            &req.bad_rows,
        );
        reader.infer(sample.sample(), sample.next_line(), INFER_ROWS)?
    };
    let plan = Plan::new(req, &header.names, &kinds)?;
    let reader = Reader::new(
        inputs.names(),
        &header.names,
        &plan.parsed,
        &req.dialect,
        &req.bad_rows,
    );
    let progress = Progress::new(req.progress, inputs.size);
    progress.advance(inputs.first().header_bytes, 0);
    let names = inputs.names().to_vec();
    let env = Env {
        req,
        run,
        plan: &plan,
        reader: &reader,
        header: header.raw.as_deref().unwrap_or_default(),
        progress: &progress,
    };
    let outputs = match &req.work {
        Work::Rows { exprs, .. } => {
            stream::run(&row::RowJob::new(&env, exprs), &env, inputs, outputs)
        }
        Work::Filter(f) => stream::run(&filter::FilterJob::new(&env, f), &env, inputs, outputs),
        Work::Command(c) => stream::run(&cmd::CmdJob::new(&env, c), &env, inputs, outputs),
        Work::Columns { exprs, .. } => {
            reduce::run(&column::ColumnJob::new(&env, exprs), &env, inputs, outputs)
        }
        Work::Frame(_) => reduce::run(&frame::FrameJob::new(&env)?, &env, inputs, outputs),
    }?;
    progress.finish();
    outputs.commit(&names)
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
