//! The output side of `apply`: encoders turn neutral batches into pieces of one format
//! (in the workers); one sink writes the pieces in order and commits the atomic output.

pub mod batch;
pub mod frames;
pub mod jsonl;
pub mod parquet;
pub mod rejects;
pub mod text;

pub use crate::parse::Rows;
pub use batch::{Batch, Records};
pub use rejects::{RejectLines, Rejects};

use polars::prelude::PolarsResult;

use crate::error::Result;
use crate::write::Output;

/// The columns every piece of an output has, beside the batch's own.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// A first column `row_index` (unordered mode).
    pub row_index: bool,
    /// A header line (or names); false for rows of an input without a header.
    pub header: bool,
}

/// Turns a batch into a piece of output, in a worker, so encoding runs in parallel.
pub trait Encoder: Sync {
    type Piece: Send;
    fn encode(&self, batch: &Batch) -> PolarsResult<Self::Piece>;
}

/// Writes the pieces of one format family to the output, in order.
pub trait Writer {
    type Piece;
    /// `first`: no piece was written before this one.
    fn write(&mut self, out: &mut Output, piece: Self::Piece, first: bool) -> Result<()>;
    /// After the last piece (a file format's footer).
    fn finish(&mut self, out: &mut Output) -> Result<()>;
}

/// What a run writes: its output, and the rows it skips.
pub struct Outputs {
    pub out: Output,
    pub rejects: Rejects,
}

impl Outputs {
    /// Moves the outputs into place once the whole run succeeded; reports the skipped rows.
    pub fn commit(self, inputs: &[String]) -> Result<()> {
        self.rejects.commit(inputs)?;
        self.out.commit()
    }
}

/// The one owner of the output during a run: the header with the first piece, the empty-input
/// rule, the skipped rows of every chunk.
pub struct Sink<W: Writer> {
    outputs: Outputs,
    writer: W,
    written: bool,
}

impl<W: Writer> Sink<W> {
    pub fn new(outputs: Outputs, writer: W) -> Sink<W> {
        Sink {
            outputs,
            writer,
            written: false,
        }
    }

    pub fn write(&mut self, piece: W::Piece) -> Result<()> {
        let first = !self.written;
        self.written = true;
        self.writer.write(&mut self.outputs.out, piece, first)
    }

    pub fn reject(&mut self, lines: RejectLines) -> Result<()> {
        self.outputs.rejects.write(lines)
    }

    /// Ends the output. An input without rows still gets the piece of an empty batch
    /// (a header, a schema), when `empty` gives one.
    pub fn finish(mut self, empty: impl FnOnce() -> Result<Option<W::Piece>>) -> Result<Outputs> {
        if !self.written {
            if let Some(piece) = empty()? {
                self.write(piece)?;
            }
        }
        self.writer.finish(&mut self.outputs.out)?;
        Ok(self.outputs)
    }
}
