//! `dfpar bench-scanner`: the record scanner alone, in MB/s on one core, on a file's first
//! bytes as they are and with every field quoted, the SIMD kernel beside the scalar reference.

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
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

type Case<'a> = (&'static str, Box<dyn Fn() -> u64 + 'a>);

pub fn run(o: &ScannerOptions) -> Result<()> {
    let (names, body) = sample(o)?;
    let quoted = quote_fields(&body);
    let selected: Vec<usize> = (0..names.len()).collect();
    let parser = Parser::new(&names, &selected, &Dialect::default());
    println!(
        "kernel {:?}; {} columns; median of {} runs; MB/s on one core",
        records::Impl::best(),
        names.len(),
        o.runs
    );
    for (kind, bytes) in [("quote-free", &body), ("quoted", &quoted)] {
        println!("{kind}: {} MB in memory", bytes.len() / 1_000_000);
        for (name, case) in cases(bytes, &parser) {
            let seconds = median_seconds(o.runs, || black_box(case()));
            println!("  {name:<40} {:>8.0}", bytes.len() as f64 / seconds / 1e6);
        }
    }
    let size = std::fs::metadata(&o.input).map_or(0, |m| m.len()) as f64;
    let seconds = median_seconds(o.runs, || read_alone(o).unwrap_or(0));
    println!("reader alone (read, cut and count 4 MiB chunks of the whole file, page cache)");
    println!("  {:<40} {:>8.0}", "splitter", size / seconds / 1e6);
    Ok(())
}

/// What the cases time: the field scan and the record scan, SIMD and reference, the
/// splitter's count, and the parser reading every column as numbers.
fn cases<'a>(bytes: &'a [u8], parser: &'a Parser) -> Vec<Case<'a>> {
    let fields = |r: std::result::Result<u64, ()>| r.unwrap_or(0);
    vec![
        (
            "fields: SIMD scan",
            Box::new(move || {
                fields(records::scan(
                    bytes,
                    b',',
                    b'"',
                    |_, _, _| Ok(()),
                    |_| Ok(()),
                ))
            }),
        ),
        (
            "fields: reference scan",
            Box::new(move || {
                fields(reference::scan(
                    bytes,
                    b',',
                    b'"',
                    |_, _, _| Ok(()),
                    |_| Ok(()),
                ))
            }),
        ),
        (
            "records: SIMD",
            Box::new(move || fields(records::for_each_record(bytes, b',', b'"', |_| Ok(())))),
        ),
        (
            "records: reference",
            Box::new(move || fields(reference::for_each_record(bytes, b',', b'"', |_| Ok(())))),
        ),
        (
            "lines and rows: SIMD",
            Box::new(move || records::count_lines_and_rows(bytes, b',', b'"').0),
        ),
        (
            "lines and rows: reference",
            Box::new(move || reference::count_lines_and_rows(bytes, b',', b'"').0),
        ),
        (
            "parse every column, 4 MiB chunks",
            Box::new(move || {
                chunks(bytes)
                    .map(|c| parser.parse(c).map_or(0, |p| p.records.len() as u64))
                    .sum()
            }),
        ),
    ]
}

/// `bytes` cut into chunks of whole records of about 4 MiB, as the splitter cuts them.
fn chunks(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let window = &bytes[..bytes.len().min(4 << 20)];
        let cut = records::last_record_end(window, b'"').unwrap_or(bytes.len());
        let (chunk, rest) = bytes.split_at(cut);
        bytes = rest;
        Some(chunk)
    })
}

/// The header's names and the whole records of the first `max_bytes` after it.
fn sample(o: &ScannerOptions) -> Result<(Vec<String>, Vec<u8>)> {
    let input_err = |e| Error::Input {
        path: o.input.display().to_string(),
        what: "cannot read",
        source: e,
    };
    let mut bytes = Vec::new();
    let file = std::fs::File::open(&o.input).map_err(input_err)?;
    file.take(o.max_bytes as u64)
        .read_to_end(&mut bytes)
        .map_err(input_err)?;
    let header_end = memchr::memchr(b'\n', &bytes).map_or(bytes.len(), |i| i + 1);
    let header = String::from_utf8_lossy(&bytes[..header_end]);
    let names = header.trim_end().split(',').map(str::to_string).collect();
    let body = &bytes[header_end..];
    let end = records::last_record_end(body, b'"').unwrap_or(body.len());
    Ok((names, body[..end].to_vec()))
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
    let source = Source::from_arg(&o.input.to_string_lossy());
    let splitter = Splitter::open(&source, &Dialect::default(), 4 << 20)?;
    splitter.map(|c| c.map(|c| c.rows)).sum()
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
