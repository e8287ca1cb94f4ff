//! Jobs that reduce the whole input to one table (`--by column`, `--by frame --fn`): a
//! partial state per chunk in the workers, merged as the engine releases them, then finished.

use serde::{Deserialize, Serialize};

use super::reader::Reader;
use super::stream::{with_output, WithOutput};
use super::Env;
use crate::error::{Error, Result};
use crate::infer::Inferred;
use crate::parse::Parsed;
use crate::pipeline;
use crate::read::{Chunk, Inputs};
use crate::sink::{Batch, Encoder, Layout, Outputs, RejectLines, Sink, Writer};

/// A job with a mergeable partial state per chunk.
pub(super) trait ReduceJob: Sync {
    type State: Send;
    fn partial(&self, chunk: &Chunk, parsed: Parsed) -> Result<Self::State>;
    fn merge(&self, a: Self::State, b: Self::State) -> Result<Self::State>;
    /// The table of the merged state (`None`: the input has no chunk), and its layout.
    fn finish(&self, state: Option<Self::State>) -> Result<(Batch<'static>, Layout)>;
    /// The state as a shard saves it, and back (with its row numbers moved on by `rows`).
    fn save(&self, state: Self::State) -> serde_json::Value;
    fn load(&self, saved: serde_json::Value, rows: u64) -> Result<Self::State>;
}

/// What a shard of a column or frame job writes: its state, and what `merge` needs to
/// finish it without the input (its columns, their types, its header).
#[derive(Serialize, Deserialize)]
pub struct Saved {
    pub names: Vec<String>,
    pub kinds: Vec<Inferred>,
    pub header: Vec<u8>,
    pub state: Option<serde_json::Value>,
}

/// Runs `job` over every chunk, merges the states in release order, writes the table.
pub(super) fn run<J: ReduceJob>(
    job: &J,
    env: &Env,
    inputs: Inputs,
    mut outputs: Outputs,
) -> Result<Outputs> {
    let work = Work {
        job,
        reader: env.reader,
    };
    let mut state = None;
    pipeline::run(
        inputs,
        &work,
        env.req.settings,
        env.progress,
        |(part, rejects)| {
            outputs.rejects.write(rejects)?;
            state = Some(match state.take() {
                None => part,
                Some(s) => job.merge(s, part)?,
            });
            Ok(())
        },
    )?;
    if env.req.shard.is_some() {
        return save(job, env, state, outputs);
    }
    let (table, layout) = job.finish(state)?;
    with_output(env, layout, outputs, Table(table))
}

/// A shard's output: the state, not the table.
fn save<J: ReduceJob>(
    job: &J,
    env: &Env,
    state: Option<J::State>,
    mut outputs: Outputs,
) -> Result<Outputs> {
    let saved = Saved {
        names: env.plan.names.clone(),
        kinds: env.plan.kinds.clone(),
        header: env.header.to_vec(),
        state: state.map(|s| job.save(s)),
    };
    let text = serde_json::to_string(&saved).expect("a state is JSON") + "\n";
    outputs.out.write_all(text.as_bytes())?;
    Ok(outputs)
}

/// `dfpar merge` of shards' states, in shard order (each with the rows before it): the
/// merged state finished into the table a single run gives.
pub(super) fn merge_saved<J: ReduceJob>(
    job: &J,
    env: &Env,
    parts: Vec<(Saved, u64)>,
    outputs: Outputs,
) -> Result<Outputs> {
    let mut state = None;
    for (saved, rows) in parts {
        let Some(value) = saved.state else { continue };
        let part = job.load(value, rows)?;
        state = Some(match state.take() {
            None => part,
            Some(s) => job.merge(s, part)?,
        });
    }
    let (table, layout) = job.finish(state)?;
    with_output(env, layout, outputs, Table(table))
}

/// The finished table, written as the one piece of the output.
struct Table(Batch<'static>);

impl WithOutput for Table {
    fn run<E, W>(self, encoder: &E, mut sink: Sink<W>) -> Result<Outputs>
    where
        E: Encoder,
        W: Writer<Piece = E::Piece>,
    {
        let piece = encoder
            .encode(&self.0)
            .map_err(|e| Error::Internal(format!("writing the table: {e}")))?;
        sink.write(piece)?;
        sink.finish(|| Ok(None))
    }
}

/// What a worker does with a chunk: read, and compute the chunk's state.
struct Work<'a, J> {
    job: &'a J,
    reader: &'a Reader,
}

impl<J: ReduceJob> pipeline::Job for Work<'_, J> {
    type Part = (J::State, RejectLines);

    fn process(&self, chunk: &Chunk) -> Result<Self::Part> {
        let (parsed, rejects) = self.reader.read(chunk)?;
        Ok((self.job.partial(chunk, parsed)?, rejects))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.reader.panicked(chunk, &message)
    }
}
