//! `--py`: the user's Python function on long-lived workers. The classic row function gives
//! the builtin's bytes; frame functions, nulls and several results against references;
//! every failure exits with its message, leaves no output and no worker process behind.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

const FUNCS: &str = r#"
def howmany_within_range(row, minimum, maximum):
    count = 0
    for n in row:
        if minimum <= n <= maximum:
            count = count + 1
    return count

def within(df, minimum, maximum):
    return ((df >= minimum) & (df <= maximum)).sum(axis=1)

def big_ones(df):
    return df[df["c0"] > 15]

def present(row):
    return sum(v for v in row if v is not None) if any(v is not None for v in row) else None

def spread(row):
    vals = [v for v in row if v is not None]
    return (min(vals), max(vals)) if vals else (None, None)

def stats(row):
    return {"lo": min(row), "hi": max(row), "kind": type(row[0]).__name__}

def fails_on_a_seven(row):
    if row[0] == 7:
        raise ValueError("a seven in %r" % (row,))
    return 0

def dies(row):
    import os
    os._exit(3)

def waits(row):
    import time
    time.sleep(60)
    return 0

def needs_more(row, a, b):
    return a
"#;

/// The virtualenv with pandas that tests/deps.sh makes (`make test` runs it first).
fn venv_python() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run tests/deps.sh (make test does)",
        p.display()
    );
    p.to_str().unwrap().to_string()
}

/// A workdir with funcs.py and a generated input; commands run in it.
fn setup(rows: u64) -> (Workdir, PathBuf) {
    let w = Workdir::new();
    w.write("funcs.py", FUNCS.as_bytes());
    let input = w.gen("in.csv", rows, 5, 3);
    (w, input)
}

fn run_in(w: &Workdir, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("dfpar")
        .unwrap()
        .current_dir(w.dir.path())
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn ok_in(w: &Workdir, args: &[&str]) -> String {
    let out = run_in(w, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The command lines of the processes running in `dir` (a test's own directory: the
/// workers inherit dfpar's).
fn processes_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == dir) {
            let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            found.push(cmd.chars().take(120).collect());
        }
    }
    found
}

/// Runs `args` expecting exit `code` and the message; checks that no output and no worker
/// process are left.
fn fails_cleanly(w: &Workdir, args: &[&str], code: i32, message: &str) -> String {
    let out = w.path("out.csv");
    let mut a = args.to_vec();
    a.extend(["-o", out.to_str().unwrap()]);
    let result = run_in(w, &a);
    let err = String::from_utf8(result.stderr).unwrap();
    assert_eq!(result.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected {message:?} in {err}"
    );
    assert!(!out.exists(), "{args:?} left an output");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = processes_in(&std::fs::canonicalize(w.dir.path()).unwrap());
    assert!(left.is_empty(), "{args:?} left processes: {left:?}");
    err
}

#[test]
fn the_classic_row_function_gives_the_builtins_bytes() {
    let (w, input) = setup(20_000);
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
    let py = |jobs: &str, chunk: &str, mode: &str| {
        ok_in(
            &w,
            &[
                "apply",
                "--py",
                "funcs.py:howmany_within_range",
                "--arg",
                "minimum=4",
                "--arg",
                "maximum=8",
                "--as",
                "count_range",
                "-j",
                jobs,
                "--chunk-size",
                chunk,
                "--mode",
                mode,
                i,
            ],
        )
    };
    for (jobs, chunk) in [("1", "4MiB"), ("3", "8KiB")] {
        assert!(
            py(jobs, chunk, "ordered") == builtin,
            "--jobs {jobs} --chunk-size {chunk}"
        );
    }
    assert_eq!(
        restore_order(&py("3", "8KiB", "unordered")),
        canonical(&builtin)
    );
    // Without --as, the column is named after the function.
    let named = ok_in(
        &w,
        &[
            "apply",
            "--py",
            "funcs.py:howmany_within_range",
            "--arg",
            "minimum=4",
            "--arg",
            "maximum=8",
            "--only-results",
            i,
        ],
    );
    assert!(
        named.starts_with("howmany_within_range\n"),
        "{}",
        &named[..40]
    );
}

#[test]
fn frame_functions_against_a_reference() {
    let (w, input) = setup(20_000);
    let i = input.to_str().unwrap();
    let python = venv_python();
    let text = std::fs::read_to_string(&input).unwrap();
    let values = columns_of(&text, &["c0", "c1", "c2", "c3", "c4"]);
    for jobs in ["1", "2"] {
        let out = ok_in(
            &w,
            &[
                "apply",
                "--by",
                "frame",
                "--py",
                "funcs.py:within",
                "--arg",
                "minimum=0",
                "--arg",
                "maximum=9",
                "--python",
                &python,
                "-j",
                jobs,
                "--chunk-size",
                "16KiB",
                "--only-results",
                i,
            ],
        );
        let got: Vec<Option<f64>> = columns_of(&out, &["within"])
            .into_iter()
            .map(|r| r[0])
            .collect();
        let want: Vec<Option<f64>> = values
            .iter()
            .map(|r| {
                Some(
                    r.iter()
                        .flatten()
                        .filter(|v| (0.0..=9.0).contains(*v))
                        .count() as f64,
                )
            })
            .collect();
        assert_close(&got, &want, &format!("within at --jobs {jobs}"));
        // A result of another height is the output itself: the rows with c0 > 15.
        let out = ok_in(
            &w,
            &[
                "apply",
                "--by",
                "frame",
                "--py",
                "funcs.py:big_ones",
                "--python",
                &python,
                "-j",
                jobs,
                "--chunk-size",
                "16KiB",
                i,
            ],
        );
        let (header, rows) = read_csv(&out);
        assert_eq!(header, ["c0", "c1", "c2", "c3", "c4"]);
        let want: Vec<Vec<String>> = text
            .lines()
            .skip(1)
            .filter(|l| l.split(',').next().unwrap().parse::<i64>().unwrap() > 15)
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        assert_eq!(rows, want, "big_ones at --jobs {jobs}");
    }
}

#[test]
fn nulls_and_several_results() {
    let w = Workdir::new();
    w.write("funcs.py", FUNCS.as_bytes());
    let input = w.write("n.csv", b"a,b,c\n1,,3\n,,\n4.5,2,\n");
    let i = input.to_str().unwrap();
    let out = ok_in(
        &w,
        &["apply", "--py", "funcs.py:present", "--only-results", i],
    );
    assert_eq!(out, "present\n4.0\n\n6.5\n");
    let out = ok_in(
        &w,
        &[
            "apply",
            "--py",
            "funcs.py:spread",
            "--as",
            "lo,hi",
            "--only-results",
            i,
        ],
    );
    assert_eq!(out, "lo,hi\n1.0,3.0\n,\n2.0,4.5\n");
    let g = w.gen("g.csv", 50, 3, 1);
    let out = ok_in(
        &w,
        &[
            "apply",
            "--py",
            "funcs.py:stats",
            "--cols",
            "c0,c1",
            "--only-results",
            g.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&g).unwrap();
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["lo", "hi", "kind"]);
    for (r, v) in rows.iter().zip(columns_of(&text, &["c0", "c1"])) {
        let (a, b) = (v[0].unwrap(), v[1].unwrap());
        assert_eq!(
            (r[0].parse::<f64>().unwrap(), r[1].parse::<f64>().unwrap()),
            (a.min(b), a.max(b))
        );
        assert_eq!(r[2], "int", "integer columns reach the function as int");
    }
}

#[test]
fn an_exception_names_the_function_the_line_and_the_traceback() {
    let (w, input) = setup(5000);
    let i = input.to_str().unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let line = text.lines().position(|l| l.starts_with("7,")).unwrap() + 1;
    for jobs in ["1", "2"] {
        let err = fails_cleanly(
            &w,
            &["apply", "--py", "funcs.py:fails_on_a_seven", "-j", jobs, i],
            1,
            "fails_on_a_seven raised ValueError: a seven in",
        );
        assert!(err.contains(&format!("in.csv:{line}: ")), "{err}");
        let raise = FUNCS
            .lines()
            .position(|l| l.contains("raise ValueError"))
            .unwrap()
            + 1;
        let frame = format!("File \"funcs.py\", line {raise}, in fails_on_a_seven");
        assert!(err.contains(&frame), "{err}");
    }
}

#[test]
fn start_up_mistakes_are_reported_before_any_chunk() {
    let (w, input) = setup(100);
    let i = input.to_str().unwrap();
    fails_cleanly(
        &w,
        &["apply", "--py", "nofile.py:f", i],
        2,
        "cannot import nofile.py: no such file",
    );
    fails_cleanly(
        &w,
        &["apply", "--py", "funcs.py:nope", i],
        2,
        "funcs.py has no function 'nope'",
    );
    fails_cleanly(
        &w,
        &["apply", "--py", "funcs.py:needs_more", "--arg", "a=1", i],
        2,
        "missing a required argument: 'b'",
    );
    w.write("broken.py", b"def f(row):\n    return (\n");
    fails_cleanly(&w, &["apply", "--py", "broken.py:f", i], 2, "SyntaxError");
    fails_cleanly(
        &w,
        &["apply", "--by", "column", "--py", "funcs.py:present", i],
        2,
        "--py works --by row or --by frame",
    );
    fails_cleanly(
        &w,
        &[
            "apply",
            "--py",
            "funcs.py:present",
            "--python",
            "/no/python",
            i,
        ],
        2,
        "cannot start the Python interpreter /no/python",
    );
    // The system's python3 has no pandas here: frame mode says so and points to --by row.
    let bare = w.path("bare");
    assert!(std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap()
        .success());
    let bare_python = bare.join("bin/python");
    fails_cleanly(
        &w,
        &[
            "apply",
            "--by",
            "frame",
            "--py",
            "funcs.py:within",
            "--python",
            bare_python.to_str().unwrap(),
            i,
        ],
        2,
        "use --by row",
    );
}

#[test]
fn a_worker_that_dies_is_an_error_never_a_hang() {
    let (w, input) = setup(1000);
    let i = input.to_str().unwrap();
    for jobs in ["1", "2"] {
        fails_cleanly(
            &w,
            &["apply", "--py", "funcs.py:dies", "-j", jobs, i],
            1,
            "died (exit status 3)",
        );
    }
}

#[cfg(unix)]
#[test]
fn sigint_ends_the_workers_too() {
    let (w, input) = setup(1000);
    let out = w.path("out.csv");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dfpar"))
        .current_dir(w.dir.path())
        .args([
            "apply",
            "--py",
            "funcs.py:waits",
            "-j",
            "2",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let dir = std::fs::canonicalize(w.dir.path()).unwrap();
    let started = std::time::Instant::now();
    while processes_in(&dir).len() < 3 {
        assert!(started.elapsed().as_secs() < 30, "no worker started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        processes_in(&dir),
        Vec::<String>::new(),
        "a worker was left behind"
    );
    assert!(!out.exists());
}
