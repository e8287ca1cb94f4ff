//! The engine: ordered output equal to serial, unordered restored, chunking, stdin,
//! output files, dialects, progress, pipes and help.

use crate::common::*;

use assert_cmd::Command;

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
fn help_documents_exit_codes() {
    let help = ok(&["apply", "--help"]);
    assert!(help.contains("Exit codes"));
    assert!(help.contains("--mode"));
}

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
fn the_default_chunk_size_for_narrow_rows_gives_the_serial_output() {
    // Narrow rows of five integers: chunks of under 1 MiB by default, against one 8 MiB
    // chunk run serially (integer sums are exact however the column is split).
    let w = Workdir::new();
    let input = w.gen("narrow.csv", 300_000, 5, 4);
    let input = input.to_str().unwrap();
    let row: &[&str] = &[
        "apply",
        "--fn",
        "count_range",
        "--arg",
        "min=0",
        "--arg",
        "max=9",
    ];
    let column: &[&str] = &["apply", "--by", "column", "--fn", "sum_sq", "--fn", "count"];
    for args in [row, column] {
        let serial = ok(&[args, &["-j", "1", "--chunk-size", "8MiB", input]].concat());
        for jobs in ["1", "2"] {
            let out = ok(&[args, &["-j", jobs, input]].concat());
            assert!(
                out == serial,
                "{args:?} --jobs {jobs} with the default chunk size"
            );
        }
    }
}
