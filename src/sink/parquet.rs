//! Parquet, written by polars' batched writer: one row group per chunk, the footer at the
//! end. polars owns the writer it writes to, so each row group passes through a buffer.

use std::io::Write;
use std::sync::{Arc, Mutex};

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;

use super::frames::FrameFile;
use crate::write::Output;

/// The Parquet file of a run; the writer is made with the first frame's schema.
#[derive(Default)]
pub struct Parquet {
    writer: Option<BatchedWriter<Buffer>>,
    buffer: Buffer,
}

impl FrameFile for Parquet {
    fn write(&mut self, out: &mut Output, df: &mut DataFrame) -> PolarsResult<()> {
        if self.writer.is_none() {
            let w = ParquetWriter::new(self.buffer.clone()).batched(df.schema())?;
            self.writer = Some(w);
        }
        self.writer.as_mut().expect("made above").write_batch(df)?;
        self.buffer.drain_into(out)
    }

    fn finish(&mut self, out: &mut Output) -> PolarsResult<()> {
        if let Some(w) = &self.writer {
            w.finish()?;
        }
        self.buffer.drain_into(out)
    }
}

/// Bytes polars has written and the output has not yet taken.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn drain_into(&self, out: &mut Output) -> PolarsResult<()> {
        let mut bytes = self.0.lock().expect("parquet buffer");
        Write::write_all(out, &bytes)?;
        bytes.clear();
        Ok(())
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("parquet buffer")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
