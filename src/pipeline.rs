//! The engine: a producer thread cuts the input into chunks, a bounded queue feeds a Rayon
//! pool of workers, and the merge releases results in input order or as they complete.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::read::Chunk;

/// The work done on each chunk, in a worker: parse, apply, encode.
pub trait Job: Sync {
    type Part: Send;
    fn process(&self, chunk: &Chunk) -> Result<Self::Part>;
    /// Describes a worker panic on `chunk` as an error.
    fn panicked(&self, chunk: &Chunk, message: String) -> Error;
}

/// The order in which results are released, chosen with `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Mode {
    /// Input order, like Pool.map.
    #[value(alias = "map")]
    Ordered,
    /// Completion order, like Pool.imap_unordered; adds a first column row_index.
    #[value(alias = "async")]
    Unordered,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ordered => "ordered",
            Mode::Unordered => "unordered",
        }
    }
}

/// How the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Worker threads; 1 runs every stage serially in the calling thread.
    pub jobs: usize,
    pub mode: Mode,
}

impl Settings {
    /// Results are released in input order.
    pub fn ordered(&self) -> bool {
        self.mode == Mode::Ordered
    }

    /// Chunks read but not yet released: the queue, the workers and the reorder buffer.
    /// Memory is bounded by this many chunks, whatever the input size.
    pub fn in_flight(&self) -> usize {
        2 * self.jobs + 2
    }
}

/// Runs `job` over every chunk and hands each result to `release`, in the calling thread.
/// The first error (a bad chunk, a failed write) stops the run and is returned.
pub fn run<J: Job>(
    chunks: impl Iterator<Item = Result<Chunk>> + Send,
    job: &J,
    settings: Settings,
    progress: &Progress,
    mut release: impl FnMut(J::Part) -> Result<()>,
) -> Result<()> {
    if settings.jobs <= 1 {
        for chunk in chunks {
            let chunk = chunk?;
            let part = process(job, &chunk)?;
            release(part)?;
            progress.advance(chunk.input_bytes, chunk.rows);
        }
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .thread_name(|i| format!("dfpar-worker-{i}"))
        .build()
        .map_err(|e| {
            Error::usage(format!(
                "cannot start {} worker threads: {e}",
                settings.jobs
            ))
        })?;
    let in_flight = settings.in_flight();
    let (chunk_tx, chunk_rx) = bounded::<Chunk>(settings.jobs);
    let (token_tx, token_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).expect("the token channel has room");
    }
    let (done_tx, done_rx) = unbounded::<Msg<J::Part>>();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let producer_tx = done_tx.clone();
        s.spawn(move || produce(chunks, token_rx, chunk_tx, producer_tx));
        let stop = &stop;
        s.spawn(move || {
            pool.install(|| {
                chunk_rx
                    .into_iter()
                    .par_bridge()
                    .for_each_with(done_tx, |tx, chunk| {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let msg = match process(job, &chunk) {
                            Ok(part) => Msg::Part {
                                seq: chunk.seq,
                                bytes: chunk.input_bytes,
                                rows: chunk.rows,
                                part,
                            },
                            Err(e) => Msg::Failed(chunk.seq, e),
                        };
                        let _ = tx.send(msg);
                    })
            })
        });
        let result = merge(
            done_rx,
            token_tx,
            settings.ordered(),
            progress,
            &mut release,
        );
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        result
    })
}

/// Runs the job on one chunk, turning a panic into that chunk's error.
fn process<J: Job>(job: &J, chunk: &Chunk) -> Result<J::Part> {
    match catch_unwind(AssertUnwindSafe(|| job.process(chunk))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(job.panicked(chunk, message))
        }
    }
}

enum Msg<P> {
    Part {
        seq: u64,
        bytes: u64,
        rows: u64,
        part: P,
    },
    /// The chunk of this sequence number (or the producer, reading it) failed.
    Failed(u64, Error),
    /// The producer is done: this many chunks were sent.
    End { chunks: u64 },
}

/// The producer: takes a token for each chunk before reading it, so at most
/// `in_flight` chunks exist at once.
fn produce<P>(
    mut chunks: impl Iterator<Item = Result<Chunk>>,
    tokens: Receiver<()>,
    queue: Sender<Chunk>,
    done: Sender<Msg<P>>,
) {
    let mut sent = 0;
    loop {
        if tokens.recv().is_err() {
            return; // the merge has stopped
        }
        match chunks.next() {
            None => break,
            Some(Ok(chunk)) => {
                if queue.send(chunk).is_err() {
                    return;
                }
                sent += 1;
            }
            Some(Err(e)) => {
                let _ = done.send(Msg::Failed(sent, e));
                return;
            }
        }
    }
    let _ = done.send(Msg::End { chunks: sent });
}

/// The merge: a reorder buffer keyed by sequence number (ordered) or none (unordered).
/// Returns a token for every chunk released.
fn merge<P>(
    done: Receiver<Msg<P>>,
    tokens: Sender<()>,
    ordered: bool,
    progress: &Progress,
    release: &mut impl FnMut(P) -> Result<()>,
) -> Result<()> {
    let mut waiting: BTreeMap<u64, (u64, u64, P)> = BTreeMap::new();
    let mut released = 0;
    let mut total = None;
    // Ordered mode reports the first failing chunk in input order, whatever the timing.
    let mut failed: Option<(u64, Error)> = None;
    while total != Some(released) {
        if let Some((seq, _)) = &failed {
            if *seq == released || !ordered {
                return Err(failed.expect("checked").1);
            }
        }
        let msg = done
            .recv()
            .map_err(|_| Error::Internal("the workers stopped without a result".into()))?;
        match msg {
            Msg::Failed(seq, e) => {
                if failed.as_ref().is_none_or(|(s, _)| seq < *s) {
                    failed = Some((seq, e));
                }
            }
            Msg::End { chunks } => total = Some(chunks),
            Msg::Part {
                seq,
                bytes,
                rows,
                part,
            } => {
                waiting.insert(if ordered { seq } else { released }, (bytes, rows, part));
                while let Some((bytes, rows, part)) = waiting.remove(&released) {
                    release(part)?;
                    progress.advance(bytes, rows);
                    released += 1;
                    let _ = tokens.send(());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles each chunk's first byte; fails or panics on chunk `bad`.
    struct Doubler {
        bad: Option<(u64, bool)>,
    }

    impl Job for Doubler {
        type Part = (u64, u8);

        fn process(&self, chunk: &Chunk) -> Result<(u64, u8)> {
            match self.bad {
                Some((seq, true)) if seq == chunk.seq => panic!("boom at {seq}"),
                Some((seq, false)) if seq == chunk.seq => {
                    Err(Error::Internal(format!("bad chunk {seq}")))
                }
                _ => Ok((chunk.seq, chunk.bytes[0].wrapping_mul(2))),
            }
        }

        fn panicked(&self, chunk: &Chunk, message: String) -> Error {
            Error::Internal(format!("chunk {} panicked: {message}", chunk.seq))
        }
    }

    fn chunks(n: u64) -> impl Iterator<Item = Result<Chunk>> + Send {
        (0..n).map(|seq| {
            Ok(Chunk {
                seq,
                bytes: vec![seq as u8],
                first_line: seq + 1,
                first_row: seq,
                rows: 1,
                lines: 1,
                source: 0,
                offset: 0,
                input_bytes: 1,
            })
        })
    }

    fn run_all(jobs: usize, ordered: bool, bad: Option<(u64, bool)>) -> Result<Vec<(u64, u8)>> {
        let mut got = Vec::new();
        run(
            chunks(200),
            &Doubler { bad },
            Settings {
                jobs,
                mode: if ordered {
                    Mode::Ordered
                } else {
                    Mode::Unordered
                },
            },
            &Progress::hidden(),
            |p| {
                got.push(p);
                Ok(())
            },
        )?;
        Ok(got)
    }

    #[test]
    fn parallel_results_equal_serial_ones() {
        let serial = run_all(1, true, None).unwrap();
        assert_eq!(serial.len(), 200);
        for jobs in [2, 4] {
            assert_eq!(
                run_all(jobs, true, None).unwrap(),
                serial,
                "ordered at {jobs} jobs"
            );
            let mut unordered = run_all(jobs, false, None).unwrap();
            unordered.sort();
            assert_eq!(unordered, serial, "unordered at {jobs} jobs");
        }
    }

    #[test]
    fn an_error_or_a_panic_in_one_chunk_stops_the_run() {
        for jobs in [1, 2, 4] {
            for ordered in [true, false] {
                let err = run_all(jobs, ordered, Some((150, false))).unwrap_err();
                assert_eq!(err.to_string(), "internal error: bad chunk 150");
                let err = run_all(jobs, ordered, Some((3, true))).unwrap_err();
                assert_eq!(
                    err.to_string(),
                    "internal error: chunk 3 panicked: boom at 3"
                );
            }
        }
    }

    #[test]
    fn ordered_mode_reports_the_first_failing_chunk_in_input_order() {
        /// Fails on every chunk from 50 on; the later ones fail first (no sleep for them).
        struct LateFirst;
        impl Job for LateFirst {
            type Part = ();
            fn process(&self, chunk: &Chunk) -> Result<()> {
                if chunk.seq == 50 {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                if chunk.seq >= 50 {
                    return Err(Error::Internal(format!("chunk {}", chunk.seq)));
                }
                Ok(())
            }
            fn panicked(&self, _: &Chunk, m: String) -> Error {
                Error::Internal(m)
            }
        }
        for jobs in [2, 4] {
            let err = run(
                chunks(200),
                &LateFirst,
                Settings {
                    jobs,
                    mode: Mode::Ordered,
                },
                &Progress::hidden(),
                |_| Ok(()),
            );
            assert_eq!(err.unwrap_err().to_string(), "internal error: chunk 50");
        }
    }

    #[test]
    fn a_failing_release_stops_the_run() {
        for jobs in [1, 3] {
            let mut n = 0;
            let err = run(
                chunks(500),
                &Doubler { bad: None },
                Settings {
                    jobs,
                    mode: Mode::Ordered,
                },
                &Progress::hidden(),
                |_| {
                    n += 1;
                    if n == 10 {
                        Err(Error::Internal("disk full".into()))
                    } else {
                        Ok(())
                    }
                },
            );
            assert_eq!(err.unwrap_err().to_string(), "internal error: disk full");
        }
    }
}
