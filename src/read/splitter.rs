//! The splitter: reads one input in blocks, takes the header off the first one, and cuts
//! the rest into chunks of whole records, each numbered in sequence.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use super::{first_record_end, split_fields, Chunk, Header, Source};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::compress::Codec;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::records;
use crate::shard::{self, LineBase, Shard, Start};

/// Bytes read before the first chunk is cut, for schema inference.
const SAMPLE_BYTES: usize = 1 << 20;

/// Reads the input and yields chunks of whole records of about `chunk_size` bytes.
/// A record longer than `chunk_size` makes its chunk grow; it is never cut.
pub struct Splitter {
    reader: Box<dyn Read + Send>,
    path: String,
    dialect: Dialect,
    chunk_size: usize,
    /// Bytes read; those from `head` on are not yet handed out and start at a record boundary.
    pending: Vec<u8>,
    head: usize,
    eof: bool,
    seq: u64,
    next_line: u64,
    pub(super) next_row: u64,
    header: Option<Header>,
    /// The input offset of `pending[head]`.
    offset: u64,
    /// A shard's end: records that start at or after this offset are not handed out.
    end: Option<u64>,
    /// A shard's copy of the input's first records, for inference, and their first line.
    sample: Option<Vec<u8>>,
    sample_line: u64,
    /// What line numbers count from (a shard's lines, from its first record).
    pub line_base: Arc<LineBase>,
    /// The compression of the input, if any, and its input bytes per chunk.
    codec: Option<Codec>,
    meter: Meter,
    /// Total size of the input when known (compressed, when it is; for progress).
    pub size: Option<u64>,
    /// Bytes of the input consumed by the header and BOM, decoded and as read.
    pub header_bytes: u64,
    pub header_input_bytes: u64,
}

/// A chunk's share of the input's bytes as read, for progress: its own length, or for a
/// compressed input its share of the compressed bytes read so far.
#[derive(Default)]
struct Meter {
    /// The compressed bytes read (a compressed input only).
    raw: Option<Arc<AtomicU64>>,
    decoded: u64,
    reported: u64,
}

impl Meter {
    fn share(&mut self, len: u64, last: bool) -> u64 {
        let Some(raw) = &self.raw else { return len };
        let raw = raw.load(Ordering::Relaxed);
        let share = match last {
            true => raw.saturating_sub(self.reported),
            false => (len as u128 * raw as u128 / self.decoded.max(1) as u128) as u64,
        };
        let share = share.min(raw.saturating_sub(self.reported));
        self.reported += share;
        share
    }
}

impl Splitter {
    /// Opens `source`, reads the first block and the header. An empty input is an error.
    pub fn open(source: &Source, dialect: &Dialect, chunk_size: usize) -> Result<Splitter> {
        let opened = source.open()?;
        let mut s = Splitter::new(
            opened.reader,
            source.name(),
            opened.size,
            dialect,
            chunk_size,
        );
        if let Some((codec, raw_read)) = opened.decoding {
            s.codec = Some(codec);
            s.meter.raw = Some(raw_read);
        }
        s.start()
    }

    /// As `open`, over any reader; `name` is used in messages.
    pub fn from_reader(
        reader: Box<dyn Read + Send>,
        name: String,
        size: Option<u64>,
        dialect: &Dialect,
        chunk_size: usize,
    ) -> Result<Splitter> {
        Splitter::new(reader, name, size, dialect, chunk_size).start()
    }

    fn new(
        reader: Box<dyn Read + Send>,
        name: String,
        size: Option<u64>,
        dialect: &Dialect,
        chunk_size: usize,
    ) -> Splitter {
        Splitter {
            reader,
            path: name,
            dialect: dialect.clone(),
            chunk_size: chunk_size.max(1),
            pending: Vec::new(),
            head: 0,
            eof: false,
            seq: 0,
            next_line: 1,
            next_row: 0,
            header: None,
            offset: 0,
            end: None,
            sample: None,
            sample_line: 1,
            line_base: Arc::new(LineBase::none()),
            codec: None,
            meter: Meter::default(),
            size,
            header_bytes: 0,
            header_input_bytes: 0,
        }
    }

    /// Reads the first block and the header. An empty input is an error.
    fn start(mut self) -> Result<Splitter> {
        let s = &mut self;
        // The first block also feeds schema inference, whatever the chunk size.
        s.fill(s.chunk_size.max(SAMPLE_BYTES))?;
        if s.pending.is_empty() {
            return Err(s.data_err(None, "the input is empty (expected a CSV header)"));
        }
        if s.pending.starts_with(b"\xEF\xBB\xBF") {
            s.head = 3;
            s.offset = 3;
            s.header_bytes = 3;
            if s.rest().is_empty() {
                return Err(s.data_err(None, "the input is empty (expected a CSV header)"));
            }
        }
        s.header = Some(s.read_header()?);
        s.sample_line = s.next_line;
        s.header_input_bytes = s.meter.share(s.header_bytes, false);
        while !s.eof && records::last_record_end(s.rest(), s.dialect.quote).is_none() {
            let want = s.rest().len() * 2;
            s.fill(want)?;
        }
        Ok(self)
    }

    /// Opens shard `shard` of the file `source`: the header and the sample come from the
    /// start of the file; the chunks hold the records that start in the shard's byte range
    /// (its start found by counting the quotes before it when `exact`).
    pub fn open_shard(
        source: &Source,
        dialect: &Dialect,
        chunk_size: usize,
        shard: Shard,
        exact: bool,
    ) -> Result<(Splitter, Start)> {
        let mut s = Splitter::open(source, dialect, chunk_size)?;
        if let Some(codec) = s.codec {
            return Err(s.data_err(
                None,
                format!("--shard needs an uncompressed file: a {} stream cannot be entered at a byte offset; decompress it first", codec.name()),
            ));
        }
        let (Source::File(path), Some(size)) = (source, s.size) else {
            return Err(s.data_err(
                None,
                "--shard needs a regular file: each shard reads its own byte range of it",
            ));
        };
        let (from, end) = shard.range(size);
        let fast = (!exact).then_some(s.chunk_size.max(SAMPLE_BYTES));
        let header_lines = s.next_line - 1;
        let start = shard::find_start(path, from, s.offset, header_lines, dialect.quote, fast)?;
        s.sample = Some(s.sample().to_vec());
        s.seek(path, start.offset)?;
        s.end = Some(end);
        s.next_row = 0;
        (s.next_line, s.line_base) = match start.lines_before {
            Some(lines) => (lines + 1, Arc::new(LineBase::none())),
            None => (1, Arc::new(LineBase::lazy(path.clone(), start.offset))),
        };
        Ok((s, start))
    }

    /// Moves on to offset `to` (a record start): within the bytes read, or by seeking.
    fn seek(&mut self, path: &Path, to: u64) -> Result<()> {
        let ahead = to - self.offset;
        if ahead <= self.rest().len() as u64 {
            self.head += ahead as usize;
        } else {
            let input_err = |source| Error::Input {
                path: self.path.clone(),
                what: "cannot read",
                source,
            };
            let mut file = File::open(path).map_err(input_err)?;
            file.seek(SeekFrom::Start(to)).map_err(input_err)?;
            self.reader = Box::new(file);
            self.pending.clear();
            self.head = 0;
            self.eof = false;
        }
        self.offset = to;
        Ok(())
    }

    /// The 1-based line number where the sample starts (the line after the header).
    pub fn sample_line(&self) -> u64 {
        self.sample_line
    }

    /// The input offset where the next chunk starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The header: the file's own or, with `--no-header`, names `column_1` … `column_K`
    /// taken from the width of the first record.
    pub fn header(&self) -> &Header {
        self.header.as_ref().expect("header is read on open")
    }

    /// The first block's whole records, for schema inference.
    pub fn sample(&self) -> &[u8] {
        if let Some(sample) = &self.sample {
            return sample;
        }
        let rest = self.rest();
        let end = if self.eof {
            rest.len()
        } else {
            records::last_record_end(rest, self.dialect.quote).unwrap_or(0)
        };
        &rest[..end]
    }

    /// Cuts the next chunks to about `chunk_size` bytes.
    pub fn set_chunk_size(&mut self, chunk_size: usize) {
        self.chunk_size = chunk_size.max(1);
    }

    /// The bytes read but not yet handed out.
    fn rest(&self) -> &[u8] {
        &self.pending[self.head..]
    }

    pub(super) fn data_err(&self, line: Option<u64>, message: impl Into<String>) -> Error {
        Error::Data {
            path: self.path.clone(),
            line: line.map(|l| l + self.line_base.get()),
            message: message.into(),
        }
    }

    /// Reads until `pending` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.pending.len() - self.head < want {
            if self.head > 0 {
                self.pending.drain(..self.head);
                self.head = 0;
            }
            let need = want - self.pending.len();
            self.pending.reserve(need);
            let before = self.pending.len();
            let read = (&mut self.reader)
                .take(need as u64)
                .read_to_end(&mut self.pending);
            self.meter.decoded += (self.pending.len() - before) as u64;
            match read {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let what = match self.codec {
                        Some(_) => "cannot decompress",
                        None => "cannot read",
                    };
                    return Err(Error::Input {
                        path: self.path.clone(),
                        what,
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    /// Takes the first record off `pending`: the header, or with `--no-header` only its width.
    fn read_header(&mut self) -> Result<Header> {
        let end = loop {
            if let Some(end) = first_record_end(self.rest(), self.dialect.quote) {
                break end;
            }
            if self.eof {
                if records::ends_quoted(self.rest(), self.dialect.quote) {
                    return Err(self.data_err(Some(1), "unterminated quoted field"));
                }
                break self.rest().len();
            }
            let want = self.rest().len() * 2;
            self.fill(want)?;
        };
        let mut record = &self.rest()[..end];
        while let Some(r) = record
            .strip_suffix(b"\n")
            .or_else(|| record.strip_suffix(b"\r"))
        {
            record = r;
        }
        let fields = split_fields(record, &self.dialect)
            .map_err(|e| self.data_err(Some(1), format!("cannot read the header: {e}")))?;
        if !self.dialect.has_header {
            let names = (1..=fields.len()).map(|i| format!("column_{i}")).collect();
            return Ok(Header { names, raw: None });
        }
        let mut names = Vec::with_capacity(fields.len());
        for (i, f) in fields.into_iter().enumerate() {
            let name = if f.is_empty() {
                format!("column_{}", i + 1)
            } else {
                f
            };
            if names.contains(&name) {
                return Err(self.data_err(
                    Some(1),
                    format!("duplicate column name '{name}' in the header"),
                ));
            }
            names.push(name);
        }
        let raw = Some(record.to_vec());
        let lines = self.rest()[..end].iter().filter(|&&b| b == b'\n').count() as u64;
        self.next_line += lines;
        self.header_bytes += end as u64;
        self.head += end;
        self.offset += end as u64;
        Ok(Header { names, raw })
    }

    /// The next chunk of whole records, or `None` at the end of the input.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        if self.end.is_some_and(|end| self.offset >= end) {
            return Ok(None);
        }
        let mut cut = self.cut()?;
        if let Some(end) = self.end.filter(|&end| self.offset + cut as u64 > end) {
            cut = self.cut_at_end(end)?;
        }
        if cut == 0 {
            return Ok(None);
        }
        if cut > u32::MAX as usize {
            let line = self.next_line;
            return Err(self.data_err(Some(line), "a record of 4 GiB or more cannot be processed"));
        }
        let offset = self.offset;
        let bytes = if self.head == 0 && cut * 2 >= self.pending.len() {
            // The usual case: the chunk is most of the buffer; keep the short tail.
            let tail = self.pending.split_off(cut);
            std::mem::replace(&mut self.pending, tail)
        } else {
            let b = self.pending[self.head..self.head + cut].to_vec();
            self.head += cut;
            b
        };
        self.offset += cut as u64;
        let last = self.eof && self.rest().is_empty();
        let input_bytes = self.meter.share(cut as u64, last);
        let (lines, rows) =
            records::count_lines_and_rows(&bytes, self.dialect.delimiter, self.dialect.quote);
        let chunk = Chunk {
            seq: self.seq,
            bytes,
            first_line: self.next_line,
            first_row: self.next_row,
            rows,
            lines,
            source: 0,
            offset,
            input_bytes,
        };
        self.seq += 1;
        self.next_line += lines;
        self.next_row += rows;
        Ok(Some(chunk))
    }

    /// Where the next chunk ends: after the last whole record of about `chunk_size` bytes.
    fn cut(&mut self) -> Result<usize> {
        let quote = self.dialect.quote;
        let mut want = self.chunk_size;
        let cut = loop {
            self.fill(want)?;
            let rest = self.rest();
            let window = &rest[..want.min(rest.len())];
            if let Some(cut) = records::last_record_end(window, quote) {
                break cut;
            }
            if self.eof && window.len() == rest.len() {
                // The last record, without a line ending.
                if records::ends_quoted(rest, quote) {
                    let line = self.next_line;
                    return Err(self.data_err(
                        Some(line),
                        "unterminated quoted field (a quote opened on or after this line is never closed)",
                    ));
                }
                break rest.len();
            }
            // A record longer than the chunk: grow the chunk rather than cut the record.
            want = want.saturating_mul(2);
        };
        Ok(cut)
    }

    /// Where a shard's last chunk ends: after the record that holds byte `end - 1`.
    fn cut_at_end(&mut self, end: u64) -> Result<usize> {
        let from = (end - self.offset - 1) as usize;
        let mut want = from + 1;
        loop {
            self.fill(want)?;
            if let Some(cut) = records::record_end_from(self.rest(), from, self.dialect.quote) {
                return Ok(cut);
            }
            if self.eof {
                return Ok(self.rest().len());
            }
            want = self.rest().len() * 2;
        }
    }
}

impl Iterator for Splitter {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A CSV field: plain, or quoted because it holds delimiters, quotes or line breaks.
    fn field() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ab,\"\n]{0,6}|(\r\n)").unwrap()
    }

    fn encode_csv(rows: &[Vec<String>], crlf: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            let fields: Vec<String> = row
                .iter()
                .map(|f| {
                    if f.contains([',', '"', '\n', '\r']) || f.is_empty() {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect();
            out.extend_from_slice(fields.join(",").as_bytes());
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        out
    }

    /// Records as the csv crate reads them in one pass over the whole input.
    fn one_pass(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        r.byte_records()
            .map(|rec| rec.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    /// Records as the splitter cuts them into chunks and the scanner finds them.
    fn chunked(bytes: &[u8], chunk_size: usize) -> (Vec<Vec<Vec<u8>>>, u64) {
        let d = Dialect::default();
        let reader = Box::new(std::io::Cursor::new(bytes.to_vec()));
        let mut s = Splitter::from_reader(reader, "t".into(), None, &d, chunk_size).unwrap();
        let mut out = one_pass(s.header().raw.as_deref().unwrap());
        let mut counted = 0;
        while let Some(chunk) = s.next_chunk().unwrap() {
            assert_eq!(chunk.first_row, counted, "rows are numbered across chunks");
            counted += chunk.rows;
            let mut seen = 0;
            records::for_each_record(&chunk.bytes, b',', b'"', |r| {
                seen += 1;
                out.extend(one_pass(&chunk.bytes[r.start..r.end]));
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(seen, chunk.rows, "the producer's count matches the scan");
        }
        (out, counted)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn chunks_hold_the_same_records_as_one_pass(
            rows in proptest::collection::vec(proptest::collection::vec(field(), 2..4), 1..40),
            chunk_size in 1usize..64,
            crlf in any::<bool>(),
        ) {
            let mut bytes = b"h0,h1\n".to_vec();
            bytes.extend(encode_csv(&rows, crlf));
            let (records, counted) = chunked(&bytes, chunk_size);
            prop_assert_eq!(counted as usize, rows.len());
            prop_assert_eq!(records, one_pass(&bytes));
        }
    }

    /// A record's text and its numbers.
    type ParsedRecord = (Vec<u8>, Vec<Option<f64>>);

    /// Everything the splitter and parser make of `bytes` at one chunk size: each record's
    /// text and numbers, or the first error.
    fn outcome(bytes: &[u8], chunk_size: usize) -> Result<Vec<ParsedRecord>, String> {
        let d = Dialect::default();
        let reader = Box::new(std::io::Cursor::new(bytes.to_vec()));
        let mut s = Splitter::from_reader(reader, "f".into(), None, &d, chunk_size)
            .map_err(|e| e.to_string())?;
        let names = s.header().names.clone();
        let all: Vec<usize> = (0..names.len()).collect();
        let parser = crate::parse::Parser::new(&names, &all, &d);
        let mut out = Vec::new();
        while let Some(chunk) = s.next_chunk().map_err(|e| e.to_string())? {
            let parsed = parser.parse(&chunk.bytes).map_err(|e| match e {
                crate::parse::ParseError::Ragged { line, found } => {
                    format!("line {}: {found} fields", chunk.first_line + line)
                }
                crate::parse::ParseError::NotNumber { line, column, text } => {
                    format!(
                        "line {}: column {column}: {text:?}",
                        chunk.first_line + line
                    )
                }
            })?;
            for (i, r) in parsed.records.iter().enumerate() {
                let values = parsed.columns.iter().map(|c| c.get(i)).collect();
                out.push((r.of(&chunk.bytes).to_vec(), values));
            }
        }
        Ok(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// A fuzz test: arbitrary bytes never panic, and every chunk size gives the same
        /// records and numbers, or the same error, as one pass.
        #[test]
        fn arbitrary_bytes_give_the_same_outcome_at_any_chunk_size(
            bytes in proptest::collection::vec(proptest::sample::select(b"01,\"\n\r9x. -".to_vec()), 0..120),
            chunk_size in 1usize..48,
        ) {
            let one_pass = outcome(&bytes, 1 << 20);
            let chunked = outcome(&bytes, chunk_size);
            match (&one_pass, &chunked) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "{:?} vs {:?}", one_pass, chunked),
            }
        }
    }

    #[test]
    fn a_record_longer_than_the_chunk_grows_it() {
        let long = "x".repeat(1000);
        let bytes = format!("a,b\n\"{long}\n{long}\",1\n2,3\n");
        let (records, counted) = chunked(bytes.as_bytes(), 16);
        assert_eq!(counted, 2);
        assert_eq!(records, one_pass(bytes.as_bytes()));
    }

    #[test]
    fn an_empty_input_is_an_error() {
        let reader = Box::new(std::io::Cursor::new(Vec::new()));
        let err = Splitter::from_reader(reader, "e.csv".into(), Some(0), &Dialect::default(), 8)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "e.csv: the input is empty (expected a CSV header)"
        );
    }
}
