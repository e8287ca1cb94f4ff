//! What every test area shares: a scratch directory, running the binary, reading CSV
//! output, comparing floats, and restoring the order of unordered output.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A scratch directory with helpers to write inputs and run dfpar in it.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A generated input of random integers.
    pub fn gen(&self, name: &str, rows: u64, cols: usize, seed: u64) -> PathBuf {
        let p = self.path(name);
        let out = dfpar(&[
            "gen",
            "--rows",
            &rows.to_string(),
            "--cols",
            &cols.to_string(),
            "--min",
            "-5",
            "--max",
            "20",
            "--seed",
            &seed.to_string(),
            "-o",
            p.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    /// Every entry of the directory (to check nothing was left behind).
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

pub fn dfpar(args: &[&str]) -> Output {
    Command::cargo_bin("dfpar")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

/// Runs dfpar, expects success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = dfpar(args);
    assert!(
        out.status.success(),
        "dfpar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs dfpar, expects exit `code` and returns stderr.
pub fn fails(code: i32, args: &[&str]) -> String {
    let out = dfpar(args);
    assert_eq!(out.status.code(), Some(code), "dfpar {args:?}: {out:?}");
    assert!(
        out.stdout.is_empty() || code == 2,
        "no data on stdout after an error"
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A parsed CSV: header and records of fields.
pub fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

pub fn num(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")))
    }
}

/// The values of the named columns of a CSV, row by row.
pub fn columns_of(text: &str, names: &[&str]) -> Vec<Vec<Option<f64>>> {
    let (header, rows) = read_csv(text);
    let idx: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap())
        .collect();
    rows.iter()
        .map(|r| idx.iter().map(|&i| num(&r[i])).collect())
        .collect()
}

pub fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) if x.is_nan() && y.is_nan() => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
        _ => false,
    }
}

pub fn assert_close(got: &[Option<f64>], want: &[Option<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "{what}: row {i}: got {g:?}, want {w:?}");
    }
}

/// Output of unordered mode sorted by row_index, without that column.
pub fn restore_order(unordered: &str) -> String {
    let mut lines = unordered.lines();
    let header = lines
        .next()
        .unwrap()
        .strip_prefix("row_index,")
        .unwrap()
        .to_string();
    let mut rows: Vec<(u64, String)> = Vec::new();
    // Records may span lines (quoted newlines): rebuild them with the csv crate.
    let mut r = csv::ReaderBuilder::new().from_reader(unordered.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap();
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(rec.iter().skip(1)).unwrap();
        rows.push((
            rec[0].parse().unwrap(),
            String::from_utf8(w.into_inner().unwrap()).unwrap(),
        ));
    }
    rows.sort();
    let mut out = header + "\n";
    for (_, r) in rows {
        out.push_str(&r);
    }
    out
}

/// The same output re-encoded by the csv crate (to compare with `restore_order`).
pub fn canonical(csv_text: &str) -> String {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for rec in r.records() {
        w.write_record(&rec.unwrap()).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}
