//! Python workers for `--py FILE.py:FUNCTION`: `--jobs` long-lived interpreters running
//! dfpar's runner (`runner.py`, built into the binary), fed chunks over their stdin.

pub mod protocol;

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use crate::error::{Error, Result};
use protocol::{Body, Column, Failure, Table};

/// The runner each worker runs (`python -c RUNNER ...`).
const RUNNER: &str = include_str!("runner.py");

/// Workers alive in this process, by pid: what an interrupt must end.
static ALIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Kills every worker of this process (on SIGINT or SIGTERM).
pub fn kill_all() {
    let pids = ALIVE.lock().map(|p| p.clone()).unwrap_or_default();
    for pid in pids {
        #[cfg(unix)]
        // SAFETY: kill(2) with a pid this process started and has not yet reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// What the workers run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// `FILE.py:FUNCTION` or `MODULE:FUNCTION`.
    pub function: String,
    pub python: PathBuf,
    /// `--by frame`: the function takes a chunk's DataFrame (else one row).
    pub frame: bool,
    /// `--arg KEY=VALUE`, passed as keyword arguments.
    pub args: Vec<(String, String)>,
    /// `--as NAME,...`: names of the result columns.
    pub names: Option<Vec<String>>,
}

impl Spec {
    /// The function's name, for messages.
    pub fn name(&self) -> &str {
        self.function.rsplit(':').next().unwrap_or(&self.function)
    }
}

/// One worker process, between chunks.
pub struct Worker {
    child: Child,
    /// `None` once closed (the worker then exits).
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
    seq: u32,
}

/// What a worker answered for a chunk.
pub enum Answer {
    Result(Table),
    Raised(Failure),
}

impl Worker {
    /// Starts a worker whose DataFrame columns are named `columns` (in the calling
    /// thread: on Linux a worker dies with the thread that started it).
    fn spawn(spec: &Spec, columns: &[String]) -> Result<Worker> {
        let mut cmd = Command::new(&spec.python);
        cmd.arg("-c").arg(RUNNER).arg("--py").arg(&spec.function);
        cmd.arg("--by")
            .arg(if spec.frame { "frame" } else { "row" });
        for (k, v) in &spec.args {
            cmd.arg("--arg").arg(format!("{k}={v}"));
        }
        if let Some(names) = &spec.names {
            cmd.arg("--as").arg(names.join(","));
        }
        for c in columns {
            cmd.arg("--col").arg(c);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            Error::usage(format!(
                "--py: cannot start the Python interpreter {} ({e}); name one with --python PATH or DFPAR_PYTHON",
                spec.python.display()
            ))
        })?;
        if let Ok(mut alive) = ALIVE.lock() {
            alive.push(child.id());
        }
        let stdin = BufWriter::with_capacity(1 << 20, child.stdin.take().expect("piped stdin"));
        let stdout = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped stdout"));
        Ok(Worker {
            child,
            stdin: Some(stdin),
            stdout,
            seq: 0,
        })
    }

    /// Reads the handshake, HELO, or FAIL with the reason: an import error or a wrong
    /// signature is reported here, before any chunk.
    fn hello(&mut self, spec: &Spec) -> Result<()> {
        let usage = |m: String| Error::usage(format!("--py {}: {m}", spec.function));
        let msg = protocol::read_message(&mut self.stdout).map_err(|e| usage(e.to_string()))?;
        match msg {
            Some((tag, _, _)) if &tag == protocol::HELLO => Ok(()),
            Some((tag, _, body)) if &tag == protocol::FAIL => {
                let mut b = Body::new(&body);
                let kind = b.u32().unwrap_or(0);
                let message = b.string().unwrap_or_default();
                let trace = b.string().unwrap_or_default();
                let mut text = message;
                if !trace.is_empty() {
                    text = format!("{text}\n{}", trace.trim_end());
                }
                match kind {
                    protocol::FAIL_NO_PANDAS => Err(Error::usage(text)),
                    _ => Err(usage(text)),
                }
            }
            _ => Err(usage(format!(
                "the worker ended before it was ready ({})",
                self.status()
            ))),
        }
    }

    /// Sends a chunk of `rows` rows and reads the answer; `Err` holds why the worker is gone.
    pub fn call(&mut self, rows: usize, columns: &[Column]) -> std::result::Result<Answer, String> {
        self.seq += 1;
        let stdin = self.stdin.as_mut().expect("open until dropped");
        let sent = protocol::write_chunk(stdin, self.seq, rows, columns);
        let msg = match sent {
            Ok(()) => protocol::read_message(&mut self.stdout),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(None),
            Err(e) => Err(e),
        };
        let seq = self.seq;
        let answer = match msg {
            Ok(Some((tag, s, body))) if s == seq && &tag == protocol::RESULT => {
                protocol::read_result(&body)
                    .map(Answer::Result)
                    .map_err(|e| e.to_string())
            }
            Ok(Some((tag, s, body))) if s == seq && &tag == protocol::ERROR => {
                protocol::read_error(&body)
                    .map(Answer::Raised)
                    .map_err(|e| e.to_string())
            }
            Ok(Some((tag, _, _))) => Err(format!("answered {}", String::from_utf8_lossy(&tag))),
            Ok(None) => Err("died".into()),
            Err(e) => Err(format!("stopped answering: {e}")),
        };
        answer.map_err(|what| {
            format!(
                "python worker {} {what} ({})",
                self.child.id(),
                self.status()
            )
        })
    }

    /// How the process ended, or that it still runs (it is killed, then).
    fn status(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(s)) => s,
            _ => {
                let _ = self.child.kill();
                match self.child.wait() {
                    Ok(s) => s,
                    Err(e) => return format!("cannot be waited for: {e}"),
                }
            }
        };
        describe(status)
    }
}

impl Drop for Worker {
    /// Closes the worker's input (it exits at EOF); a worker that does not end is killed.
    fn drop(&mut self) {
        let pid = self.child.id();
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(mut alive) = ALIVE.lock() {
            alive.retain(|&p| p != pid);
        }
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// On Linux, the worker is killed when dfpar dies, however it dies.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of
        // the parent; it runs in the child between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// The workers of a run: one per job, each lent to one chunk at a time.
pub struct Pool {
    idle: Mutex<Vec<Worker>>,
}

impl Pool {
    /// Starts `jobs` workers and waits until every one is ready (their handshakes read in
    /// parallel: each imports the user's module).
    pub fn start(spec: &Spec, columns: &[String], jobs: usize) -> Result<Pool> {
        let mut workers = (0..jobs.max(1))
            .map(|_| Worker::spawn(spec, columns))
            .collect::<Result<Vec<_>>>()?;
        std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .iter_mut()
                .map(|w| s.spawn(|| w.hello(spec)))
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("a handshake reader"))
        })?;
        Ok(Pool {
            idle: Mutex::new(workers),
        })
    }

    /// Runs `f` with a worker of its own.
    pub fn with<R>(&self, f: impl FnOnce(&mut Worker) -> R) -> R {
        let mut worker = self
            .idle
            .lock()
            .expect("the worker pool")
            .pop()
            .expect("as many workers as jobs");
        let r = f(&mut worker);
        self.idle.lock().expect("the worker pool").push(worker);
        r
    }
}
