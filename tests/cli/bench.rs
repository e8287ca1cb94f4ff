//! `dfpar bench` end to end on a small generated input: the table, the three exports,
//! the SVG plot, and the errors (exit codes, messages).

use crate::common::*;

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// The circles of an SVG document, which must be well-formed XML with an `svg` root.
fn svg_circles(svg: &str) -> usize {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut circles, mut depth, mut root) = (0, 0i32, None);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) => {
                root.get_or_insert_with(|| e.name().as_ref().to_vec());
                depth += 1;
            }
            Event::End(_) => depth -= 1,
            Event::Empty(e) if e.name().as_ref() == b"circle" => circles += 1,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    assert_eq!(root.as_deref(), Some(&b"svg"[..]));
    circles
}

#[test]
fn bench_reports_every_case_in_every_format() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 2000, 3, 0);
    let (json, csv, md, svg) = (
        w.path("b.json"),
        w.path("b.csv"),
        w.path("b.md"),
        w.path("p.svg"),
    );
    let table = ok(&[
        "bench",
        "--fn",
        "sum",
        "--jobs-list",
        "1,2",
        "--modes",
        "ordered,unordered",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--export-json",
        s(&json),
        "--export-csv",
        s(&csv),
        "--export-markdown",
        s(&md),
        "--plot",
        s(&svg),
        s(&input),
    ]);

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["input_rows"], 2000);
    let results = report["results"].as_array().unwrap();
    let mut cases: Vec<(String, u64)> = results
        .iter()
        .map(|r| {
            (
                r["mode"].as_str().unwrap().to_string(),
                r["jobs"].as_u64().unwrap(),
            )
        })
        .collect();
    cases.sort();
    let want = [
        ("ordered", 1),
        ("ordered", 2),
        ("unordered", 1),
        ("unordered", 2),
    ];
    assert_eq!(cases, want.map(|(m, j)| (m.to_string(), j)));
    for r in results {
        for field in [
            "median_s",
            "min_s",
            "max_s",
            "rows_per_s",
            "mb_per_s",
            "speedup",
        ] {
            assert!(r[field].as_f64().unwrap() > 0.0, "{field} of {r}");
        }
        assert!(r["efficiency"].as_f64().unwrap() > 0.0);
        assert!(r["peak_rss_mb"].as_f64().unwrap() > 0.0);
        assert_eq!(r["runs"], 1);
        if r["jobs"] == 1 {
            assert_eq!(r["speedup"], 1.0);
        }
    }
    let fits = report["amdahl"].as_array().unwrap();
    assert_eq!(fits.len(), 2, "one fit per mode");
    for f in fits {
        let s = f["serial_fraction"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
        assert_eq!(f["predicted"].as_array().unwrap().len(), 3);
    }

    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "mode");
    assert!(header.iter().any(|h| h == "peak_rss_mb"));
    assert_eq!(reader.records().count(), 4);

    let md_text = std::fs::read_to_string(&md).unwrap();
    let md_rows = md_text
        .lines()
        .filter(|l| l.starts_with("| ordered") || l.starts_with("| unordered"))
        .count();
    assert_eq!(md_rows, 4);

    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(svg_circles(&svg_text), 4, "one marker per measured case");

    let table_rows = table
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("ordered") || l.trim_start().starts_with("unordered")
        })
        .count();
    assert_eq!(table_rows, 4, "{table}");
    assert!(table.contains("Amdahl fit"), "{table}");
}

#[test]
fn the_jobs_1_baseline_is_always_measured() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 500, 2, 0);
    let json = w.path("b.json");
    ok(&[
        "bench",
        "--by",
        "column",
        "--fn",
        "mean",
        "--jobs-list",
        "2",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--export-json",
        s(&json),
        s(&input),
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let jobs: Vec<u64> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["jobs"].as_u64().unwrap())
        .collect();
    assert_eq!(jobs, [1, 2]);
}

/// Runs go in rounds over the cases (1, 2, 1, 2, ...), warm-up rounds first, so that a
/// change in the machine's load falls on every case alike.
#[test]
fn runs_go_in_rounds_over_the_cases() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 100, 2, 0);
    let log = w.path("runs.log");
    let cmd = format!("echo $POLARS_MAX_THREADS >> '{}'; cat", s(&log));
    ok(&[
        "bench",
        "--cmd",
        &cmd,
        "--jobs-list",
        "1,2",
        "--runs",
        "2",
        "--warmup",
        "1",
        s(&input),
    ]);
    let order = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        order.split_whitespace().collect::<Vec<_>>(),
        ["1", "2"].repeat(3)
    );
}

#[test]
fn bad_flags_are_usage_errors_that_name_the_flag() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 10, 2, 0);
    let i = s(&input);
    for (args, flag) in [
        (vec!["--fn", "sum", "--jobs", "2", i], "--jobs"),
        (vec!["--fn", "sum", "--mode", "unordered", i], "--mode"),
        (vec!["--fn", "sum", "-o", "x.csv", i], "--output"),
        (vec!["--fn", "sum", "--jobs-list", "1,0", i], "--jobs-list"),
        (vec!["--fn", "sum", "--modes", "sideways", i], "--modes"),
        (vec!["--fn", "sum", "--runs", "0", i], "--runs"),
        (vec!["--fn", "sum", "-"], "INPUT"),
        (vec!["--fn", "no_such_function", i], "no_such_function"),
    ] {
        let all: Vec<&str> = std::iter::once("bench").chain(args).collect();
        let err = fails(2, &all);
        assert!(err.contains(flag), "{all:?}: {err}");
    }
}

#[test]
fn a_failing_run_stops_the_bench_with_its_message() {
    let w = Workdir::new();
    // Columns are typed on the first 1000 rows, so only the run itself meets the text.
    let mut text = "a,b\n".to_string() + &"1,2\n".repeat(1000);
    text.push_str("3,x\n");
    let bad = w.write("bad.csv", text.as_bytes());
    let (json, svg) = (w.path("b.json"), w.path("p.svg"));
    let err = fails(
        1,
        &[
            "bench",
            "--fn",
            "sum",
            "--export-json",
            s(&json),
            "--plot",
            s(&svg),
            s(&bad),
        ],
    );
    assert!(err.contains("'x' is not a number"), "{err}");
    assert!(err.contains("--jobs 1"), "names the run: {err}");
    assert!(
        !json.exists() && !svg.exists(),
        "nothing written after a failure"
    );
    let ragged = w.write("ragged.csv", b"a,b,c\n1,2,3\n4,5\n");
    let err = fails(1, &["bench", "--fn", "sum", s(&ragged)]);
    assert!(err.contains("expected 3 fields, found 2"), "{err}");
    let err = fails(1, &["bench", "--fn", "sum", s(&w.path("missing.csv"))]);
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn bench_scanner_times_every_case_quote_free_and_quoted() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 20_000, 5, 1);
    let out = ok(&["bench-scanner", "--runs", "1", "--max-mb", "1", s(&input)]);
    for section in ["quote-free:", "quoted:", "reader alone"] {
        assert_eq!(out.matches(section).count(), 1, "{section} in {out}");
    }
    let rates: Vec<f64> = out
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().last().unwrap().parse().unwrap())
        .collect();
    assert_eq!(rates.len(), 2 * 7 + 1, "{out}");
    assert!(rates.iter().all(|&r| r > 0.0), "{out}");
    let missing = w.path("missing.csv");
    let err = dfpar(&["bench-scanner", s(&missing)]);
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("missing.csv"));
}

#[test]
fn gen_writes_decimals_with_every_digit_under_f_names() {
    let out = ok(&[
        "gen",
        "--rows",
        "3",
        "--cols",
        "2",
        "--decimals",
        "3",
        "--seed",
        "4",
    ]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("f0,f1"));
    for line in lines {
        for field in line.split(',') {
            let (whole, frac) = field.split_once('.').expect("a decimal point");
            assert_eq!(frac.len(), 3, "{field}");
            let v: f64 = field.parse().unwrap();
            assert!((0.0..10.0).contains(&v) && !whole.is_empty(), "{field}");
        }
    }
}
