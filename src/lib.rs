//! dfpar: parallel row, column and frame functions over CSV with polars and Rayon.
//! The data flow is read → split (records) → parse → apply → merge (pipeline) → write.

pub mod apply;
pub mod bench;
pub mod cli;
pub mod compress;
pub mod dialect;
pub mod encode;
pub mod error;
pub mod expr;
pub mod format;
pub mod functions;
pub mod gen;
pub mod infer;
pub mod jobs;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod python;
pub mod read;
pub mod records;
pub mod request;
pub mod shard;
pub mod sink;
pub mod write;

pub use apply::apply;
pub use error::{Error, Result};
pub use request::Request;

/// The table `dfpar list` prints: kind, signature and description of every builtin.
pub fn list_text() -> String {
    let rows: Vec<(String, String, &str)> = functions::builtins()
        .map(|b| (b.kind.name().to_string(), functions::signature(b), b.about))
        .collect();
    let w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (kind, sig, about) in rows {
        out.push_str(&format!("{kind:<7} {sig:<w$}  {about}\n"));
    }
    out
}

/// What `dfpar info` prints.
pub fn info_text() -> Result<String> {
    let d = jobs::default_jobs()?;
    Ok(format!(
        "dfpar {}\ncores available: {} (CPU affinity and cgroup quota)\ndefault --jobs: {} (from {})\n",
        env!("CARGO_PKG_VERSION"),
        jobs::cores(),
        d.jobs,
        d.from
    ))
}
