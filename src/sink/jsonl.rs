//! JSON lines, written by polars' JSON writer: one object per row, chunk after chunk.

use polars::prelude::*;

use super::frames::FrameFile;
use crate::write::Output;

pub struct Jsonl;

impl FrameFile for Jsonl {
    fn write(&mut self, out: &mut Output, df: &mut DataFrame) -> PolarsResult<()> {
        JsonWriter::new(out)
            .with_json_format(JsonFormat::JsonLines)
            .finish(df)
    }

    fn finish(&mut self, _: &mut Output) -> PolarsResult<()> {
        Ok(())
    }
}
