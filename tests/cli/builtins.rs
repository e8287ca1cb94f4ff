//! The builtins, derived from the registry: every row, column and frame function of
//! `dfpar list` is run end to end and checked against a reference computed here; a new
//! builtin without a reference fails `every_*_builtin_*`.

use dfpar::functions::{builtins, Builtin, Kind};

use crate::common::*;

/// The present (non-null) values of a row or column.
fn present(values: &[Option<f64>]) -> Vec<f64> {
    values.iter().flatten().copied().collect()
}

fn nonempty(values: &[f64], v: f64) -> Option<f64> {
    (!values.is_empty()).then_some(v)
}

/// A row builtin's reference: the `--arg`s the test gives it, and its output columns for
/// one row's selected values.
type RowReference = (
    &'static [&'static str],
    fn(&[Option<f64>]) -> Vec<Option<f64>>,
);

fn row_reference(name: &str) -> Option<RowReference> {
    Some(match name {
        "count_range" => (&["--arg", "min=4", "--arg", "max=8"], |v| {
            let n = present(v)
                .iter()
                .filter(|&&x| (4.0..=8.0).contains(&x))
                .count();
            vec![Some(n as f64)]
        }),
        "null_count" => (&[], |v| vec![Some((v.len() - present(v).len()) as f64)]),
        "sum" => (&[], |v| {
            let p = present(v);
            vec![nonempty(&p, p.iter().sum())]
        }),
        "mean" => (&[], |v| {
            let p = present(v);
            vec![nonempty(&p, p.iter().sum::<f64>() / p.len() as f64)]
        }),
        "hypot" => (&[], |v| {
            let p = present(v);
            vec![nonempty(&p, p.iter().map(|x| x * x).sum::<f64>().sqrt())]
        }),
        "min" => (&[], |v| vec![present(v).into_iter().reduce(f64::min)]),
        "max" => (&[], |v| vec![present(v).into_iter().reduce(f64::max)]),
        "normalize" => (&[], |v| {
            let p = present(v);
            let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            v.iter().map(|x| x.map(|x| (x - lo) / (hi - lo))).collect()
        }),
        _ => return None,
    })
}

/// A column builtin's reference: its value for one column's values.
type ColumnReference = fn(&[Option<f64>]) -> Option<f64>;

fn column_reference(name: &str) -> Option<ColumnReference> {
    Some(match name {
        "sum_sq" => |v| {
            let p = present(v);
            nonempty(&p, p.iter().map(|x| x * x).sum())
        },
        "sum" => |v| {
            let p = present(v);
            nonempty(&p, p.iter().sum())
        },
        "mean" => |v| {
            let p = present(v);
            nonempty(&p, p.iter().sum::<f64>() / p.len() as f64)
        },
        "std" => |v| {
            let p = present(v);
            let n = p.len() as f64;
            let mean = p.iter().sum::<f64>() / n;
            (p.len() > 1)
                .then(|| (p.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
        },
        "min" => |v| present(v).into_iter().reduce(f64::min),
        "max" => |v| present(v).into_iter().reduce(f64::max),
        "count" => |v| Some(present(v).len() as f64),
        "null_count" => |v| Some((v.len() - present(v).len()) as f64),
        _ => return None,
    })
}

/// The frame builtins' end-to-end checks, by name.
const FRAME_CHECKS: [(&str, fn()); 3] = [
    ("shape", check_shape_and_describe),
    ("describe", check_shape_and_describe),
    ("sample", check_sample),
];

fn of_kind(kind: Kind) -> impl Iterator<Item = &'static Builtin> {
    builtins().filter(move |b| b.kind == kind)
}

/// The inputs every builtin runs on: a fixture with nulls and a generated file.
fn inputs(w: &Workdir) -> Vec<(String, Vec<String>)> {
    let generated = w.gen("gen.csv", 3000, 4, 11);
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (fixture("nulls.csv"), names(&["a", "b", "c"])),
        (
            generated.to_str().unwrap().to_string(),
            names(&["c0", "c1", "c2", "c3"]),
        ),
    ]
}

#[test]
fn every_row_builtin_matches_its_reference_with_nulls_and_on_generated_data() {
    let w = Workdir::new();
    for (input, cols) in inputs(&w) {
        let text = std::fs::read_to_string(&input).unwrap();
        let names: Vec<&str> = cols.iter().map(String::as_str).collect();
        let values = columns_of(&text, &names);
        let cols_arg = cols.join(",");
        for b in of_kind(Kind::Row) {
            let (args, reference) = row_reference(b.name).unwrap_or_else(|| {
                panic!(
                    "row builtin {} has no reference in tests/cli/builtins.rs",
                    b.name
                )
            });
            let outputs = (b.outputs)(b.name, &cols);
            let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
            let want: Vec<Vec<Option<f64>>> = values.iter().map(|r| reference(r)).collect();
            for jobs in ["1", "3"] {
                let mut a = vec!["apply", "--fn", b.name, "--cols", &cols_arg, "-j", jobs];
                a.extend(["--chunk-size", "100", &input]);
                a.extend(args);
                let got = columns_of(&ok(&a), &outputs);
                for (k, name) in outputs.iter().enumerate() {
                    let g: Vec<Option<f64>> = got.iter().map(|r| r[k]).collect();
                    let w: Vec<Option<f64>> = want.iter().map(|r| r[k]).collect();
                    assert_close(
                        &g,
                        &w,
                        &format!("{} ({name}) on {input} at --jobs {jobs}", b.name),
                    );
                }
            }
        }
    }
}

#[test]
fn every_column_builtin_matches_one_pass_over_the_column() {
    let w = Workdir::new();
    for (input, cols) in inputs(&w) {
        let text = std::fs::read_to_string(&input).unwrap();
        let fns: Vec<&'static Builtin> = of_kind(Kind::Column).collect();
        let cols_arg = cols.join(",");
        for (jobs, mode) in [("1", "ordered"), ("4", "ordered"), ("4", "unordered")] {
            let mut a = vec!["apply", "--by", "column", "--cols", &cols_arg, "-j", jobs];
            a.extend(["--chunk-size", "512", "--mode", mode, &input]);
            for b in &fns {
                a.extend(["--fn", b.name]);
            }
            let (header, rows) = read_csv(&ok(&a));
            let at = |name: &str| header.iter().position(|h| h == name).unwrap();
            for (c, name) in cols.iter().enumerate() {
                let v: Vec<Option<f64>> = columns_of(&text, &[name]).iter().map(|r| r[0]).collect();
                assert_eq!(rows[c][at("column")], *name);
                for b in &fns {
                    let reference = column_reference(b.name).unwrap_or_else(|| {
                        panic!(
                            "column builtin {} has no reference in tests/cli/builtins.rs",
                            b.name
                        )
                    });
                    let got = num(&rows[c][at(b.name)]);
                    assert!(
                        close(got, reference(&v)),
                        "{} of {name} in {input} ({jobs} jobs, {mode}): {got:?} vs {:?}",
                        b.name,
                        reference(&v)
                    );
                }
            }
        }
    }
}

#[test]
fn every_frame_builtin_has_an_end_to_end_check() {
    for b in of_kind(Kind::Frame) {
        let (_, check) = FRAME_CHECKS
            .iter()
            .find(|(name, _)| *name == b.name)
            .unwrap_or_else(|| {
                panic!(
                    "frame builtin {} has no check in tests/cli/builtins.rs",
                    b.name
                )
            });
        check();
    }
}

#[test]
fn the_readme_lists_the_functions_as_dfpar_list_prints_them() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, after) = readme
        .split_once("As `dfpar list` prints them:\n\n")
        .expect("the README's function list");
    let listed: String = after
        .lines()
        .take_while(|l| l.starts_with("    "))
        .map(|l| format!("{}\n", &l[4..]))
        .collect();
    assert_eq!(listed, ok(&["list"]));
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
        let reference = |name| row_reference(name).unwrap().1;
        assert!(close(row[3], reference("mean")(&row[..3])[0]), "{row:?}");
        assert!(close(row[2], reference("sum")(&row[..2])[0]), "{row:?}");
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

fn check_shape_and_describe() {
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

fn check_sample() {
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

#[test]
fn list_info_and_gen() {
    let list = ok(&["list"]);
    for b in builtins() {
        assert!(list.contains(b.name), "{} missing from list", b.name);
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
