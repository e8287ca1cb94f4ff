//! A shard's run (`--shard I/N`): its inputs are one byte range of one file, and once its
//! part is committed it writes the manifest that `dfpar merge` checks.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::Result;
use crate::format::Family;
use crate::read::{Inputs, Reached};
use crate::request::{Request, Run, Work};
use crate::shard::manifest::{InputFile, Manifest, Part, VERSION};
use crate::shard::{Shard, Start};

/// What a shard's manifest records, gathered while it runs.
pub(super) struct ShardPart {
    shard: Shard,
    input: InputFile,
    pub(super) start: Start,
    data_start: u64,
    reached: Arc<Reached>,
}

/// Opens shard `shard` of the run's one input file (its start found exactly when `exact`).
pub(super) fn open(
    req: &Request,
    run: &Run,
    shard: Shard,
    exact: bool,
) -> Result<(Inputs, ShardPart)> {
    let source = run.inputs[0].clone();
    let input = InputFile::of(source.path().expect("a shard reads a file"))?;
    let (inputs, start) = Inputs::open_shard(source, &req.dialect, req.chunk_size, shard, exact)?;
    let part = ShardPart {
        shard,
        input,
        start,
        data_start: inputs.first().header_bytes,
        reached: inputs.reached.clone(),
    };
    Ok((inputs, part))
}

impl ShardPart {
    /// Writes the manifest beside the committed part.
    pub(super) fn write_manifest(self, req: &Request, run: &Run) -> Result<()> {
        let part = match &req.work {
            Work::Columns { .. } | Work::Frame(_) => Part::State,
            _ => {
                let delimiter = match run.format.family() {
                    Family::Text { delimiter } => delimiter.unwrap_or(req.dialect.delimiter),
                    Family::Frames(_) => req.dialect.delimiter,
                };
                let row_index = !req.settings.ordered();
                Part::rows(run.format, req.dialect.has_header, row_index, delimiter)
            }
        };
        let manifest = Manifest {
            version: VERSION.into(),
            input: self.input,
            shard: self.shard,
            data_start: self.data_start,
            start: self.start.offset,
            end: self.reached.offset.load(Ordering::Relaxed),
            exact_start: self.start.exact,
            rows: self.reached.rows.load(Ordering::Relaxed),
            options: req.options.clone(),
            part,
            part_bytes: 0,
        };
        manifest.write(run.output.as_deref().expect("a shard writes a file"))
    }
}
