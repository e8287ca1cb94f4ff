//! Criterion benches: the record scanner and parser in MB/s per core, quote-free and quoted,
//! and the whole pipeline at --jobs 1 and 2 on a generated file (`make bench-criterion`).

use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dfpar::apply::apply;
use dfpar::bench::scanner::{self, quote_fields};
use dfpar::cli::{Cli, Command};
use dfpar::read::Splitter;
use dfpar::records;
use dfpar::Request;

/// The request of `dfpar apply ARGS`, as the command line gives it.
fn apply_request(args: &[&str]) -> Request {
    let argv = ["dfpar", "apply"].iter().chain(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Apply(a) => a.into_request(Vec::new()).unwrap(),
        _ => unreachable!("an apply command line"),
    }
}

fn generated(rows: u64) -> (tempfile::TempDir, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    dfpar::gen::gen(&dfpar::gen::GenOptions {
        rows,
        cols: 5,
        min: 0,
        max: 10,
        seed: 1,
        decimals: 0,
        output: Some(path.clone()),
    })
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path.to_str().unwrap().to_string(), bytes)
}

/// The record scanner alone, in MB/s on one core, on T1-like rows (one-digit fields)
/// quote-free and quoted: the SIMD kernels beside the scalar reference, the parser that
/// reads every field as a number, and the splitter (the reader thread's work).
fn scanner(c: &mut Criterion) {
    let (_dir, _path, plain) = generated(400_000);
    let data = [
        ("quote-free", plain.clone()),
        ("quoted", quote_fields(&plain)),
    ];
    let names: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
    let parser = dfpar::parse::Parser::new(&names, &[0, 1, 2, 3, 4], &Default::default());
    for (kind, bytes) in &data {
        let body = &bytes[bytes.iter().position(|&b| b == b'\n').unwrap() + 1..];
        let mut g = c.benchmark_group(format!("scanner {kind}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.sample_size(20)
            .measurement_time(std::time::Duration::from_secs(2));
        for (name, case) in scanner::cases(&parser) {
            g.bench_function(name, |b| b.iter(|| case(body)));
        }
        g.bench_function("last record end: simd", |b| {
            b.iter(|| records::last_record_end(body, b'"'))
        });
        g.bench_function("splitter (4 MiB chunks)", |b| {
            b.iter(|| {
                let reader = Box::new(std::io::Cursor::new(bytes.clone()));
                let s =
                    Splitter::from_reader(reader, "b".into(), None, &Default::default(), 4 << 20);
                s.unwrap().map(|c| c.unwrap().rows).sum::<u64>()
            })
        });
        g.finish();
    }
}

fn pipeline(c: &mut Criterion) {
    let (_dir, path, bytes) = generated(1_000_000);
    let mut g = c.benchmark_group("pipeline count_range");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    for jobs in [1, 2] {
        let request = apply_request(&[
            "--fn",
            "count_range",
            "--arg",
            "min=4",
            "--arg",
            "max=8",
            "--jobs",
            &jobs.to_string(),
            "-o",
            "/dev/null",
            "--progress",
            "never",
            &path,
        ]);
        g.bench_function(format!("jobs={jobs}"), |b| {
            b.iter(|| apply(&request).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, scanner, pipeline);
criterion_main!(benches);
