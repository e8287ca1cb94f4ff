//! Criterion benches: the record scanner, a row kernel, and the whole pipeline at
//! --jobs 1 and 2 on a generated file (run with `make bench-criterion`).

use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dfpar::apply::apply;
use dfpar::cli::{Cli, Command};
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
        output: Some(path.clone()),
    })
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path.to_str().unwrap().to_string(), bytes)
}

fn kernels(c: &mut Criterion) {
    let (_dir, _path, bytes) = generated(200_000);
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("records::for_each_record", |b| {
        b.iter(|| {
            let mut n = 0;
            dfpar::records::for_each_record(&bytes, b',', b'"', |_| {
                n += 1;
                Ok::<(), ()>(())
            })
            .unwrap();
            n
        })
    });
    g.bench_function("records::count_lines_and_rows", |b| {
        b.iter(|| dfpar::records::count_lines_and_rows(&bytes, b',', b'"'))
    });
    g.finish();
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

criterion_group!(benches, kernels, pipeline);
criterion_main!(benches);
