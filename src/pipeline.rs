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

/// How the engine runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Worker threads; 1 runs every stage serially in the calling thread.
    pub jobs: usize,
    /// Release results in input order (`map`) rather than as they complete (`async`).
    pub ordered: bool,
}

impl Settings {
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
            progress.advance(chunk.bytes.len() as u64, chunk.rows);
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
                                bytes: chunk.bytes.len() as u64,
                                rows: chunk.rows,
                                part,
                            },
                            Err(e) => Msg::Failed(e),
                        };
                        let _ = tx.send(msg);
                    })
            })
        });
        let result = merge(done_rx, token_tx, settings.ordered, progress, &mut release);
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
    Failed(Error),
    /// The producer is done: this many chunks were sent.
    End {
        chunks: u64,
    },
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
                let _ = done.send(Msg::Failed(e));
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
    while total != Some(released) {
        let msg = done
            .recv()
            .map_err(|_| Error::Internal("the workers stopped without a result".into()))?;
        match msg {
            Msg::Failed(e) => return Err(e),
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
