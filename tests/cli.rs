//! Integration tests: run the `dfpar` binary on fixtures in tests/data and on generated
//! data, and check every result against a reference computed here, not by dfpar.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A scratch directory with helpers to write inputs and run dfpar in it.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A generated input of random integers.
    fn gen(&self, name: &str, rows: u64, cols: usize, seed: u64) -> PathBuf {
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
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn dfpar(args: &[&str]) -> Output {
    Command::cargo_bin("dfpar")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

/// Runs dfpar, expects success and returns stdout.
fn ok(args: &[&str]) -> String {
    let out = dfpar(args);
    assert!(
        out.status.success(),
        "dfpar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs dfpar, expects exit `code` and returns stderr.
fn fails(code: i32, args: &[&str]) -> String {
    let out = dfpar(args);
    assert_eq!(out.status.code(), Some(code), "dfpar {args:?}: {out:?}");
    assert!(
        out.stdout.is_empty() || code == 2,
        "no data on stdout after an error"
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A parsed CSV: header and records of fields.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn num(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")))
    }
}

/// The values of the named columns of a CSV, row by row.
fn columns_of(text: &str, names: &[&str]) -> Vec<Vec<Option<f64>>> {
    let (header, rows) = read_csv(text);
    let idx: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap())
        .collect();
    rows.iter()
        .map(|r| idx.iter().map(|&i| num(&r[i])).collect())
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) if x.is_nan() && y.is_nan() => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
        _ => false,
    }
}

fn assert_close(got: &[Option<f64>], want: &[Option<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "{what}: row {i}: got {g:?}, want {w:?}");
    }
}

/// The reference of each row builtin, computed from a row's present values.
fn row_reference(name: &str, values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let n = present.len() as f64;
    match name {
        "count_range" => Some(
            present
                .iter()
                .filter(|&&x| (4.0..=8.0).contains(&x))
                .count() as f64,
        ),
        "null_count" => Some((values.len() - present.len()) as f64),
        _ if present.is_empty() => None,
        "sum" => Some(present.iter().sum()),
        "mean" => Some(present.iter().sum::<f64>() / n),
        "hypot" => Some(present.iter().map(|x| x * x).sum::<f64>().sqrt()),
        "min" => present.iter().copied().reduce(f64::min),
        "max" => present.iter().copied().reduce(f64::max),
        _ => unreachable!("{name}"),
    }
}

const ROW_FUNCTIONS: [&str; 7] = [
    "count_range",
    "hypot",
    "sum",
    "mean",
    "min",
    "max",
    "null_count",
];

#[test]
fn row_builtins_match_the_reference_with_nulls_and_on_generated_data() {
    let w = Workdir::new();
    let generated = w.gen("gen.csv", 3000, 4, 11);
    let cases = [
        (fixture("nulls.csv"), vec!["id", "a", "b", "c"]),
        (
            generated.to_str().unwrap().to_string(),
            vec!["c0", "c1", "c2", "c3"],
        ),
    ];
    for (input, cols) in &cases {
        let text = std::fs::read_to_string(input).unwrap();
        let inputs = columns_of(&text, cols);
        for f in ROW_FUNCTIONS {
            for jobs in ["1", "3"] {
                let mut args = vec!["apply", "--fn", f, "-j", jobs, "--chunk-size", "100", input];
                if f == "count_range" {
                    args.extend(["--arg", "min=4", "--arg", "max=8"]);
                }
                let out = ok(&args);
                let got: Vec<Option<f64>> =
                    columns_of(&out, &[f]).into_iter().map(|r| r[0]).collect();
                let want: Vec<Option<f64>> = inputs.iter().map(|r| row_reference(f, r)).collect();
                assert_close(&got, &want, &format!("{f} on {input} at --jobs {jobs}"));
            }
        }
    }
}

#[test]
fn normalize_adds_one_column_per_input() {
    let out = ok(&[
        "apply",
        "--fn",
        "normalize",
        "--cols",
        "a,b,c",
        &fixture("nulls.csv"),
    ]);
    let input = columns_of(&out, &["a", "b", "c"]);
    let got = columns_of(&out, &["a_norm", "b_norm", "c_norm"]);
    for (row, norm) in input.iter().zip(&got) {
        let present: Vec<f64> = row.iter().flatten().copied().collect();
        let (lo, hi) = (
            present.iter().copied().fold(f64::INFINITY, f64::min),
            present.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let want: Vec<Option<f64>> = row
            .iter()
            .map(|v| v.map(|x| (x - lo) / (hi - lo)))
            .collect();
        assert_close(norm, &want, "normalize");
    }
}

#[test]
fn row_mode_keeps_input_records_byte_for_byte() {
    let input = std::fs::read_to_string(fixture("nulls.csv")).unwrap();
    let out = ok(&["apply", "--fn", "sum", "--cols", "a", &fixture("nulls.csv")]);
    // Every output line starts with the input's line, quotes and all.
    let records: Vec<&str> = input.split_inclusive('\n').collect();
    let mut rest = out.as_str();
    for (i, rec) in records.iter().enumerate() {
        let rec = rec.trim_end_matches('\n');
        assert!(rest.starts_with(rec), "record {i} was changed: {rest:?}");
        rest = &rest[rest.find(rec).unwrap() + rec.len()..];
        rest = &rest[rest.find('\n').unwrap() + 1..];
    }
    assert!(rest.is_empty());
}

#[test]
fn chained_functions_read_earlier_outputs() {
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--fn",
        "mean",
        "--cols",
        "a,b,sum",
        &fixture("nulls.csv"),
    ]);
    for row in columns_of(&out, &["a", "b", "sum", "mean"]) {
        let want = row_reference("mean", &row[..3]);
        assert!(close(row[3], want), "{row:?}");
        assert!(close(row[2], row_reference("sum", &row[..2])), "{row:?}");
    }
}

#[test]
fn column_builtins_match_one_pass_over_the_column() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 5000, 3, 5);
    let input = input.to_str().unwrap();
    let text = std::fs::read_to_string(input).unwrap();
    let fns = [
        "sum_sq",
        "sum",
        "mean",
        "std",
        "min",
        "max",
        "count",
        "null_count",
    ];
    let mut args = vec![
        "apply",
        "--by",
        "column",
        "--chunk-size",
        "512",
        "-j",
        "4",
        input,
    ];
    for f in fns {
        args.extend(["--fn", f]);
    }
    for mode in ["ordered", "unordered"] {
        let mut a = args.clone();
        a.extend(["--mode", mode]);
        let out = ok(&a);
        let (header, rows) = read_csv(&out);
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (c, name) in ["c0", "c1", "c2"].iter().enumerate() {
            let v: Vec<f64> = columns_of(&text, &[name])
                .iter()
                .map(|r| r[0].unwrap())
                .collect();
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let want = [
                v.iter().map(|x| x * x).sum::<f64>(),
                v.iter().sum(),
                mean,
                (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                n,
                0.0,
            ];
            assert_eq!(rows[c][at("column")], *name);
            for (f, w) in fns.iter().zip(want) {
                assert!(
                    close(num(&rows[c][at(f)]), Some(w)),
                    "{f} of {name} ({mode}): {} vs {w}",
                    rows[c][at(f)]
                );
            }
        }
    }
}

#[test]
fn column_builtins_skip_nulls() {
    let out = ok(&[
        "apply",
        "--by",
        "column",
        "--fn",
        "count",
        "--fn",
        "null_count",
        "--fn",
        "mean",
        "--cols",
        "b",
        &fixture("nulls.csv"),
    ]);
    assert_eq!(out, "column,count,null_count,mean\nb,4,2,4.8125\n");
}

#[test]
fn frame_shape_and_describe() {
    let out = ok(&[
        "apply",
        "--by",
        "frame",
        "--fn",
        "shape",
        "--chunk-size",
        "10",
        &fixture("nulls.csv"),
    ]);
    assert_eq!(out, "rows,columns\n6,5\n");
    let out = ok(&[
        "apply",
        "--by",
        "frame",
        "--fn",
        "describe",
        "--cols",
        "a,c",
        "-j",
        "2",
        "--chunk-size",
        "10",
        &fixture("nulls.csv"),
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        ["column", "count", "null_count", "mean", "std", "min", "max"]
    );
    // a: 1.5, 7, -2, 10, 4 (one null)
    let a = [1.5, 7.0, -2.0, 10.0, 4.0];
    let mean = a.iter().sum::<f64>() / 5.0;
    let std = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    assert_eq!(&rows[0][..3], ["a", "5", "1"]);
    assert!(close(num(&rows[0][3]), Some(mean)));
    assert!(close(num(&rows[0][4]), Some(std)));
    assert_eq!(&rows[0][5..], ["-2.0", "10.0"]);
    assert_eq!(rows[1][0], "c");
}

#[test]
fn frame_sample_is_reproducible_across_jobs_and_chunk_sizes() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 2000, 3, 3);
    let input = input.to_str().unwrap();
    let text = std::fs::read_to_string(input).unwrap();
    let base = ok(&[
        "apply", "--by", "frame", "--fn", "sample", "--arg", "n=25", "--arg", "seed=9", "-j", "1",
        input,
    ]);
    for (jobs, chunk) in [("2", "100"), ("4", "4096"), ("3", "1")] {
        let again = ok(&[
            "apply",
            "--by",
            "frame",
            "--fn",
            "sample",
            "--arg",
            "n=25",
            "--arg",
            "seed=9",
            "-j",
            jobs,
            "--chunk-size",
            chunk,
            input,
        ]);
        assert_eq!(base, again, "jobs {jobs}, chunk {chunk}");
    }
    let lines: Vec<&str> = base.lines().collect();
    assert_eq!(lines.len(), 26);
    assert_eq!(lines[0], "c0,c1,c2");
    // Rows come from the input, in input order, without repeats.
    let input_lines: Vec<&str> = text.lines().collect();
    let mut last = 0;
    for l in &lines[1..] {
        let pos = input_lines
            .iter()
            .skip(last + 1)
            .position(|x| x == l)
            .expect("an input row")
            + last
            + 1;
        last = pos;
    }
    let other = ok(&[
        "apply", "--by", "frame", "--fn", "sample", "--arg", "n=25", "--arg", "seed=10", input,
    ]);
    assert_ne!(base, other, "another seed gives another sample");
    let all = ok(&[
        "apply",
        "--by",
        "frame",
        "--fn",
        "sample",
        "--arg",
        "n=100",
        &fixture("nulls.csv"),
    ]);
    assert_eq!(all, std::fs::read_to_string(fixture("nulls.csv")).unwrap());
}

/// Output of unordered mode sorted by row_index, without that column.
fn restore_order(unordered: &str) -> String {
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
fn canonical(csv_text: &str) -> String {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for rec in r.records() {
        w.write_record(&rec.unwrap()).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn parallel_ordered_output_is_byte_identical_to_serial() {
    let w = Workdir::new();
    let generated = w.gen("gen.csv", 20000, 5, 1);
    for input in [
        generated.to_str().unwrap().to_string(),
        fixture("nulls.csv"),
    ] {
        let serial = ok(&[
            "apply",
            "--fn",
            "count_range",
            "--fn",
            "mean",
            "--arg",
            "min=4",
            "--arg",
            "max=8",
            "-j",
            "1",
            &input,
        ]);
        for chunk in ["1", "64", "1000", "4MiB"] {
            for mode in ["ordered", "map"] {
                let parallel = ok(&[
                    "apply",
                    "--fn",
                    "count_range",
                    "--fn",
                    "mean",
                    "--arg",
                    "min=4",
                    "--arg",
                    "max=8",
                    "-j",
                    "4",
                    "--chunk-size",
                    chunk,
                    "--mode",
                    mode,
                    &input,
                ]);
                assert!(
                    serial == parallel,
                    "{input}: chunk {chunk}: ordered output differs from --jobs 1"
                );
            }
            let unordered = ok(&[
                "apply",
                "--fn",
                "count_range",
                "--fn",
                "mean",
                "--arg",
                "min=4",
                "--arg",
                "max=8",
                "-j",
                "4",
                "--chunk-size",
                chunk,
                "--mode",
                "async",
                &input,
            ]);
            assert_eq!(
                restore_order(&unordered),
                canonical(&serial),
                "{input}: chunk {chunk}: unordered"
            );
        }
    }
}

#[test]
fn output_file_is_written_whole_and_stdin_works() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 1000, 3, 2);
    let out = w.path("out.csv");
    let to_stdout = ok(&["apply", "--fn", "sum", input.to_str().unwrap()]);
    ok(&[
        "apply",
        "--fn",
        "sum",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), to_stdout);
    assert_eq!(
        w.entries(),
        ["gen.csv", "out.csv"],
        "no temporary file is left"
    );
    let piped = Command::cargo_bin("dfpar")
        .unwrap()
        .args(["apply", "--fn", "sum", "--chunk-size", "100", "-"])
        .pipe_stdin(&input)
        .unwrap()
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), to_stdout);
}

#[test]
fn only_results_no_header_delimiter_and_null_values() {
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--only-results",
        "--cols",
        "a,b",
        &fixture("nulls.csv"),
    ]);
    assert_eq!(out, "sum\n1.5\n\n15.0\n1.25\n14.0\n8.0\n");
    let w = Workdir::new();
    let headless = w.write("headless.csv", b"1,2\n3,4\n");
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--no-header",
        headless.to_str().unwrap(),
    ]);
    assert_eq!(out, "1,2,3.0\n3,4,7.0\n");
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--no-header",
        "--cols",
        "column_2",
        headless.to_str().unwrap(),
    ]);
    assert_eq!(out, "1,2,2.0\n3,4,4.0\n");
}

#[test]
fn crlf_blank_lines_bom_and_semicolons() {
    let out = ok(&["apply", "--fn", "sum", &fixture("crlf.csv")]);
    assert_eq!(out, "a,b,sum\n1,2,3.0\n3,4,7.0\n5,6,11.0\n");
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "-d",
        ";",
        "--null-values",
        "NA",
        &fixture("semicolon_na.csv"),
    ]);
    assert_eq!(out, "a;b;sum\n1;NA;1.0\nNA;4;4.0\n");
}

#[test]
fn progress_never_touches_stdout() {
    let quiet = ok(&[
        "apply",
        "--fn",
        "sum",
        "--progress",
        "never",
        &fixture("nulls.csv"),
    ]);
    let out = dfpar(&[
        "apply",
        "--fn",
        "sum",
        "--progress",
        "always",
        &fixture("nulls.csv"),
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), quiet);
    assert!(String::from_utf8(out.stderr).unwrap().contains("6 rows"));
}

#[test]
fn errors_name_the_problem_exit_non_zero_and_leave_no_output() {
    let w = Workdir::new();
    let out = w.path("out.csv");
    let o = out.to_str().unwrap();
    let empty = w.write("empty.csv", b"");
    let dir = w.path("adir");
    std::fs::create_dir(&dir).unwrap();
    let missing = w.path("missing.csv");
    let text = w.write("text.csv", b"a,b\nx,1\ny,2\n");
    // Past the rows that inference reads, so the column is taken as numeric.
    let mut lines = String::from("a,b\n");
    for i in 0..1500 {
        lines.push_str(&format!("{i},{i}\n"));
    }
    lines.push_str("3,oops\n");
    let bad_number = w.write("badnum.csv", lines.as_bytes());
    let nulls = fixture("nulls.csv");
    let ragged = fixture("ragged.csv");
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (
            1,
            vec!["apply", "--fn", "sum", missing.to_str().unwrap(), "-o", o],
            "missing.csv: cannot open: No such file",
        ),
        (
            1,
            vec!["apply", "--fn", "sum", dir.to_str().unwrap(), "-o", o],
            "is a directory",
        ),
        (
            1,
            vec!["apply", "--fn", "sum", empty.to_str().unwrap(), "-o", o],
            "empty.csv: the input is empty",
        ),
        (
            1,
            vec!["apply", "--fn", "sum", &ragged, "-o", o],
            "ragged.csv:3: expected 3 fields, found 2",
        ),
        (
            1,
            vec![
                "apply",
                "--fn",
                "sum",
                "-j",
                "2",
                "--chunk-size",
                "4",
                &ragged,
                "-o",
                o,
            ],
            "ragged.csv:3: expected 3 fields, found 2",
        ),
        (
            1,
            vec![
                "apply",
                "--fn",
                "sum",
                "--cols",
                "a,b",
                bad_number.to_str().unwrap(),
                "-o",
                o,
            ],
            "badnum.csv:1502: column 'b': 'oops' is not a number",
        ),
        (
            2,
            vec!["apply", "--fn", "count_rang", &nulls, "-o", o],
            "unknown row function 'count_rang' (did you mean count_range?)",
        ),
        (
            2,
            vec![
                "apply",
                "--fn",
                "count_range",
                "--arg",
                "min=4",
                &nulls,
                "-o",
                o,
            ],
            "count_range needs --arg max=VALUE",
        ),
        (
            2,
            vec![
                "apply",
                "--fn",
                "count_range",
                "--arg",
                "min=four",
                "--arg",
                "max=8",
                &nulls,
                "-o",
                o,
            ],
            "expects a number",
        ),
        (
            2,
            vec!["apply", "--fn", "sum", "--arg", "min=1", &nulls, "-o", o],
            "unknown parameter 'min' in --arg (sum takes no parameters)",
        ),
        (
            2,
            vec!["apply", "--fn", "sum", "--cols", "nope", &nulls, "-o", o],
            "unknown column 'nope'",
        ),
        (
            2,
            vec!["apply", "--fn", "sum", "--cols", "name", &nulls, "-o", o],
            "column 'name' is not numeric",
        ),
        (
            2,
            vec![
                "apply",
                "--fn",
                "sum",
                text.to_str().unwrap(),
                "--cols",
                "a",
                "-o",
                o,
            ],
            "column 'a' is not numeric",
        ),
        (
            2,
            vec!["apply", "--by", "column", "--fn", "hypot", &nulls, "-o", o],
            "'hypot' is a row function; use it with --by row",
        ),
        (
            2,
            vec!["apply", "--fn", "sum", "-j", "0", &nulls, "-o", o],
            "--jobs",
        ),
        (
            1,
            vec![
                "apply",
                "--fn",
                "sum",
                &nulls,
                "-o",
                "/nonexistent-dir/out.csv",
            ],
            "/nonexistent-dir/out.csv: cannot write output",
        ),
    ];
    for (code, args, message) in cases {
        let err = fails(code, &args);
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in {err:?}"
        );
        if code == 1 || code == 2 {
            assert!(
                err.starts_with("dfpar: ") || err.starts_with("error:"),
                "{err}"
            );
        }
        assert!(!out.exists(), "{args:?} left an output file");
        let left: Vec<String> = w
            .entries()
            .into_iter()
            .filter(|e| e.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

#[test]
fn a_failing_run_keeps_the_previous_output() {
    let w = Workdir::new();
    let out = w.write("out.csv", b"previous\n");
    fails(
        1,
        &[
            "apply",
            "--fn",
            "sum",
            &fixture("ragged.csv"),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
}

#[test]
fn full_disk_is_an_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let err = fails(
        1,
        &[
            "apply",
            "--fn",
            "sum",
            &fixture("nulls.csv"),
            "-o",
            "/dev/full",
        ],
    );
    assert!(err.contains("/dev/full: cannot write output"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 200_000, 5, 4);
    let bin = assert_cmd::cargo::cargo_bin("dfpar");
    let script = format!(
        "set -o pipefail; '{}' apply --fn sum --chunk-size 4096 '{}' | head -1",
        bin.display(),
        input.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "c0,c1,c2,c3,c4,sum\n"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_info_and_gen() {
    let list = ok(&["list"]);
    for name in
        ROW_FUNCTIONS
            .iter()
            .chain(&["normalize", "sum_sq", "std", "count", "shape", "describe"])
    {
        assert!(list.contains(name), "{name} missing from list");
    }
    assert!(list.contains("count_range(min, max)"));
    assert!(list.contains("sample(n=10, seed=0)"));
    let info = ok(&["info"]);
    assert!(info.contains("cores available:") && info.contains("default --jobs:"));
    let a = ok(&[
        "gen", "--rows", "50", "--cols", "3", "--min", "2", "--max", "5", "--seed", "1",
    ]);
    assert_eq!(
        a,
        ok(&["gen", "--rows", "50", "--cols", "3", "--min", "2", "--max", "5", "--seed", "1"])
    );
    let rows = columns_of(&a, &["c0", "c1", "c2"]);
    assert_eq!(rows.len(), 50);
    assert!(rows
        .iter()
        .flatten()
        .all(|v| (2.0..5.0).contains(&v.unwrap())));
    assert_ne!(
        a,
        ok(&["gen", "--rows", "50", "--cols", "3", "--min", "2", "--max", "5", "--seed", "2"])
    );
}

#[test]
fn help_documents_exit_codes() {
    let help = ok(&["apply", "--help"]);
    assert!(help.contains("Exit codes"));
    assert!(help.contains("--mode"));
}

// ---- Reliability: input shapes, bad rows, faults ----

#[test]
fn a_header_only_input_gives_an_empty_result() {
    let w = Workdir::new();
    let input = w.write("header.csv", b"a,b\n");
    let i = input.to_str().unwrap();
    assert_eq!(ok(&["apply", "--fn", "sum", i]), "a,b,sum\n");
    assert_eq!(
        ok(&["apply", "--by", "column", "--fn", "sum", "--fn", "count", i]),
        "column,sum,count\na,,0\nb,,0\n"
    );
    assert_eq!(
        ok(&["apply", "--by", "frame", "--fn", "shape", i]),
        "rows,columns\n0,2\n"
    );
}

#[test]
fn header_names_must_be_unique_and_empty_ones_are_numbered() {
    let w = Workdir::new();
    let dup = w.write("dup.csv", b"a,b,a\n1,2,3\n");
    let err = fails(1, &["apply", "--fn", "sum", dup.to_str().unwrap()]);
    assert!(
        err.contains("dup.csv:1: duplicate column name 'a' in the header"),
        "{err}"
    );
    let empty = w.write("empty_name.csv", b"a,,c\n1,2,3\n");
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--cols",
        "column_2",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(out, "a,,c,sum\n1,2,3,2.0\n");
}

#[test]
fn non_utf8_text_is_carried_through_unchanged() {
    let w = Workdir::new();
    let input = w.write("latin1.csv", b"name,v\n\xe9t\xe9,1\nna\xefve,2\n");
    let out = dfpar(&["apply", "--fn", "sum", input.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"name,v,sum\n\xe9t\xe9,1,1.0\nna\xefve,2,2.0\n");
}

#[test]
fn nan_and_infinity_follow_float_rules() {
    let w = Workdir::new();
    let input = w.write("nan.csv", b"a,b\nNaN,1\ninf,2\n-inf,3\n5,NA\n");
    let i = input.to_str().unwrap();
    let run = |f: &str| {
        let mut args = vec![
            "apply",
            "--fn",
            f,
            "--only-results",
            "--null-values",
            "NA",
            i,
        ];
        if f == "count_range" {
            args.extend(["--arg", "min=0", "--arg", "max=10"]);
        }
        ok(&args)
    };
    assert_eq!(run("sum"), "sum\nNaN\ninf\n-inf\n5.0\n");
    assert_eq!(run("min"), "min\n1.0\n2.0\n-inf\n5.0\n");
    assert_eq!(run("max"), "max\n1.0\ninf\n3.0\n5.0\n");
    assert_eq!(run("count_range"), "count_range\n1\n1\n1\n1\n");
    assert_eq!(run("null_count"), "null_count\n0\n0\n0\n1\n");
}

#[test]
fn a_quoted_newline_on_any_chunk_boundary_gives_the_same_output() {
    let input = fixture("nulls.csv");
    let size = std::fs::metadata(&input).unwrap().len();
    let serial = ok(&["apply", "--fn", "sum", "-j", "1", &input]);
    for chunk in 1..=size + 1 {
        let out = ok(&[
            "apply",
            "--fn",
            "sum",
            "-j",
            "2",
            "--chunk-size",
            &chunk.to_string(),
            &input,
        ]);
        assert_eq!(out, serial, "chunk size {chunk}");
    }
}

#[test]
fn bad_rows_can_be_skipped_into_a_rejects_file() {
    let w = Workdir::new();
    let rejects = w.path("rejects.csv");
    let input = w.write(
        "bad.csv",
        b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,\"x,y\",10,11\n12,13,14\n",
    );
    let i = input.to_str().unwrap();
    let out = dfpar(&[
        "apply",
        "--fn",
        "sum",
        "--on-bad-rows",
        "skip",
        "--rejects",
        rejects.to_str().unwrap(),
        "--chunk-size",
        "8",
        "-j",
        "2",
        i,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a,b,c,sum\n1,2,3,6.0\n6,7,8,21.0\n12,13,14,39.0\n"
    );
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("bad.csv: skipped 2 bad rows"));
    let (header, mut rows) = read_csv(&std::fs::read_to_string(&rejects).unwrap());
    rows.sort_by_key(|r| r[1].parse::<u64>().unwrap());
    assert_eq!(header, ["file", "line", "reason", "record"]);
    assert_eq!(rows[0][1..], ["3", "expected 3 fields, found 2", "4,5"]);
    assert_eq!(
        rows[1][1..],
        ["5", "expected 3 fields, found 4", "9,\"x,y\",10,11"]
    );
    // Unordered row numbers still count the skipped rows.
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--on-bad-rows",
        "skip",
        "--mode",
        "unordered",
        "--only-results",
        i,
    ]);
    assert_eq!(out, "row_index,sum\n0,6.0\n2,21.0\n4,39.0\n");
    let err = fails(
        2,
        &[
            "apply",
            "--fn",
            "sum",
            "--rejects",
            rejects.to_str().unwrap(),
            i,
        ],
    );
    assert!(err.contains("--rejects needs --on-bad-rows skip"), "{err}");
}

#[test]
fn an_error_late_in_a_long_parallel_run_stops_it_cleanly() {
    let w = Workdir::new();
    let mut text = String::from("a,b\n");
    for i in 0..100_000 {
        text.push_str(&format!("{i},{}\n", i % 7));
    }
    text.push_str("1\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},1\n"));
    }
    let input = w.write("late.csv", text.as_bytes());
    let out = w.path("out.csv");
    for mode in ["ordered", "unordered"] {
        let result = Command::cargo_bin("dfpar")
            .unwrap()
            .args([
                "apply",
                "--fn",
                "sum",
                "-j",
                "4",
                "--chunk-size",
                "4KiB",
                "--mode",
                mode,
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(1), "{result:?}");
        let err = String::from_utf8(result.stderr).unwrap();
        assert!(
            err.contains("late.csv:100002: expected 2 fields, found 1"),
            "{err}"
        );
        assert!(!out.exists());
    }
}

/// Starts dfpar reading a FIFO that stays open, waits for its temporary output, sends
/// `signal` and returns the exit code and what is left in the directory.
#[cfg(unix)]
fn interrupted(signal: &str) -> (Option<i32>, Vec<String>) {
    let w = Workdir::new();
    let fifo = w.path("in.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = w.path("out.csv");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dfpar"))
        .args([
            "apply",
            "--fn",
            "sum",
            "--chunk-size",
            "16",
            fifo.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    use std::io::Write;
    writer.write_all(b"a,b\n1,2\n3,4\n").unwrap();
    writer.flush().unwrap();
    let started = std::time::Instant::now();
    while !w.entries().iter().any(|e| e.ends_with(".tmp")) {
        assert!(
            started.elapsed().as_secs() < 30,
            "no temporary output appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    drop(writer);
    let left = w.entries().into_iter().filter(|e| e != "in.fifo").collect();
    (status.code(), left)
}

#[cfg(unix)]
#[test]
fn an_interrupt_removes_the_temporary_output() {
    assert_eq!(interrupted("-TERM"), (Some(143), vec![]));
    assert_eq!(interrupted("-INT"), (Some(130), vec![]));
}

#[test]
fn types_that_change_mid_file_widen_or_stop_with_the_line() {
    let w = Workdir::new();
    let mut ints = String::from("a,b\n");
    for i in 0..1500 {
        ints.push_str(&format!("{i},1\n"));
    }
    // Integer column, later a float: widened.
    let float_later = w.write("float.csv", format!("{ints}2.5,1\n").as_bytes());
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--only-results",
        float_later.to_str().unwrap(),
    ]);
    assert_eq!(out.lines().last(), Some("3.5"));
    // Later an integer too large for exact arithmetic: stopped, never rounded.
    let huge = w.write(
        "huge.csv",
        format!("{ints}12345678901234567890,1\n").as_bytes(),
    );
    let err = fails(1, &["apply", "--fn", "sum", huge.to_str().unwrap()]);
    assert!(
        err.contains("huge.csv:1502: column 'a': '12345678901234567890' is an integer beyond 2^53"),
        "{err}"
    );
    // Later a string: stopped with the line, column and value.
    let text = w.write("text.csv", format!("{ints}1,n/a\n").as_bytes());
    let err = fails(
        1,
        &["apply", "--fn", "sum", "-j", "2", text.to_str().unwrap()],
    );
    assert!(
        err.contains("text.csv:1502: column 'b': 'n/a' is not a number"),
        "{err}"
    );
}

// ---- Batch use ----

#[test]
fn several_inputs_are_one_stream() {
    let w = Workdir::new();
    let a = w.write("a.csv", b"x,y\n1,2\n3,4\n");
    let b = w.write("b.csv", b"x,y\n5,6\n");
    let c = w.write("c.csv", b"x,y\n7,8\n9,10\n");
    let all = w.write("all.csv", b"x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n");
    let paths: Vec<&str> = [&a, &b, &c].iter().map(|p| p.to_str().unwrap()).collect();
    for by in [
        vec!["--fn", "sum"],
        vec!["--by", "column", "--fn", "mean", "--fn", "std"],
        vec!["--by", "frame", "--fn", "sample", "--arg", "n=3"],
    ] {
        for mode in ["ordered", "unordered"] {
            let mut args = vec!["apply", "-j", "2", "--mode", mode];
            args.extend(&by);
            let mut one = args.clone();
            one.push(all.to_str().unwrap());
            let mut many = args.clone();
            many.extend(&paths);
            let (many, one) = (ok(&many), ok(&one));
            if mode == "unordered" && by[0] == "--fn" {
                // Rows come in completion order: compare them restored to input order.
                assert_eq!(restore_order(&many), restore_order(&one), "{by:?} {mode}");
            } else if mode == "unordered" && by[1] == "column" {
                // States merged in completion order: equal within rounding.
                let (a, b) = (read_csv(&many).1, read_csv(&one).1);
                for (ra, rb) in a.iter().zip(&b) {
                    for (x, y) in ra[2..].iter().zip(&rb[2..]) {
                        assert!(close(num(x), num(y)), "{by:?} {mode}: {x} vs {y}");
                    }
                }
            } else {
                assert_eq!(many, one, "{by:?} {mode}");
            }
        }
    }
    let other = w.write("other.csv", b"x,z\n1,2\n");
    let err = fails(
        1,
        &["apply", "--fn", "sum", paths[0], other.to_str().unwrap()],
    );
    assert!(
        err.contains("other.csv:1: the header differs from"),
        "{err}"
    );
    assert!(err.contains("found x,z, expected x,y"), "{err}");
    let bad = w.write("bad.csv", b"x,y\n1,2\n3\n");
    let out = w.path("out.csv");
    let err = fails(
        1,
        &[
            "apply",
            "--fn",
            "sum",
            paths[0],
            bad.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("bad.csv:3: expected 2 fields, found 1"),
        "{err}"
    );
}

#[test]
fn output_dir_writes_one_file_per_input() {
    let w = Workdir::new();
    let a = w.write("a.csv", b"x,y\n1,2\n");
    let b = w.write("b.csv", b"x,y\n3,4\n");
    let dir = w.path("out");
    ok(&[
        "apply",
        "--fn",
        "sum",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(dir.join("a.csv")).unwrap(),
        "x,y,sum\n1,2,3.0\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("b.csv")).unwrap(),
        "x,y,sum\n3,4,7.0\n"
    );
    let err = fails(
        2,
        &[
            "apply",
            "--fn",
            "sum",
            "-",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(err.contains("--output-dir needs input files"), "{err}");
}

#[test]
fn the_makefile_example_runs() {
    let w = Workdir::new();
    let data = w.path("data");
    std::fs::create_dir(&data).unwrap();
    for f in ["sample.csv", "weather.csv"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(f),
            data.join(f),
        )
        .unwrap();
    }
    let makefile = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Makefile.example");
    let bin = assert_cmd::cargo::cargo_bin("dfpar");
    let out = std::process::Command::new("make")
        .arg("-f")
        .arg(&makefile)
        .arg("-j2")
        .arg(format!("DFPAR={}", bin.display()))
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = std::fs::read_to_string(w.path("out/sample.csv")).unwrap();
    let expected = ok(&[
        "apply",
        "--fn",
        "count_range",
        "--arg",
        "min=4",
        "--arg",
        "max=8",
        data.join("sample.csv").to_str().unwrap(),
    ]);
    assert_eq!(counts, expected);
    assert!(std::fs::read_to_string(w.path("out/weather.csv"))
        .unwrap()
        .starts_with("station,city,temp_min,temp_max,rain_mm,note,count_range\n"));
    let summary = std::fs::read_to_string(w.path("out/summary.csv")).unwrap();
    assert!(
        summary.starts_with("column,count,null_count,mean,std,min,max\nc0,10000,0,"),
        "{summary}"
    );
    // The benchmark target: timed runs, their JSON and the speedup plot.
    let bench = std::process::Command::new("make")
        .arg("-f")
        .arg(&makefile)
        .arg("bench")
        .arg(format!("DFPAR={}", bin.display()))
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    assert!(
        bench.status.success(),
        "{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    let json = std::fs::read_to_string(w.path("out/bench.json")).unwrap();
    assert!(json.contains("\"speedup\""), "{json}");
    assert!(std::fs::read_to_string(w.path("out/speedup.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn output_formats_by_extension_or_flag() {
    use polars::prelude::*;
    let w = Workdir::new();
    let input = fixture("nulls.csv");
    let args = |out: &str| {
        vec![
            "apply",
            "--fn",
            "sum",
            "--fn",
            "count_range",
            "--arg",
            "min=4",
            "--arg",
            "max=8",
            "--chunk-size",
            "40",
            "-j",
            "2",
            &input,
            "-o",
            out,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run = |out: &Path| {
        let a = args(out.to_str().unwrap());
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    };
    let csv_path = w.path("out.csv");
    run(&csv_path);
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();

    // TSV: the same records, tab-separated, quoted only where a field needs it.
    let tsv_path = w.path("out.tsv");
    run(&tsv_path);
    let tsv = std::fs::read_to_string(&tsv_path).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_reader(tsv.as_bytes());
    let tsv_rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(tsv_rows, read_csv(&csv_text).1);
    assert!(
        tsv.contains("Smith, J\t"),
        "no quotes needed for a comma in TSV: {tsv}"
    );

    // Parquet, read back with polars, equals the CSV output.
    let pq_path = w.path("out.parquet");
    run(&pq_path);
    let pq = ParquetReader::new(std::fs::File::open(&pq_path).unwrap())
        .finish()
        .unwrap();
    let (header, rows) = read_csv(&csv_text);
    let pq_names: Vec<&str> = pq.columns().iter().map(|c| c.name().as_str()).collect();
    assert_eq!(
        pq_names,
        header.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(pq.height(), rows.len());
    for (j, name) in header.iter().enumerate() {
        let col = pq.column(name).unwrap().cast(&DataType::String).unwrap();
        let got: Vec<Option<String>> = col
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(String::from))
            .collect();
        let want: Vec<Option<String>> = rows
            .iter()
            .map(|r| Some(r[j].clone()).filter(|s| !s.is_empty()))
            .collect();
        let normal = |v: &Vec<Option<String>>| {
            v.iter()
                .map(|x| {
                    x.as_ref()
                        .map(|s| s.parse::<f64>().map(|f| f.to_string()).unwrap_or(s.clone()))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(normal(&got), normal(&want), "column {name}");
    }

    // JSON lines: one object per row with every column.
    let jsonl = ok(&[
        "apply", "--fn", "sum", "--format", "jsonl", "--cols", "a", &input,
    ]);
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(
        lines[0].starts_with(
            "{\"id\":1,\"name\":\"Smith, J\",\"a\":1.5,\"b\":null,\"c\":4,\"sum\":1.5}"
        ),
        "{}",
        lines[0]
    );

    // Column results and --output-dir take the format too.
    let dir = w.path("pq");
    ok(&[
        "apply",
        "--by",
        "column",
        "--fn",
        "mean",
        "--format",
        "parquet",
        &input,
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    let means = ParquetReader::new(std::fs::File::open(dir.join("nulls.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(means.shape(), (4, 2));
}

// ---- Commands as partition functions ----

const AWK_COUNT_RANGE: &str = r#"awk -F, 'NR == 1 { print $0 ",count_range"; next } { n = 0; for (i = 1; i <= NF; i++) if ($i >= 4 && $i <= 8) n++; print $0 "," n }'"#;

#[test]
fn a_command_gives_the_same_result_as_the_builtin() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 5000, 4, 8);
    let i = input.to_str().unwrap();
    let builtin = ok(&[
        "apply",
        "--fn",
        "count_range",
        "--arg",
        "min=4",
        "--arg",
        "max=8",
        i,
    ]);
    for jobs in ["1", "3"] {
        let cmd = ok(&[
            "apply",
            "--cmd",
            AWK_COUNT_RANGE,
            "-j",
            jobs,
            "--chunk-size",
            "2KiB",
            i,
        ]);
        assert_eq!(cmd, builtin, "--jobs {jobs}");
    }
    let unordered = ok(&[
        "apply",
        "--cmd",
        AWK_COUNT_RANGE,
        "-j",
        "3",
        "--chunk-size",
        "2KiB",
        "--mode",
        "unordered",
        i,
    ]);
    assert_eq!(restore_order(&unordered), canonical(&builtin));
}

#[test]
fn a_failing_command_names_itself_and_leaves_no_output() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 3000, 2, 1);
    let out = w.path("out.csv");
    let o = out.to_str().unwrap();
    let i = input.to_str().unwrap();
    let err = fails(
        1,
        &[
            "apply",
            "--cmd",
            "cat >/dev/null; echo oops >&2; exit 3",
            "--chunk-size",
            "4KiB",
            i,
            "-o",
            o,
        ],
    );
    assert!(
        err.contains("oops"),
        "the command's stderr passes through: {err}"
    );
    assert!(err.contains("gen.csv: lines 2-"), "{err}");
    assert!(
        err.contains("command 'cat >/dev/null; echo oops >&2; exit 3' exited with status 3"),
        "{err}"
    );
    let err = fails(1, &["apply", "--cmd", "printf 'a,b\\n1\\n'", i, "-o", o]);
    assert!(
        err.contains("wrote a row of 1 fields under a header of 2"),
        "{err}"
    );
    let err = fails(2, &["apply", "--cmd", "cat", "--fn", "sum", i, "-o", o]);
    assert!(
        err.contains("cannot be used with") || err.contains("not both"),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(w.entries(), ["gen.csv"]);
}

// ---- SQL expressions ----

#[test]
fn row_expressions_match_references_and_builtins() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 3000, 3, 6);
    let i = input.to_str().unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let values = columns_of(&text, &["c0", "c1", "c2"]);
    for jobs in ["1", "4"] {
        let out = ok(&[
            "apply",
            "--expr",
            "hyp = sqrt(c0*c0 + c1*c1)",
            "--expr",
            "in_range = (c0 BETWEEN 4 AND 8)::int + (c1 BETWEEN 4 AND 8)::int",
            "--only-results",
            "-j",
            jobs,
            "--chunk-size",
            "4KiB",
            i,
        ]);
        let got = columns_of(&out, &["hyp", "in_range"]);
        for (row, g) in values.iter().zip(&got) {
            let (a, b) = (row[0].unwrap(), row[1].unwrap());
            assert!(close(g[0], Some((a * a + b * b).sqrt())), "{row:?} {g:?}");
            let want = [a, b].iter().filter(|v| (4.0..=8.0).contains(*v)).count() as f64;
            assert_eq!(g[1], Some(want));
        }
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .split(',')
                .nth(1)
                .unwrap()
                .parse::<i64>()
                .is_ok(),
            "integer arithmetic stays integer"
        );
    }
    // The expression of count_range gives the builtin's column.
    let builtin = ok(&[
        "apply",
        "--fn",
        "count_range",
        "--arg",
        "min=4",
        "--arg",
        "max=8",
        "--cols",
        "c0,c1,c2",
        "--only-results",
        i,
    ]);
    let expr = ok(&["apply", "--expr", "count_range = (c0 BETWEEN 4 AND 8)::int + (c1 BETWEEN 4 AND 8)::int + (c2 BETWEEN 4 AND 8)::int", "--only-results", i]);
    assert_eq!(expr, builtin);
    // Mixed with --fn, reading its output.
    let out = ok(&[
        "apply",
        "--fn",
        "sum",
        "--expr",
        "twice = sum * 2",
        "--only-results",
        "--cols",
        "c0",
        i,
    ]);
    for row in columns_of(&out, &["sum", "twice"]) {
        assert_eq!(row[1], row[0].map(|v| v * 2.0));
    }
}

#[test]
fn expressions_on_text_columns_and_case() {
    let out = ok(&[
        "apply",
        "--expr",
        "band = CASE WHEN a > 5 THEN 'high' ELSE 'low' END",
        "--expr",
        "who = upper(name)",
        "--only-results",
        &fixture("nulls.csv"),
    ]);
    let (_, rows) = read_csv(&out);
    let band: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(band, ["low", "low", "high", "low", "high", "low"]);
    assert_eq!(rows[0][1], "SMITH, J");
}

#[test]
fn column_expressions_and_where_filters() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 4000, 2, 9);
    let i = input.to_str().unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let builtin = ok(&["apply", "--by", "column", "--fn", "sum_sq", i]);
    for jobs in ["1", "3"] {
        let expr = ok(&[
            "apply",
            "--by",
            "column",
            "--expr",
            "sum_sq = sum(_ * _)",
            "-j",
            jobs,
            "--chunk-size",
            "2KiB",
            i,
        ]);
        assert_eq!(expr, builtin, "--jobs {jobs}");
    }
    let serial = ok(&[
        "apply",
        "--by",
        "frame",
        "--where",
        "c0 > 15 AND c1 < 0",
        "-j",
        "1",
        i,
    ]);
    let parallel = ok(&[
        "apply",
        "--by",
        "frame",
        "--where",
        "c0 > 15 AND c1 < 0",
        "-j",
        "4",
        "--chunk-size",
        "1KiB",
        i,
    ]);
    assert_eq!(serial, parallel);
    let want: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| {
            let v: Vec<i64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            v[0] > 15 && v[1] < 0
        })
        .collect();
    let got: Vec<&str> = serial.lines().skip(1).collect();
    assert_eq!(got, want);
    assert!(!want.is_empty());
}

#[test]
fn expression_mistakes_are_reported_before_any_work() {
    let nulls = fixture("nulls.csv");
    let err = fails(2, &["apply", "--expr", "x = sqrt(a", &nulls]);
    assert!(
        err.contains("--expr 'sqrt(a'") || err.contains("sqrt(a"),
        "{err}"
    );
    let err = fails(2, &["apply", "--expr", "x = nope + 1", &nulls]);
    assert!(err.contains("unknown column 'nope'"), "{err}");
    let err = fails(2, &["apply", "--expr", "just an expression", &nulls]);
    assert!(err.contains("expected NAME = EXPRESSION"), "{err}");
    let err = fails(
        2,
        &["apply", "--by", "frame", "--where", "missing > 1", &nulls],
    );
    assert!(
        err.contains("--where 'missing > 1': unknown column 'missing'"),
        "{err}"
    );
}
