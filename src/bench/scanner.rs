//! `dfpar bench-scanner`: the record scanner alone, in MB/s on one core, on a file's first
//! bytes as they are and with every field quoted, the SIMD kernel beside the scalar reference.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::parse::Parser;
use crate::read::{Source, Splitter};
use crate::records::{self, reference};

/// A checked `dfpar bench-scanner` request.
#[derive(Clone, Debug)]
pub struct ScannerOptions {
    pub input: PathBuf,
    /// Timed runs per case (the median is shown).
    pub runs: usize,
    /// How much of the input the in-memory cases scan.
    pub max_bytes: usize,
}

/// A case: what it times, run on one chunk.
pub type Case<'a> = (&'static str, Box<dyn Fn(&[u8]) -> u64 + 'a>);

pub fn run(o: &ScannerOptions) -> Result<()> {
    let (names, body) = sample(o)?;
    let quoted: Vec<Vec<u8>> = body.iter().map(|c| quote_fields(c)).collect();
    let selected: Vec<usize> = (0..names.len()).collect();
    let parser = Parser::new(&names, &selected, &Dialect::default());
    println!(
        "kernel {:?}; {} columns; median of {} runs; MB/s on one core",
        records::Impl::best(),
        names.len(),
        o.runs
    );
    for (kind, chunks) in [("quote-free", &body), ("quoted", &quoted)] {
        let bytes: usize = chunks.iter().map(Vec::len).sum();
        println!(
            "{kind}: {} MB in memory, in 4 MiB chunks",
            bytes / 1_000_000
        );
        for (name, case) in cases(&parser) {
            let seconds = median_seconds(o.runs, || chunks.iter().map(|c| case(c)).sum());
            println!("  {name:<40} {:>8.0}", bytes as f64 / seconds / 1e6);
        }
    }
    let size = std::fs::metadata(&o.input).map_or(0, |m| m.len()) as f64;
    let seconds = median_seconds(o.runs, || read_alone(o).unwrap_or(0));
    println!("reader alone (read, cut and count 4 MiB chunks of the whole file, page cache)");
    println!("  {:<40} {:>8.0}", "splitter", size / seconds / 1e6);
    Ok(())
}

/// What the cases time: the field scan and the record scan, SIMD and reference, the
/// splitter's count, and the parser reading every column as numbers (`make
/// bench-criterion` times the same).
pub fn cases(parser: &Parser) -> Vec<Case<'_>> {
    let n = |r: std::result::Result<u64, ()>| r.unwrap_or(0);
    vec![
        (
            "fields: SIMD scan",
            Box::new(move |b| n(records::scan(b, b',', b'"', |_, _, _| Ok(()), |_| Ok(())))),
        ),
        (
            "fields: reference scan",
            Box::new(move |b| n(reference::scan(b, b',', b'"', |_, _, _| Ok(()), |_| Ok(())))),
        ),
        (
            "records: SIMD",
            Box::new(move |b| n(records::for_each_record(b, b',', b'"', |_| Ok(())))),
        ),
        (
            "records: reference",
            Box::new(move |b| n(reference::for_each_record(b, b',', b'"', |_| Ok(())))),
        ),
        (
            "lines and rows: SIMD",
            Box::new(|b| records::count_lines_and_rows(b, b',', b'"').0),
        ),
        (
            "lines and rows: reference",
            Box::new(|b| reference::count_lines_and_rows(b, b',', b'"').0),
        ),
        (
            "parse every column",
            Box::new(|b| parser.parse(b).map_or(0, |p| p.records.len() as u64)),
        ),
    ]
}

/// The header's names and the first chunks of records, about `max_bytes`, as the
/// splitter reads and cuts them.
fn sample(o: &ScannerOptions) -> Result<(Vec<String>, Vec<Vec<u8>>)> {
    let mut splitter = splitter(o)?;
    let names = splitter.header().names.clone();
    let (mut chunks, mut bytes) = (Vec::new(), 0);
    while bytes < o.max_bytes {
        let Some(chunk) = splitter.next_chunk()? else {
            break;
        };
        bytes += chunk.bytes.len();
        chunks.push(chunk.bytes);
    }
    Ok((names, chunks))
}

fn splitter(o: &ScannerOptions) -> Result<Splitter> {
    let source = Source::from_arg(&o.input.to_string_lossy());
    Splitter::open(&source, &Dialect::default(), 4 << 20)
}

/// `bytes` with every field quoted (`"7"`): the same records for the quote-aware paths.
pub fn quote_fields(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut open = false;
    for &b in bytes {
        if open && (b == b',' || b == b'\n') {
            out.push(b'"');
            open = false;
        } else if !open && b != b',' && b != b'\n' {
            out.push(b'"');
            open = true;
        }
        out.push(b);
    }
    out
}

/// The splitter over the whole file: what the reader thread does, alone.
fn read_alone(o: &ScannerOptions) -> Result<u64> {
    splitter(o)?.map(|c| c.map(|c| c.rows)).sum()
}

/// The median wall time of `runs` calls of `f`, after one untimed call.
fn median_seconds(runs: usize, mut f: impl FnMut() -> u64) -> f64 {
    black_box(f());
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_the_records() {
        let q = quote_fields(b"1,22\n,3\n");
        assert_eq!(q, b"\"1\",\"22\"\n,\"3\"\n");
    }
}
