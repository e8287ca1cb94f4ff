//! Jobs whose output is streamed (row functions, `--where`, `--cmd`): each chunk becomes a
//! batch and is encoded in its worker; the sink writes the pieces as the engine releases them.

use super::reader::Reader;
use super::Env;
use crate::error::{Error, Result};
use crate::format::Family;
use crate::parse::Parsed;
use crate::pipeline;
use crate::read::{Chunk, Inputs};
use crate::sink::frames::{FrameWriter, Frames};
use crate::sink::text::{Compressed, Delimited, TextWriter};
use crate::sink::{Batch, Encoder, Layout, Outputs, RejectLines, Sink, Writer};

/// A job that turns each chunk into a batch of output rows.
pub(super) trait BatchJob: Sync {
    fn layout(&self) -> Layout;
    fn batch<'c>(&self, chunk: &'c Chunk, parsed: Parsed) -> Result<Batch<'c>>;
    /// The batch of an input without rows, whose piece gives the output its header or
    /// schema; `None` for an output that stays empty.
    fn empty(&self, reader: &Reader) -> Result<Option<Batch<'static>>> {
        let (parsed, _) = reader.read(&EMPTY)?;
        self.batch(&EMPTY, parsed).map(Some)
    }
}

/// A chunk of no records.
static EMPTY: Chunk = Chunk {
    seq: 0,
    bytes: Vec::new(),
    first_line: 1,
    first_row: 0,
    rows: 0,
    lines: 0,
    source: 0,
    offset: 0,
    input_bytes: 0,
};

/// Something to do with the encoder and the sink of the run's format.
pub(super) trait WithOutput {
    fn run<E, W>(self, encoder: &E, sink: Sink<W>) -> Result<Outputs>
    where
        E: Encoder,
        W: Writer<Piece = E::Piece>;
}

/// Calls `then` with the encoder and sink of the run's format family.
pub(super) fn with_output(
    env: &Env,
    layout: Layout,
    outputs: Outputs,
    then: impl WithOutput,
) -> Result<Outputs> {
    let dialect = &env.req.dialect;
    match (env.run.format.family(), env.run.compress) {
        (Family::Text { delimiter }, None) => then.run(
            &Delimited::new(dialect, delimiter, layout),
            Sink::new(outputs, TextWriter),
        ),
        (Family::Text { delimiter }, Some(codec)) => then.run(
            &Compressed::new(Delimited::new(dialect, delimiter, layout), codec),
            Sink::new(outputs, TextWriter),
        ),
        (Family::Frames(file), _) => then.run(
            &Frames::new(env.plan.schema.clone(), dialect, layout),
            Sink::new(outputs, FrameWriter(file)),
        ),
    }
}

/// Streams `job` over every chunk of `inputs` into the outputs.
pub(super) fn run<J: BatchJob>(
    job: &J,
    env: &Env,
    inputs: Inputs,
    outputs: Outputs,
) -> Result<Outputs> {
    with_output(env, job.layout(), outputs, Streamed { job, env, inputs })
}

struct Streamed<'a, J> {
    job: &'a J,
    env: &'a Env<'a>,
    inputs: Inputs,
}

impl<J: BatchJob> WithOutput for Streamed<'_, J> {
    fn run<E, W>(self, encoder: &E, mut sink: Sink<W>) -> Result<Outputs>
    where
        E: Encoder,
        W: Writer<Piece = E::Piece>,
    {
        let reader = self.env.reader;
        let work = Work {
            job: self.job,
            encoder,
            reader,
        };
        let settings = self.env.req.settings;
        pipeline::run(
            self.inputs,
            &work,
            settings,
            self.env.progress,
            |(piece, rejects)| {
                sink.reject(rejects)?;
                sink.write(piece)
            },
        )?;
        sink.finish(|| match self.job.empty(reader)? {
            Some(batch) => encoder
                .encode(&batch)
                .map(Some)
                .map_err(|e| Error::Internal(e.to_string())),
            None => Ok(None),
        })
    }
}

/// What a worker does with a chunk: read, batch, encode.
struct Work<'a, J, E> {
    job: &'a J,
    encoder: &'a E,
    reader: &'a Reader,
}

impl<J: BatchJob, E: Encoder> pipeline::Job for Work<'_, J, E> {
    type Part = (E::Piece, RejectLines);

    fn process(&self, chunk: &Chunk) -> Result<Self::Part> {
        let (parsed, rejects) = self.reader.read(chunk)?;
        let batch = self.job.batch(chunk, parsed)?;
        let piece = self
            .encoder
            .encode(&batch)
            .map_err(|e| self.reader.chunk_err(chunk, e))?;
        Ok((piece, rejects))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.reader.panicked(chunk, &message)
    }
}
