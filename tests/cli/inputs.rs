//! Files as users have them and a CLI that fits the shell: compressed inputs and outputs
//! against the same rows uncompressed (system tools as references), European CSV, numbers
//! as people write them, completions, man pages, the default --jobs, plain progress.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Runs a system tool (failing, never skipping, when it is missing: tests/deps.sh installs it).
fn tool(name: &str, args: &[&str], input: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new(name);
    cmd.args(args);
    if let Some(p) = input {
        cmd.stdin(std::fs::File::open(p).unwrap());
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed ({e}): tests/deps.sh installs it"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `input` compressed by the system's tool for `ext`.
fn compressed(w: &Workdir, input: &Path, ext: &str) -> PathBuf {
    let bytes = match ext {
        "gz" => tool("gzip", &["-c"], Some(input)),
        "zst" => tool("zstd", &["-q", "-c"], Some(input)),
        "bz2" => tool("bzip2", &["-c"], Some(input)),
        "xz" => tool("xz", &["-c"], Some(input)),
        _ => unreachable!("{ext}"),
    };
    w.write(&format!("in.csv.{ext}"), &bytes)
}

/// A file's contents decompressed by the system's tool.
fn decompressed(path: &Path) -> Vec<u8> {
    match path.extension().unwrap().to_str().unwrap() {
        "gz" => tool("gzip", &["-dc"], Some(path)),
        "zst" => tool("zstd", &["-q", "-dc"], Some(path)),
        other => unreachable!("{other}"),
    }
}

const COUNT: [&str; 6] = ["--fn", "count_range", "--arg", "min=4", "--arg", "max=8"];

#[test]
fn every_compressed_format_reads_as_the_plain_file() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 30_000, 5, 5);
    let mut args = vec!["apply"];
    args.extend(COUNT);
    let plain = ok(&[&args[..], &[input.to_str().unwrap()]].concat());
    for ext in ["gz", "zst", "bz2", "xz"] {
        let file = compressed(&w, &input, ext);
        // Named so, or only by its magic bytes (a file without the extension, and stdin).
        let bare = w.path(&format!("bare-{ext}"));
        std::fs::copy(&file, &bare).unwrap();
        for (jobs, chunk) in [("1", "4MiB"), ("3", "16KiB")] {
            for f in [&file, &bare] {
                let got = ok(&[
                    &args[..],
                    &["-j", jobs, "--chunk-size", chunk, f.to_str().unwrap()],
                ]
                .concat());
                assert!(
                    got == plain,
                    "{} at --jobs {jobs} --chunk-size {chunk}",
                    f.display()
                );
            }
        }
        let piped = assert_cmd::Command::cargo_bin("dfpar")
            .unwrap()
            .args([&args[..], &["-"]].concat())
            .pipe_stdin(&file)
            .unwrap()
            .output()
            .unwrap();
        assert!(
            piped.status.success() && piped.stdout == plain.as_bytes(),
            "{ext} on stdin"
        );
    }
    // Several gzip members (pigz, bgzip, cat a.gz b.gz) are read whole.
    let body = std::fs::read_to_string(&input).unwrap();
    let cut = body[..body.len() / 2].rfind('\n').unwrap() + 1;
    let (a, b) = (
        w.write("a.csv", &body.as_bytes()[..cut]),
        w.write("b.csv", &body.as_bytes()[cut..]),
    );
    let mut two = tool("gzip", &["-c"], Some(&a));
    two.extend(tool("gzip", &["-c"], Some(&b)));
    let two = w.write("two.csv.gz", &two);
    assert_eq!(ok(&[&args[..], &[two.to_str().unwrap()]].concat()), plain);
}

#[test]
fn outputs_are_compressed_in_the_workers_one_member_per_chunk() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 30_000, 5, 6);
    let i = input.to_str().unwrap();
    let plain = ok(&[&["apply"][..], &COUNT, &[i]].concat());
    for ext in ["gz", "zst"] {
        for (jobs, chunk) in [("1", "4MiB"), ("3", "8KiB")] {
            let out = w.path(&format!("out-{jobs}.csv.{ext}"));
            ok(&[
                &["apply"][..],
                &COUNT,
                &[
                    "-j",
                    jobs,
                    "--chunk-size",
                    chunk,
                    i,
                    "-o",
                    out.to_str().unwrap(),
                ],
            ]
            .concat());
            assert!(
                decompressed(&out) == plain.as_bytes(),
                "{ext} at --jobs {jobs}"
            );
        }
        // --compress on stdout; the table of --by column too.
        let codec = if ext == "gz" { "gzip" } else { "zstd" };
        let piped = dfpar(
            &[
                &["apply"][..],
                &COUNT,
                &["--compress", codec, "--chunk-size", "8KiB", i],
            ]
            .concat(),
        );
        let file = w.write(&format!("piped.{ext}"), &piped.stdout);
        assert!(decompressed(&file) == plain.as_bytes(), "{ext} on stdout");
        let table = ok(&["apply", "--by", "column", "--fn", "mean", i]);
        let out = w.path(&format!("means.csv.{ext}"));
        ok(&[
            "apply",
            "--by",
            "column",
            "--fn",
            "mean",
            i,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(decompressed(&out), table.as_bytes());
    }
    // Members: the header and each chunk's rows in one of their own.
    let out = w.path("members.csv.gz");
    ok(&[
        &["apply"][..],
        &COUNT,
        &[
            "-j",
            "3",
            "--chunk-size",
            "8KiB",
            i,
            "-o",
            out.to_str().unwrap(),
        ],
    ]
    .concat());
    let members = std::fs::read(&out)
        .unwrap()
        .windows(3)
        .filter(|w| w == &[0x1f, 0x8b, 8])
        .count();
    assert!(members > 10, "{members} gzip members");
    for (args, message) in [
        (
            vec!["--fn", "sum", i, "-o", "x.csv.bz2"],
            "bzip2 output is not written by dfpar",
        ),
        (
            vec![
                "--fn",
                "sum",
                "--format",
                "parquet",
                "--compress",
                "gzip",
                i,
            ],
            "goes with CSV or TSV output",
        ),
    ] {
        let err = fails(2, &[&["apply"][..], &args].concat());
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn a_truncated_gzip_is_a_clear_error_and_no_output() {
    let w = Workdir::new();
    let input = w.gen("in.csv", 30_000, 5, 7);
    let full = tool("gzip", &["-c"], Some(&input));
    let cut = w.write("cut.csv.gz", &full[..full.len() / 2]);
    let out = w.path("out.csv");
    let err = fails(
        1,
        &[
            "apply",
            "--fn",
            "sum",
            cut.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(err.contains("cut.csv.gz: cannot decompress"), "{err}");
    assert!(!out.exists());
}

#[test]
fn european_csv_with_decimal_commas_and_nulls() {
    let w = Workdir::new();
    let input = w.write(
        "eu.csv",
        "fecha;temp;lluvia\n2024-01-01;21,5;0,25\n2024-01-02;;1\n2024-01-03;-3,75;NA\n\"2024-01-04\";\"1,5e1\";2\n".as_bytes(),
    );
    let i = input.to_str().unwrap();
    let out = ok(&[
        "apply",
        "-d",
        ";",
        "--decimal-comma",
        "--null-values",
        "NA",
        "--fn",
        "sum",
        "--only-results",
        i,
    ]);
    assert_eq!(out, "sum\n21,75\n1,0\n-3,75\n17,0\n");
    let out = ok(&[
        "apply",
        "-d",
        ";",
        "--decimal-comma",
        "--null-values",
        "NA",
        "--by",
        "column",
        "--fn",
        "mean",
        "--fn",
        "count",
        i,
    ]);
    let (header, rows) = read_csv(&out.replace(';', "|").replace(',', ".").replace('|', ","));
    assert_eq!(header, ["column", "mean", "count"]);
    let temp = [21.5, -3.75, 15.0];
    assert_eq!(rows[0][0], "temp");
    assert!(
        close(num(&rows[0][1]), Some(temp.iter().sum::<f64>() / 3.0)),
        "{rows:?}"
    );
    assert_eq!(rows[0][2], "3");
    assert_eq!(rows[1][..], ["lluvia", "1.0833333333333333", "3"]);
    let err = fails(2, &["apply", "--decimal-comma", "--fn", "sum", i]);
    assert!(
        err.contains("--decimal-comma needs another delimiter"),
        "{err}"
    );
    // A point is not a decimal point with --decimal-comma: that column is text.
    let points = w.write("points.csv", b"a;b\n1.5;2,5\n");
    let err = fails(
        2,
        &[
            "apply",
            "-d",
            ";",
            "--decimal-comma",
            "--fn",
            "sum",
            "--cols",
            "a",
            points.to_str().unwrap(),
        ],
    );
    assert!(err.contains("column 'a' is not numeric"), "{err}");
}

#[test]
fn numbers_as_people_write_them_are_numbers() {
    let w = Workdir::new();
    let input = w.write("n.csv", b"a,b\n1e3,-2.5E-1\n+4, 5 \n\"6\",NaN\n");
    let i = input.to_str().unwrap();
    assert_eq!(
        ok(&["apply", "--fn", "sum", "--cols", "a", "--only-results", i]),
        "sum\n1000.0\n4.0\n6.0\n"
    );
    assert_eq!(
        ok(&["apply", "--fn", "sum", "--only-results", i]),
        "sum\n999.75\n9.0\nNaN\n"
    );
    // --text and --numeric decide where the first rows mislead.
    assert_eq!(
        ok(&["apply", "--fn", "sum", "--text", "b", "--only-results", i]),
        "sum\n1000.0\n4.0\n6.0\n"
    );
    let late = w.write(
        "late.csv",
        format!("a,b\n{}x,1\n", "1,1\n".repeat(1500)).as_bytes(),
    );
    let err = fails(1, &["apply", "--fn", "sum", late.to_str().unwrap()]);
    assert!(
        err.contains("late.csv:1502: column 'a': 'x' is not a number"),
        "{err}"
    );
    let text = w.write("t.csv", b"a,b\nx,1\n2,2\n");
    let err = fails(
        1,
        &[
            "apply",
            "--fn",
            "sum",
            "--numeric",
            "a",
            text.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("t.csv:2: column 'a': 'x' is not a number"),
        "{err}"
    );
    for (args, message) in [
        (
            vec!["--numeric", "nope"],
            "unknown column 'nope' in --numeric",
        ),
        (
            vec!["--numeric", "a", "--text", "a"],
            "in both --numeric and --text",
        ),
    ] {
        let err = fails(2, &[&["apply", "--fn", "sum"][..], &args, &[i]].concat());
        assert!(err.contains(message), "{err}");
    }
    // Integers beyond 2^53 keep their error.
    let huge = w.write("h.csv", b"a\n12345678901234567890\n");
    let err = fails(1, &["apply", "--fn", "sum", huge.to_str().unwrap()]);
    assert!(err.contains("is an integer beyond 2^53"), "{err}");
}

#[test]
fn completions_and_man_pages_from_the_definitions() {
    let w = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = ok(&["completions", shell]);
        assert!(
            script.contains("apply") && script.contains("chunk-size"),
            "{shell}"
        );
        if shell == "bash" {
            let path = w.write("dfpar.bash", script.as_bytes());
            tool("bash", &["-n", path.to_str().unwrap()], None);
        }
    }
    for page in [None, Some("apply"), Some("merge")] {
        let roff = ok(&[&["man"][..], page.as_slice()].concat());
        let path = w.write("page.1", roff.as_bytes());
        let out = Command::new("man")
            .args(["--warnings", "-l", "-Tutf8", path.to_str().unwrap()])
            .env("MANWIDTH", "80")
            .output()
            .expect("man is needed: tests/deps.sh installs it");
        assert!(out.status.success(), "{page:?}");
        assert!(
            out.stderr.is_empty(),
            "{page:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!(
            "dfpar{}",
            page.map(|p| format!("-{p}")).unwrap_or_default()
        )));
    }
    let err = fails(2, &["man", "nope"]);
    assert!(err.contains("no command 'nope'"), "{err}");
}

#[test]
fn make_install_puts_the_binary_man_pages_and_completions_under_prefix() {
    let w = Workdir::new();
    let prefix = w.path("prefix");
    let bin = assert_cmd::cargo::cargo_bin("dfpar");
    let out = Command::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("BIN={}", bin.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "bin/dfpar",
        "share/man/man1/dfpar.1",
        "share/man/man1/dfpar-apply.1",
        "share/man/man1/dfpar-merge.1",
        "share/bash-completion/completions/dfpar",
        "share/zsh/site-functions/_dfpar",
        "share/fish/vendor_completions.d/dfpar.fish",
    ] {
        assert!(prefix.join(file).is_file(), "{file} not installed");
    }
    let version = Command::new(prefix.join("bin/dfpar"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("dfpar "));
}

#[test]
fn the_default_jobs_and_plain_progress() {
    let info = assert_cmd::Command::cargo_bin("dfpar")
        .unwrap()
        .arg("info")
        .env("DFPAR_JOBS", "3")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("default --jobs: 3 (from DFPAR_JOBS)"));
    let info = assert_cmd::Command::cargo_bin("dfpar")
        .unwrap()
        .arg("info")
        .env_remove("DFPAR_JOBS")
        .env("SLURM_CPUS_PER_TASK", "5")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout)
        .contains("default --jobs: 5 (from SLURM_CPUS_PER_TASK)"));
    let bad = assert_cmd::Command::cargo_bin("dfpar")
        .unwrap()
        .args(["info"])
        .env("DFPAR_JOBS", "zero")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let w = Workdir::new();
    let input = w.gen("in.csv", 2000, 3, 1);
    let out = dfpar(&[
        "apply",
        "--fn",
        "sum",
        "--progress",
        "plain",
        input.to_str().unwrap(),
        "-o",
        w.path("o.csv").to_str().unwrap(),
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("dfpar: done: 2000 rows, "), "{err}");
    assert!(err.contains("MB/s") && err.contains("of "), "{err}");
}
