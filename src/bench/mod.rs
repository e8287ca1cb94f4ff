//! `dfpar bench`: times `dfpar apply` as child processes at every job count and mode,
//! then prints the table and writes the exports and the plot.

mod amdahl;
mod child;
mod export;
mod plot;
mod report;
pub mod scanner;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::progress::When;
use crate::read::Inputs;
use crate::request::Request;

pub use crate::pipeline::Mode;
use report::{median, Measured, Report};

/// A checked `dfpar bench` request.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// What every run applies (checked before any run).
    pub apply: Request,
    /// The child's `apply` arguments, as given; `--jobs`, `--mode`, `-o` and `--progress`
    /// are added per case.
    pub child_args: Vec<std::ffi::OsString>,
    /// Job counts to time, ascending, holding 1.
    pub jobs: Vec<usize>,
    pub modes: Vec<Mode>,
    /// Timed runs per case (at least 1).
    pub runs: usize,
    /// Untimed runs per case before the timed ones.
    pub warmup: usize,
    /// The bar over the runs.
    pub progress: When,
    pub export_json: Option<PathBuf>,
    pub export_csv: Option<PathBuf>,
    pub export_markdown: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

/// The default `--jobs-list`: 1, 2, 4, ... below `cores`, and `cores`.
pub fn default_jobs_list(cores: usize) -> Vec<usize> {
    let cores = cores.max(1);
    let mut list: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
        .take_while(|&n| n < cores)
        .collect();
    list.push(cores);
    list
}

/// Runs `dfpar bench`: every case, then the table on stdout, the exports and the plot.
pub fn bench(o: &BenchOptions) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("cannot find the dfpar executable: {e}")))?;
    let (rows, bytes) = count_input(&o.apply)?;
    let base = &o.child_args;
    let measured = time_cases(o, &exe)?;
    let report = Report::new(
        shell_words(base),
        o.apply.runs[0]
            .inputs
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" "),
        rows,
        bytes,
        o.warmup,
        &measured,
    );
    print(&export::table(&report))?;
    let files: [(&Option<PathBuf>, &dyn export::Exporter); 3] = [
        (&o.export_json, &export::Json),
        (&o.export_csv, &export::Csv),
        (&o.export_markdown, &export::Markdown),
    ];
    for (path, exporter) in files {
        if let Some(path) = path {
            write_file(path, exporter.render(&report)?.as_bytes())?;
        }
    }
    if let Some(path) = &o.plot {
        write_file(path, plot::svg(&report, path)?.as_bytes())?;
    }
    Ok(())
}

/// Times every case (mode x job count), in rounds that run each case once, so that the
/// machine's drift over the bench (other load, clocks, page cache) falls on all cases
/// alike and their ratios hold: `--warmup` untimed rounds, then `--runs` timed ones.
fn time_cases(o: &BenchOptions, exe: &Path) -> Result<Vec<Measured>> {
    let mut measured: Vec<Measured> = o
        .modes
        .iter()
        .flat_map(|&mode| o.jobs.iter().map(move |&jobs| (mode, jobs)))
        .map(|(mode, jobs)| Measured {
            mode,
            jobs,
            times: Vec::with_capacity(o.runs),
            peak_rss_kib: None,
        })
        .collect();
    let argvs: Vec<_> = measured
        .iter()
        .map(|m| child::case_argv(&o.child_args, m.jobs, m.mode))
        .collect();
    let bar = Bar::new(o.progress, (measured.len() * (o.warmup + o.runs)) as u64);
    for round in 0..o.warmup + o.runs {
        for (m, argv) in measured.iter_mut().zip(&argvs) {
            let case = format!("{} --jobs {}", m.mode.name(), m.jobs);
            let what = if round < o.warmup {
                format!("{case}, warm-up run {}", round + 1)
            } else {
                format!("{case}, run {}", round - o.warmup + 1)
            };
            bar.case(&what);
            let sample = child::run(exe, argv, m.jobs).map_err(|e| e.into_error(&what))?;
            if round >= o.warmup {
                m.times.push(sample.wall.as_secs_f64());
                m.peak_rss_kib = m.peak_rss_kib.max(sample.peak_rss_kib);
            }
            bar.inc();
        }
    }
    for m in &measured {
        bar.done(
            &format!("{} --jobs {}", m.mode.name(), m.jobs),
            median(&m.times),
        );
    }
    bar.finish();
    Ok(measured)
}

/// The inputs' data rows and size in bytes, from one serial pass of the record splitter.
fn count_input(o: &Request) -> Result<(u64, u64)> {
    let inputs = Inputs::open(o.runs[0].inputs.clone(), &o.dialect, o.chunk_size)?;
    let size = inputs.size;
    let mut rows = 0;
    for chunk in inputs {
        rows += chunk?.rows;
    }
    let Some(bytes) = size else {
        return Err(Error::usage("bench needs input files of a known size"));
    };
    Ok((rows, bytes))
}

/// The child's arguments as one line a shell would take back.
fn shell_words(argv: &[std::ffi::OsString]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=./,:+@%".contains(c);
    let words: Vec<String> = argv
        .iter()
        .map(|a| {
            let a = a.to_string_lossy();
            if !a.is_empty() && a.chars().all(plain) {
                a.into_owned()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect();
    format!("dfpar {}", words.join(" "))
}

fn print(text: &str) -> Result<()> {
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|source| Error::Output {
            path: "<stdout>".into(),
            source,
        })
}

/// Writes a whole export, replacing `path` only once it is complete.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = crate::write::Output::create(Some(path))?;
    out.write_all(bytes)?;
    out.commit()
}

/// Progress over the runs on stderr: a bar on a terminal, a line per case when forced
/// elsewhere (`--progress always`), nothing otherwise.
struct Bar {
    bar: ProgressBar,
    lines: bool,
}

impl Bar {
    fn new(when: When, runs: u64) -> Bar {
        let terminal = std::io::stderr().is_terminal();
        let bar = match (when, terminal) {
            (When::Never, _) | (_, false) => ProgressBar::hidden(),
            (_, true) => {
                let target = ProgressDrawTarget::stderr_with_hz(8);
                let bar = ProgressBar::with_draw_target(Some(runs), target);
                let template =
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs {msg} ETA {eta}";
                bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
                bar
            }
        };
        Bar {
            bar,
            lines: when == When::Always && !terminal,
        }
    }

    fn case(&self, case: &str) {
        self.bar.set_message(case.to_string());
    }

    fn inc(&self) {
        self.bar.inc(1);
    }

    fn done(&self, case: &str, median_s: f64) {
        if self.lines {
            eprintln!("dfpar: bench: {case}: median {median_s:.3} s");
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_jobs_lists() {
        assert_eq!(default_jobs_list(1), vec![1]);
        assert_eq!(default_jobs_list(2), vec![1, 2]);
        assert_eq!(default_jobs_list(6), vec![1, 2, 4, 6]);
        assert_eq!(default_jobs_list(8), vec![1, 2, 4, 8]);
    }

    #[test]
    fn shell_words_quote_what_a_shell_would_split() {
        let argv: Vec<std::ffi::OsString> = ["apply", "--fn=sum", "--", "my file's.csv"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(
            shell_words(&argv),
            r"dfpar apply --fn=sum -- 'my file'\''s.csv'"
        );
    }
}
