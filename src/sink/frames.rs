//! Typed frames for the formats polars writes: in a worker, a batch becomes a DataFrame of
//! `[row_index,]` every input column typed `[, new columns]`; a `FrameFile` writes them.

use polars::prelude::*;

use super::{Batch, Encoder, Layout, Writer};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::infer;
use crate::write::Output;

/// A file format polars writes from frames, one frame per chunk, in order.
pub trait FrameFile: Send {
    fn write(&mut self, out: &mut Output, df: &mut DataFrame) -> PolarsResult<()>;
    /// After the last frame (there is always at least one).
    fn finish(&mut self, out: &mut Output) -> PolarsResult<()>;
}

/// Encodes batches as typed frames.
pub struct Frames {
    /// The input's columns as polars types, and how its records are written.
    schema: SchemaRef,
    dialect: Dialect,
    layout: Layout,
}

impl Frames {
    pub fn new(schema: SchemaRef, dialect: &Dialect, layout: Layout) -> Frames {
        Frames {
            schema,
            dialect: dialect.clone(),
            layout,
        }
    }
}

impl Encoder for Frames {
    type Piece = DataFrame;

    fn encode(&self, batch: &Batch) -> PolarsResult<DataFrame> {
        let mut df = match &batch.records {
            Some(_) => infer::frame_of_records(
                &batch.lines(),
                batch.height,
                self.schema.clone(),
                &self.dialect,
            )?,
            None => DataFrame::new(batch.height, Vec::new())?,
        };
        for s in &batch.columns {
            df.with_column(s.clone().into_column())?;
        }
        if self.layout.row_index {
            df.insert_column(0, batch.index().into_column())?;
        }
        // polars' writers take columns cut into the same chunks.
        df.align_chunks();
        Ok(df)
    }
}

/// Writes frames to a file format; its errors are output errors naming the path.
pub struct FrameWriter(pub Box<dyn FrameFile>);

impl Writer for FrameWriter {
    type Piece = DataFrame;

    fn write(&mut self, out: &mut Output, mut df: DataFrame, _first: bool) -> Result<()> {
        self.0.write(out, &mut df).map_err(|e| output_err(out, e))
    }

    fn finish(&mut self, out: &mut Output) -> Result<()> {
        self.0.finish(out).map_err(|e| output_err(out, e))
    }
}

/// A polars error while writing: an output error naming the path, with polars' reason.
fn output_err(out: &Output, e: PolarsError) -> Error {
    let source = match e {
        PolarsError::IO { error, .. } => std::io::Error::new(error.kind(), error.to_string()),
        other => std::io::Error::other(other.to_string()),
    };
    Error::Output {
        path: out.path().to_path_buf(),
        source,
    }
}
