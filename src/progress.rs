//! Progress on stderr: an indicatif bar of input bytes (rows and throughput, ETA when the
//! size is known) on a terminal; plain lines now and then (rate, ETA) for logs.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When to show progress, chosen with `--progress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// A bar when stderr is a terminal, else nothing.
    Auto,
    /// A bar on a terminal, else a line a second.
    Always,
    /// A line a second (bytes, rows, rate, ETA), for batch jobs whose stderr is a log.
    Plain,
    Never,
}

enum Display {
    Hidden,
    Bar(ProgressBar),
    /// stderr is not a terminal but progress was asked for: a line now and then.
    Lines {
        last: Instant,
    },
}

/// The progress of one run over an input of `total` bytes (unknown for a pipe).
pub struct Progress {
    display: Mutex<Display>,
    total: Option<u64>,
    state: Mutex<(u64, u64)>,
    start: Instant,
}

impl Progress {
    pub fn new(when: When, total: Option<u64>) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let display = match (when, terminal) {
            (When::Never, _) | (When::Auto, false) => Display::Hidden,
            (When::Plain, _) | (When::Always, false) => Display::Lines {
                last: Instant::now(),
            },
            (_, true) => Display::Bar(bar(total)),
        };
        Progress {
            display: Mutex::new(display),
            total,
            state: Mutex::new((0, 0)),
            start: Instant::now(),
        }
    }

    pub fn hidden() -> Progress {
        Progress::new(When::Never, None)
    }

    /// Records that `bytes` of input holding `rows` rows are done.
    pub fn advance(&self, bytes: u64, rows: u64) {
        let (done, rows_done) = {
            let mut s = self.state.lock().expect("progress state");
            s.0 += bytes;
            s.1 += rows;
            *s
        };
        match &mut *self.display.lock().expect("progress display") {
            Display::Hidden => {}
            Display::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{rows_done} rows"));
            }
            Display::Lines { last } => {
                if last.elapsed() >= Duration::from_secs(1) {
                    *last = Instant::now();
                    eprintln!("dfpar: {}", self.summary(done, rows_done));
                }
            }
        }
    }

    fn summary(&self, done: u64, rows: u64) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let of = match self.total {
            Some(t) if t > 0 => {
                let left = t.saturating_sub(done) as f64 / rate.max(1.0);
                let pct = 100.0 * done as f64 / t as f64;
                format!(" of {:.1} MB ({pct:.0}%), ETA {left:.0} s", t as f64 / 1e6)
            }
            _ => String::new(),
        };
        format!(
            "{rows} rows, {:.1} MB in {secs:.2} s ({:.1} MB/s){of}",
            done as f64 / 1e6,
            rate / 1e6
        )
    }

    /// Clears the bar (or prints the final line).
    pub fn finish(&self) {
        let (done, rows) = *self.state.lock().expect("progress state");
        match &*self.display.lock().expect("progress display") {
            Display::Hidden => {}
            Display::Bar(bar) => bar.finish_and_clear(),
            Display::Lines { .. } => eprintln!("dfpar: done: {}", self.summary(done, rows)),
        }
    }
}

fn bar(total: Option<u64>) -> ProgressBar {
    let target = ProgressDrawTarget::stderr_with_hz(8);
    let (bar, template) = match total {
        Some(t) => (
            ProgressBar::with_draw_target(Some(t), target),
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} ETA {eta}",
        ),
        None => (
            ProgressBar::with_draw_target(None, target),
            "{spinner} [{elapsed_precise}] {bytes} {binary_bytes_per_sec} {msg}",
        ),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("valid progress template"));
    bar
}
