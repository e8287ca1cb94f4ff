//! The default `--jobs`: `DFPAR_JOBS`, else the CPUs a batch scheduler gave the task
//! (`SLURM_CPUS_PER_TASK`), else the cores this process may use (affinity, cgroup quota).

use crate::error::{Error, Result};

/// The default job count and where it came from (for `dfpar info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultJobs {
    pub jobs: usize,
    pub from: String,
}

/// The cores this process may use: its CPU affinity mask and its cgroup's CPU quota, as
/// the standard library reads them on Linux (containers, `taskset`, batch schedulers).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The default `--jobs` in this process's environment.
pub fn default_jobs() -> Result<DefaultJobs> {
    from_env(|k| std::env::var(k).ok(), cores())
}

/// The default `--jobs` given the environment `var` and the usable `cores`.
pub fn from_env(var: impl Fn(&str) -> Option<String>, cores: usize) -> Result<DefaultJobs> {
    if let Some(v) = var("DFPAR_JOBS") {
        return match v.trim().parse::<usize>() {
            Ok(jobs) if jobs >= 1 => Ok(DefaultJobs {
                jobs,
                from: "DFPAR_JOBS".into(),
            }),
            _ => Err(Error::usage(format!(
                "DFPAR_JOBS={v}: expected a whole number of at least 1"
            ))),
        };
    }
    let slurm = var("SLURM_CPUS_PER_TASK").and_then(|v| v.trim().parse::<usize>().ok());
    Ok(match slurm.filter(|&n| n >= 1) {
        Some(jobs) => DefaultJobs {
            jobs,
            from: "SLURM_CPUS_PER_TASK".into(),
        },
        None => DefaultJobs {
            jobs: cores,
            from: "the usable cores".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn dfpar_jobs_then_slurm_then_the_cores() {
        let d = from_env(env(&[("DFPAR_JOBS", "3"), ("SLURM_CPUS_PER_TASK", "8")]), 2).unwrap();
        assert_eq!((d.jobs, d.from.as_str()), (3, "DFPAR_JOBS"));
        let d = from_env(env(&[("SLURM_CPUS_PER_TASK", "8")]), 2).unwrap();
        assert_eq!(d.jobs, 8);
        assert_eq!(d.from, "SLURM_CPUS_PER_TASK");
        let d = from_env(env(&[]), 6).unwrap();
        assert_eq!(d.jobs, 6);
        assert!(from_env(env(&[("DFPAR_JOBS", "0")]), 2).is_err());
        assert!(from_env(env(&[("DFPAR_JOBS", "many")]), 2).is_err());
    }
}
