//! User functions: commands as partition functions (`--cmd`) and polars SQL
//! expressions (`--expr`, `--where`), each against a reference or the builtin.

use crate::common::*;

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
