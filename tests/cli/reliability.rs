//! Reliability: every error names its cause, exits non-zero and leaves no output; bad
//! rows skipped into a rejects file; late errors, interrupts, full disks, odd input.

use crate::common::*;

use assert_cmd::Command;

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

/// /dev/full fails every write with ENOSPC: whatever writes the format (dfpar or polars),
/// the error is an output error naming the path and the system's reason.
#[cfg(target_os = "linux")]
#[test]
fn full_disk_is_an_output_error_in_every_format() {
    for format in ["csv", "tsv", "parquet", "jsonl"] {
        for by in [&["--fn", "sum"][..], &["--by", "column", "--fn", "mean"]] {
            let nulls = fixture("nulls.csv");
            let mut args = vec!["apply", "--format", format, &nulls];
            args.extend(by);
            args.extend(["-o", "/dev/full"]);
            let err = fails(1, &args);
            assert!(
                err.contains("/dev/full: cannot write output: No space left on device"),
                "{format} {by:?}: {err}"
            );
        }
    }
}

#[test]
fn flag_conflicts_are_usage_errors_before_any_file_is_touched() {
    let w = Workdir::new();
    let missing = w.path("missing.csv");
    let m = missing.to_str().unwrap();
    let out = "/nonexistent-dir/out.csv";
    for (args, message) in [
        (
            vec!["--where", "c0 > 1", "--fn", "sum"],
            "--where filters rows with --by frame and no --fn",
        ),
        (
            vec!["--where", "c0 > 1"],
            "--where filters rows with --by frame",
        ),
        (
            vec!["--by", "frame", "--expr", "x = c0"],
            "--by frame takes --where EXPRESSION, not --expr",
        ),
        (
            vec!["--by", "frame", "--fn", "shape", "--fn", "describe"],
            "--by frame takes one --fn",
        ),
        (
            vec!["--cmd", "cat", "--expr", "x = c0"],
            "give either --expr or --cmd",
        ),
        (
            vec!["--cmd", "cat", "--format", "parquet"],
            "--cmd output is CSV",
        ),
        (
            vec!["--fn", "sum", "--fn", "sum"],
            "--fn sum is given twice",
        ),
        (vec!["--fn", "nope"], "unknown row function 'nope'"),
        (
            vec!["--fn", "count_range", "--arg", "min=4"],
            "count_range needs --arg max=VALUE",
        ),
        (
            vec!["--fn", "sum", "--arg", "min=1"],
            "unknown parameter 'min'",
        ),
        (vec!["--expr", "x = sqrt(c0"], "sqrt(c0"),
        (
            vec!["--fn", "sum", "--rejects", "r.csv"],
            "--rejects needs --on-bad-rows skip",
        ),
    ] {
        let mut all = vec!["apply"];
        all.extend(&args);
        all.extend([m, "-o", out]);
        let err = fails(2, &all);
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in {err}"
        );
    }
    assert_eq!(w.entries(), Vec::<String>::new(), "nothing was created");
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
