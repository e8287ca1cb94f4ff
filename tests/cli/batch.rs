//! Batch use: several inputs as one stream, one output per input, the Makefile example,
//! and the output formats.

use crate::common::*;

use std::path::Path;

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
    let args = |out: &str, chunk: &str, jobs: &str| {
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
            chunk,
            "-j",
            jobs,
            &input,
            "-o",
            out,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run_with = |out: &Path, chunk: &str, jobs: &str| {
        let a = args(out.to_str().unwrap(), chunk, jobs);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    };
    let run = |out: &Path| run_with(out, "40", "2");
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
    let read_parquet = |p: &Path| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    };
    let pq = read_parquet(&pq_path);
    // The whole input in one chunk, serially: the same frame.
    let whole = w.path("whole.parquet");
    run_with(&whole, "4MiB", "1");
    assert!(read_parquet(&whole).equals_missing(&pq));
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
