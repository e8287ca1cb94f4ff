//! Sharding (`--shard I/N`) and `dfpar merge`: at every shard count, on generated data and
//! on data dense with quoted line breaks across the shard boundaries, the merged result is
//! the single run's; incomplete, repeated, stale or foreign sets of parts are refused.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A file whose records hold quoted fields with delimiters, doubled quotes and line
/// breaks (some CRLF), a few bytes apart, so that shard boundaries fall inside them.
fn quoted_input(w: &Workdir) -> PathBuf {
    let texts = [
        "\"a,b\nc\"",
        "\"say \"\"hi\"\"\n\"",
        "\"\n\n\"",
        "plain",
        "\"x\r\ny\"",
        "\"\"\"\"",
        "\",\"",
    ];
    let mut s = String::from("id,text,a,b\n");
    for i in 0..3000u64 {
        let text = texts[(i * 7 % 11) as usize % texts.len()];
        let end = if i % 5 == 0 { "\r\n" } else { "\n" };
        s.push_str(&format!(
            "{i},{text},{},{}{end}",
            (i * 37) % 10,
            (i * 11) % 7
        ));
    }
    w.write("quoted.csv", s.as_bytes())
}

/// How many of the shard boundaries of `counts` fall inside a quoted field of `path`.
fn boundaries_inside_quotes(path: &Path, counts: &[u64]) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut quoted_at = vec![false; bytes.len() + 1];
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        quoted_at[i] = quoted;
        if b == b'"' {
            quoted = !quoted;
        }
    }
    let size = bytes.len() as u64;
    counts
        .iter()
        .flat_map(|&n| (1..n).map(move |i| (i * size / n) as usize))
        .filter(|&b| quoted_at[b])
        .count()
}

/// `args` over `input` run once, and as `n` shards (parts named `.ext`) merged.
fn single_and_merged(
    w: &Workdir,
    input: &str,
    args: &[&str],
    n: u64,
    ext: &str,
) -> (Vec<u8>, Vec<u8>) {
    let single = w.path(&format!("single.{ext}"));
    let mut a: Vec<&str> = vec!["apply"];
    a.extend(args);
    a.extend([input, "-o", single.to_str().unwrap()]);
    ok(&a);
    let dir = w.path(&format!("parts-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for i in 0..n {
        let part = dir.join(format!("part-{i}.{ext}"));
        let shard = format!("{i}/{n}");
        let mut a: Vec<&str> = vec!["apply", "--shard", &shard, "--chunk-size", "1KiB"];
        a.extend(args);
        a.extend([input, "-o", part.to_str().unwrap()]);
        ok(&a);
        parts.push(part.to_str().unwrap().to_string());
    }
    parts.reverse(); // any order
    let merged = w.path(&format!("merged.{ext}"));
    let mut m: Vec<&str> = vec!["merge"];
    m.extend(parts.iter().map(String::as_str));
    m.extend(["-o", merged.to_str().unwrap()]);
    ok(&m);
    (
        std::fs::read(&single).unwrap(),
        std::fs::read(&merged).unwrap(),
    )
}

/// Tables equal field by field: numbers within 1e-12 relative, the rest exactly.
fn assert_tables_agree(a: &str, b: &str, what: &str) {
    let (ha, ra) = read_csv(a);
    let (hb, rb) = read_csv(b);
    assert_eq!(ha, hb, "{what}");
    assert_eq!(ra.len(), rb.len(), "{what}");
    for (x, y) in ra.iter().flatten().zip(rb.iter().flatten()) {
        match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) if p != q => assert!(
                (p - q).abs() <= 1e-12 * p.abs().max(q.abs()),
                "{what}: {x} vs {y}"
            ),
            _ => assert_eq!(x, y, "{what}"),
        }
    }
}

const CASES: [&[&str]; 7] = [
    &["--fn", "sum", "--cols", "a,b"],
    &[
        "--fn",
        "count_range",
        "--arg",
        "min=2",
        "--arg",
        "max=5",
        "--cols",
        "a,b",
        "--mode",
        "unordered",
    ],
    &[
        "--by", "column", "--fn", "mean", "--fn", "std", "--fn", "count", "--cols", "a,b",
    ],
    &["--by", "frame", "--fn", "describe", "--cols", "a,b"],
    &["--by", "frame", "--fn", "shape"],
    &[
        "--by",
        "frame",
        "--fn",
        "sample",
        "--arg",
        "n=25",
        "--mode",
        "unordered",
    ],
    &["--by", "frame", "--where", "a > 4 AND b < 3"],
];

fn check_case(w: &Workdir, input: &str, args: &[&str], n: u64) {
    let (single, merged) = single_and_merged(w, input, args, n, "csv");
    let (single, merged) = (
        String::from_utf8(single).unwrap(),
        String::from_utf8(merged).unwrap(),
    );
    let what = format!("{args:?} at {n} shards of {input}");
    if args.contains(&"unordered") {
        assert_eq!(restore_order(&merged), restore_order(&single), "{what}");
    } else if args.contains(&"column") || args.contains(&"describe") {
        assert_tables_agree(&single, &merged, &what);
    } else {
        assert!(single == merged, "{what}:\n{single}\nvs\n{merged}");
    }
}

#[test]
fn shards_of_quoted_data_merge_into_the_single_run_for_every_by() {
    let w = Workdir::new();
    let input = quoted_input(&w);
    let inside = boundaries_inside_quotes(&input, &[2, 3, 7, 64]);
    assert!(
        inside >= 10,
        "only {inside} shard boundaries fall inside quoted fields"
    );
    let i = input.to_str().unwrap();
    for args in CASES {
        for n in [1, 2, 3, 7, 64] {
            check_case(&w, i, args, n);
        }
    }
}

#[test]
fn shards_of_generated_data_merge_into_the_single_run_in_every_format() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 20_000, 4, 21);
    let i = input.to_str().unwrap();
    for args in CASES {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "a,b" { "c0,c1" } else { a })
            .collect();
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "a > 4 AND b < 3" => "c0 > 4 AND c1 < 3",
                other => other,
            })
            .collect();
        check_case(&w, i, &args, 7);
    }
    for mode in ["ordered", "unordered"] {
        for ext in ["tsv", "jsonl"] {
            let args = ["--fn", "sum", "--mode", mode];
            let (single, merged) = single_and_merged(&w, i, &args, 5, ext);
            let (single, merged) = (
                String::from_utf8(single).unwrap(),
                String::from_utf8(merged).unwrap(),
            );
            if mode == "ordered" {
                assert!(single == merged, "{ext} {mode}");
            } else {
                let mut a: Vec<&str> = single.lines().collect();
                let mut b: Vec<&str> = merged.lines().collect();
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "{ext} {mode}");
            }
        }
        use polars::prelude::*;
        let (single, merged) =
            single_and_merged(&w, i, &["--fn", "sum", "--mode", mode], 5, "parquet");
        let read = |b: Vec<u8>| {
            let df = ParquetReader::new(std::io::Cursor::new(b))
                .finish()
                .unwrap();
            match mode {
                "ordered" => df,
                _ => df.sort(["row_index"], Default::default()).unwrap(),
            }
        };
        assert!(read(single).equals_missing(&read(merged)), "parquet {mode}");
    }
}

/// Runs the four shards of `input` into `dir` and returns the parts.
fn four_parts(input: &Path, dir: &Path, args: &[&str]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..4)
        .map(|i| {
            let part = dir.join(format!("p{i}.csv"));
            let shard = format!("{i}/4");
            let mut a = vec!["apply", "--shard", &shard];
            a.extend(args);
            a.extend([input.to_str().unwrap(), "-o", part.to_str().unwrap()]);
            ok(&a);
            part
        })
        .collect()
}

fn merge_fails(parts: &[PathBuf], out: &Path) -> String {
    let mut m = vec!["merge"];
    m.extend(parts.iter().map(|p| p.to_str().unwrap()));
    m.extend(["-o", out.to_str().unwrap()]);
    let err = fails(1, &m);
    assert!(!out.exists(), "a failed merge leaves no output");
    err
}

#[test]
fn merge_refuses_incomplete_repeated_stale_and_foreign_parts() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 5000, 3, 4);
    let out = w.path("merged.csv");
    let args = ["--fn", "sum"];
    let parts = four_parts(&input, &w.path("a"), &args);
    let err = merge_fails(&parts[..3], &out);
    assert!(err.contains("shards 3 of 4 are missing"), "{err}");
    let copy = w.path("a/copy.csv");
    std::fs::copy(&parts[2], &copy).unwrap();
    std::fs::copy(
        format!("{}.manifest.json", parts[2].display()),
        format!("{}.manifest.json", copy.display()),
    )
    .unwrap();
    let mut with_copy = parts.clone();
    with_copy.push(copy);
    let err = merge_fails(&with_copy, &out);
    assert!(err.contains("is shard 2/4 again"), "{err}");
    let other = four_parts(&input, &w.path("b"), &["--fn", "mean"]);
    let mixed = [
        parts[0].clone(),
        parts[1].clone(),
        other[2].clone(),
        parts[3].clone(),
    ];
    let err = merge_fails(&mixed, &out);
    assert!(err.contains("p2.csv: is of other options"), "{err}");
    let mut text = std::fs::read(&parts[1]).unwrap();
    text.extend(b"9,9,9,27.0\n");
    std::fs::write(&parts[1], &text).unwrap();
    let err = merge_fails(&parts, &out);
    assert!(
        err.contains("p1.csv: has") && err.contains("its manifest says"),
        "{err}"
    );
    std::fs::remove_file(format!("{}.manifest.json", parts[3].display())).unwrap();
    let err = merge_fails(&[parts[0].clone(), parts[3].clone()], &out);
    assert!(err.contains("p3.csv: no manifest"), "{err}");
    // The input changed between shards: another input.
    let c = four_parts(&input, &w.path("c"), &args);
    std::fs::write(&input, std::fs::read_to_string(&input).unwrap() + "1,2,3\n").unwrap();
    let fresh = four_parts(&input, &w.path("d"), &args);
    let err = merge_fails(
        &[
            c[0].clone(),
            fresh[1].clone(),
            fresh[2].clone(),
            fresh[3].clone(),
        ],
        &out,
    );
    assert!(err.contains("is of another input"), "{err}");
}

#[test]
fn a_bad_row_fails_its_shard_with_the_files_line_and_merge_refuses_the_rest() {
    let w = Workdir::new();
    let mut text = String::from("a,b\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", i % 7));
    }
    text.push_str("1,2,3\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},1\n"));
    }
    let at = text.find("1,2,3").unwrap() as u64;
    let holder = at * 4 / text.len() as u64;
    let input = w.write("bad.csv", text.as_bytes());
    let dir = w.path("parts");
    std::fs::create_dir(&dir).unwrap();
    let mut parts = Vec::new();
    let mut failed = Vec::new();
    for i in 0..4 {
        let part = dir.join(format!("p{i}.csv"));
        let shard = format!("{i}/4");
        let out = dfpar(&[
            "apply",
            "--fn",
            "sum",
            "--shard",
            &shard,
            input.to_str().unwrap(),
            "-o",
            part.to_str().unwrap(),
        ]);
        if out.status.success() {
            parts.push(part);
        } else {
            assert_eq!(out.status.code(), Some(1));
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(
                err.contains("bad.csv:20002: expected 2 fields, found 3"),
                "{err}"
            );
            assert!(!part.exists());
            failed.push(i);
        }
    }
    assert_eq!(failed, [holder], "the shard holding line 20002 fails");
    let err = merge_fails(&parts, &w.path("merged.csv"));
    assert!(
        err.contains(&format!("shards {holder} of 4 are missing")),
        "{err}"
    );
}

#[test]
fn shard_flags_are_checked_before_any_file_is_touched() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 100, 2, 1);
    let i = input.to_str().unwrap();
    let o = w.path("part.csv");
    let o = o.to_str().unwrap();
    for (args, message) in [
        (
            vec!["--fn", "sum", "--shard", "0/2", "-", "-o", o],
            "--shard needs a file",
        ),
        (
            vec!["--fn", "sum", "--shard", "0/2", i],
            "--shard needs -o PART",
        ),
        (
            vec!["--fn", "sum", "--shard", "2/2", i, "-o", o],
            "expected I/N with 0 <= I < N",
        ),
        (
            vec!["--cmd", "cat", "--shard", "0/2", i, "-o", o],
            "--cmd cannot be sharded",
        ),
        (
            vec![
                "--by",
                "column",
                "--expr",
                "s = sum(_)",
                "--shard",
                "0/2",
                i,
                "-o",
                o,
            ],
            "cannot be sharded",
        ),
        (
            vec!["--fn", "sum", "--shard", "0/2", i, i, "-o", o],
            "--shard takes one input file",
        ),
        (
            vec!["--fn", "sum", "--shard-count", "3", i, "-o", o],
            "--shard-count goes with --shard auto",
        ),
    ] {
        let mut a = vec!["apply"];
        a.extend(&args);
        let err = fails(2, &a);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let out = assert_cmd::Command::cargo_bin("dfpar")
        .unwrap()
        .args(["apply", "--fn", "sum", "--shard", "auto", i, "-o", o])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "JOB_COMPLETION_INDEX",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ] {
        assert!(err.contains(var), "{err}");
    }
    assert_eq!(w.entries(), ["gen.csv"]);
}

#[test]
fn shard_auto_reads_the_schedulers_environment() {
    let w = Workdir::new();
    let input = w.gen("gen.csv", 3000, 2, 8);
    let i = input.to_str().unwrap();
    let single = ok(&["apply", "--fn", "sum", i]);
    let envs: [(&str, &[(&str, &str)]); 3] = [
        ("slurm", &[("SLURM_ARRAY_TASK_COUNT", "3")]),
        ("k8s", &[]),
        ("aws", &[]),
    ];
    for (name, extra) in envs {
        let mut parts = Vec::new();
        for k in 0..3 {
            let part = w.path(&format!("{name}-{k}.csv"));
            let mut cmd = assert_cmd::Command::cargo_bin("dfpar").unwrap();
            cmd.args([
                "apply",
                "--fn",
                "sum",
                "--shard",
                "auto",
                i,
                "-o",
                part.to_str().unwrap(),
            ]);
            match name {
                "slurm" => cmd.env("SLURM_ARRAY_TASK_ID", k.to_string()),
                "k8s" => cmd
                    .env("JOB_COMPLETION_INDEX", k.to_string())
                    .args(["--shard-count", "3"]),
                _ => cmd
                    .env("AWS_BATCH_JOB_ARRAY_INDEX", k.to_string())
                    .args(["--shard-count", "3"]),
            };
            for (k, v) in extra {
                cmd.env(k, v);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            parts.push(part.to_str().unwrap().to_string());
        }
        let mut m = vec!["merge"];
        m.extend(parts.iter().map(String::as_str));
        assert_eq!(ok(&m), single, "{name}");
    }
}

/// Fails with what to do when a tool the test needs is missing (never skips).
fn need(tool: &str, package: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed: `make test` installs it (apt-get install {package})"
    );
}

#[test]
fn make_j_runs_one_target_per_shard_and_the_merge() {
    need("make", "make");
    let w = Workdir::new();
    let input = w.gen("big.csv", 30_000, 5, 13);
    let makefile = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Makefile.shards");
    let out = w.path("shards");
    let status = std::process::Command::new("make")
        .arg("-f")
        .arg(&makefile)
        .args(["-j", "2", "SHARDS=4"])
        .arg(format!("INPUT={}", input.display()))
        .arg(format!("OUT={}", out.display()))
        .arg(format!(
            "DFPAR={}",
            assert_cmd::cargo::cargo_bin("dfpar").display()
        ))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let single = ok(&[
        "apply",
        "--fn",
        "count_range",
        "--arg",
        "min=4",
        "--arg",
        "max=8",
        input.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(out.join("result.csv")).unwrap(),
        single
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        9,
        "4 parts, 4 manifests, the result"
    );
}

#[test]
fn gnu_parallel_runs_the_shards_and_merge_joins_them() {
    need("parallel", "parallel");
    let w = Workdir::new();
    let input = w.gen("big.csv", 30_000, 5, 14);
    let bin = assert_cmd::cargo::cargo_bin("dfpar");
    let parts = w.path("parts");
    std::fs::create_dir(&parts).unwrap();
    let script = format!(
        "parallel --halt now,fail=1 '{bin}' apply --by column --fn mean --fn max --jobs 1 --shard {{}}/8 '{input}' -o '{parts}/part-{{}}.csv' ::: $(seq 0 7) && '{bin}' merge '{parts}'/part-*.csv",
        bin = bin.display(),
        input = input.display(),
        parts = parts.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let single = ok(&[
        "apply",
        "--by",
        "column",
        "--fn",
        "mean",
        "--fn",
        "max",
        input.to_str().unwrap(),
    ]);
    assert_tables_agree(&single, &String::from_utf8(out.stdout).unwrap(), "parallel");
}
