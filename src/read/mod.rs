//! Reading the inputs: each source opened, its header taken off, its bytes cut into chunks
//! of whole records (`splitter.rs`); several inputs read as one stream, numbered across.

mod source;
mod splitter;

pub use source::Source;
pub use splitter::Splitter;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::shard::{Shard, Start};

/// A piece of the input made of whole records, as handed to a worker.
#[derive(Debug)]
pub struct Chunk {
    /// 0-based position in the input.
    pub seq: u64,
    pub bytes: Vec<u8>,
    /// 1-based line number of the chunk's first line in the input (in a shard whose
    /// start was found fast, in the shard: see `Splitter::line_base`).
    pub first_line: u64,
    /// 0-based index of the chunk's first row among all data rows (in a shard, among
    /// the shard's rows).
    pub first_row: u64,
    /// Number of (non-blank) records in the chunk.
    pub rows: u64,
    /// Number of line endings in the chunk.
    pub lines: u64,
    /// Which input it comes from (index into the list of inputs).
    pub source: usize,
    /// The byte offset of its first byte in that input.
    pub offset: u64,
    /// Its share of the input's bytes as read (compressed, when the input is): progress.
    pub input_bytes: u64,
}

impl Chunk {
    pub fn last_line(&self) -> u64 {
        self.first_line + self.lines.saturating_sub(1)
    }
}

/// The header record: its names and its raw bytes (without BOM and line ending).
#[derive(Clone, Debug)]
pub struct Header {
    pub names: Vec<String>,
    pub raw: Option<Vec<u8>>,
}

/// The chunk size unless one is given.
const DEFAULT_CHUNK_SIZE: usize = 4 << 20;

/// The chunk size for a row or column job of `numbers` parsed numbers per record, when its sample
/// holds `bytes` bytes of `records` records: the default, or less (not under 256 KiB) when
/// the records are narrow and a chunk's values (8 bytes each) would take over 2 MiB. A
/// worker's whole working set (input, values, output) then stays in the caches: T1 at
/// `--jobs 2` runs about 10% faster at 512 KiB than at 4 MiB.
fn chunk_size_for(numbers: usize, bytes: usize, records: usize) -> usize {
    const VALUES: usize = 2 << 20;
    if numbers == 0 || records == 0 {
        return DEFAULT_CHUNK_SIZE;
    }
    let per_record = bytes.div_ceil(records);
    let fit = VALUES / (8 * numbers) * per_record;
    fit.clamp(256 << 10, DEFAULT_CHUNK_SIZE)
}

/// Several inputs read as one stream: the header of each must equal the first one's, and
/// chunks are numbered across all of them (`seq`, `first_row`), lines within their file.
pub struct Inputs {
    sources: Vec<Source>,
    names: Vec<String>,
    current: Splitter,
    index: usize,
    dialect: Dialect,
    chunk_size: usize,
    seq: u64,
    rows: u64,
    /// Total size when every input's is known (for progress).
    pub size: Option<u64>,
    /// How far the chunks handed out reach.
    pub reached: Arc<Reached>,
}

/// How far the chunks handed out reach: the offset after the last one (in its input) and
/// the data rows in them all.
#[derive(Debug, Default)]
pub struct Reached {
    pub offset: AtomicU64,
    pub rows: AtomicU64,
}

impl Inputs {
    /// Opens the first input (header, first block); the others are opened in turn. Chunks
    /// of about `chunk_size` bytes, by default 4 MiB.
    pub fn open(
        sources: Vec<Source>,
        dialect: &Dialect,
        chunk_size: Option<usize>,
    ) -> Result<Inputs> {
        let chunk_size = chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
        let first = sources.first().expect("at least one input");
        let current = Splitter::open(first, dialect, chunk_size)?;
        // Every header is checked before any work starts (stdin, readable once, when reached).
        for source in sources
            .iter()
            .skip(1)
            .filter(|s| !matches!(s, Source::Stdin))
        {
            check_header(
                &current,
                &Splitter::open(source, dialect, 1)?,
                &first.name(),
            )?;
        }
        let size = sources.iter().map(Source::size).sum::<Option<u64>>();
        Ok(Inputs::of(sources, current, dialect, chunk_size, size))
    }

    /// Opens shard `shard` of the one file `source` (see [`Splitter::open_shard`]), in
    /// chunks as [`Inputs::open`] cuts them.
    pub fn open_shard(
        source: Source,
        dialect: &Dialect,
        chunk_size: Option<usize>,
        shard: Shard,
        exact: bool,
    ) -> Result<(Inputs, Start)> {
        let chunk_size = chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
        let (current, start) = Splitter::open_shard(&source, dialect, chunk_size, shard, exact)?;
        let size = current
            .size
            .map(|size| shard.range(size).1.saturating_sub(start.offset));
        let inputs = Inputs::of(vec![source], current, dialect, chunk_size, size);
        inputs.reached.offset.store(start.offset, Ordering::Relaxed);
        Ok((inputs, start))
    }

    fn of(
        sources: Vec<Source>,
        current: Splitter,
        dialect: &Dialect,
        chunk_size: usize,
        size: Option<u64>,
    ) -> Inputs {
        Inputs {
            names: sources.iter().map(Source::name).collect(),
            sources,
            current,
            index: 0,
            dialect: dialect.clone(),
            chunk_size,
            seq: 0,
            rows: 0,
            size,
            reached: Arc::default(),
        }
    }

    /// The first input's splitter (header, sample for inference).
    pub fn first(&self) -> &Splitter {
        &self.current
    }

    /// Cuts narrow records of `numbers` parsed numbers into smaller chunks than the default
    /// (`chunk_size_for`), judging their width by the first input's sample.
    pub fn fit_chunk_size(&mut self, numbers: usize) {
        let sample = self.current.sample();
        let records = memchr::memchr_iter(b'\n', sample).count();
        self.set_chunk_size(chunk_size_for(numbers, sample.len(), records));
    }

    /// Cuts the chunks not yet handed out to about `chunk_size` bytes, in every input.
    fn set_chunk_size(&mut self, chunk_size: usize) {
        self.chunk_size = chunk_size;
        self.current.set_chunk_size(chunk_size);
    }

    /// The names of the inputs, for messages.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        loop {
            if let Some(mut chunk) = self.current.next_chunk()? {
                chunk.seq = self.seq;
                chunk.first_row += self.rows;
                chunk.source = self.index;
                self.seq += 1;
                let reached = &self.reached;
                reached
                    .offset
                    .store(self.current.offset(), Ordering::Relaxed);
                reached.rows.fetch_add(chunk.rows, Ordering::Relaxed);
                return Ok(Some(chunk));
            }
            if self.index + 1 == self.sources.len() {
                return Ok(None);
            }
            self.rows += self.current.next_row;
            self.index += 1;
            let next = Splitter::open(&self.sources[self.index], &self.dialect, self.chunk_size)?;
            check_header(&self.current, &next, &self.names[0])?;
            self.current = next;
        }
    }
}

/// The header of `next` must equal that of `first` (named `first_name`).
fn check_header(first: &Splitter, next: &Splitter, first_name: &str) -> Result<()> {
    let (want, got) = (&first.header().names, &next.header().names);
    if want == got {
        return Ok(());
    }
    Err(next.data_err(
        Some(1),
        format!(
            "the header differs from {first_name}'s: found {}, expected {}",
            got.join(","),
            want.join(",")
        ),
    ))
}

impl Iterator for Inputs {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// The end of the first record (after its line ending), quote-aware.
pub fn first_record_end(buf: &[u8], quote: u8) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in buf.iter().enumerate() {
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            return Some(i + 1);
        }
    }
    None
}

/// The fields of one record, unquoted (used for the header only).
pub fn split_fields(record: &[u8], dialect: &Dialect) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .from_reader(record);
    let mut out = csv::StringRecord::new();
    match reader.read_record(&mut out) {
        Ok(_) => Ok(out.iter().map(str::to_string).collect()),
        Err(e) => Err(match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8".to_string(),
            _ => e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_rows_of_many_numbers_get_smaller_chunks() {
        // T1: 10-byte records of 5 numbers: about 512 KiB (2 MiB of values).
        assert!((500 << 10..=530 << 10).contains(&chunk_size_for(5, 10_000, 1_000)));
        // T3: 180-byte records of which 2 numbers are parsed: the default.
        assert_eq!(chunk_size_for(2, 180_000, 1_000), DEFAULT_CHUNK_SIZE);
        // Never under 256 KiB; nothing parsed or no sample: the default.
        assert_eq!(chunk_size_for(100, 4_000, 1_000), 256 << 10);
        assert_eq!(chunk_size_for(0, 4_000, 1_000), DEFAULT_CHUNK_SIZE);
        assert_eq!(chunk_size_for(3, 0, 0), DEFAULT_CHUNK_SIZE);
    }

    #[test]
    fn a_new_chunk_size_cuts_the_chunks_not_yet_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let body: String = (0..100_000).map(|i| format!("{},{}\n", i % 7, i)).collect();
        std::fs::write(&path, format!("a,b\n{body}")).unwrap();
        let d = Dialect::default();
        let mut inputs = Inputs::open(vec![Source::File(path)], &d, None).unwrap();
        inputs.set_chunk_size(64 << 10);
        let chunks: Vec<Chunk> = inputs.map(|c| c.unwrap()).collect();
        assert!(
            chunks.len() >= body.len() / (64 << 10),
            "{} chunks",
            chunks.len()
        );
        assert!(chunks.iter().all(|c| c.bytes.len() <= (64 << 10) + 16));
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, body.as_bytes());
        assert_eq!(chunks.iter().map(|c| c.rows).sum::<u64>(), 100_000);
    }
}
