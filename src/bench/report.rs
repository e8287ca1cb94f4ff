//! The figures of a bench: per case, statistics of the measured times, throughput,
//! speedup and efficiency against `--jobs 1`; per mode, the Amdahl fit.

use serde::Serialize;

use super::{amdahl, Mode};

/// Core counts the Amdahl fit predicts speedups for.
pub const PREDICT_AT: [usize; 3] = [8, 16, 64];

/// The timed runs of one case.
#[derive(Clone, Debug)]
pub struct Measured {
    pub mode: Mode,
    pub jobs: usize,
    /// Wall seconds of each timed run.
    pub times: Vec<f64>,
    /// The largest peak RSS of the timed runs, in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// One case, as printed and exported. MB are 10^6 bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub mode: &'static str,
    pub jobs: usize,
    pub runs: usize,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub rows_per_s: f64,
    pub mb_per_s: f64,
    /// Median of `--jobs 1` of the same mode over this case's median.
    pub speedup: f64,
    /// `speedup / jobs`.
    pub efficiency: f64,
    pub peak_rss_mb: Option<f64>,
}

/// Amdahl's law fitted to the speedups of one mode.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub mode: &'static str,
    /// The estimated serial fraction s of speedup(n) = 1 / (s + (1 - s) / n).
    pub serial_fraction: f64,
    /// Root mean square of measured minus fitted speedups.
    pub rms_residual: f64,
    pub predicted: Vec<Prediction>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    pub cores: usize,
    pub speedup: f64,
}

/// Everything a bench found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The apply command every case ran (before its --jobs, --mode and output).
    pub command: String,
    pub input: String,
    pub input_rows: u64,
    pub input_bytes: u64,
    pub warmup: usize,
    pub results: Vec<Record>,
    /// One fit per mode with at least two job counts.
    pub amdahl: Vec<Fit>,
}

/// The median: the middle value, or the mean of the two middle values of an even count.
/// NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Report {
    pub fn new(
        command: String,
        input: String,
        input_rows: u64,
        input_bytes: u64,
        warmup: usize,
        measured: &[Measured],
    ) -> Report {
        let results = records(measured, input_rows, input_bytes);
        let mut modes: Vec<&'static str> = results.iter().map(|r| r.mode).collect();
        modes.dedup();
        let amdahl = modes
            .into_iter()
            .filter_map(|mode| {
                let points: Vec<(f64, f64)> = results
                    .iter()
                    .filter(|r| r.mode == mode)
                    .map(|r| (r.jobs as f64, r.speedup))
                    .collect();
                let s = amdahl::fit(&points)?;
                Some(Fit {
                    mode,
                    serial_fraction: s,
                    rms_residual: amdahl::rms_residual(&points, s),
                    predicted: PREDICT_AT
                        .iter()
                        .map(|&cores| Prediction {
                            cores,
                            speedup: amdahl::predict(s, cores as f64),
                        })
                        .collect(),
                })
            })
            .collect();
        Report {
            command,
            input,
            input_rows,
            input_bytes,
            warmup,
            results,
            amdahl,
        }
    }

    /// The job counts measured, ascending.
    pub fn jobs(&self) -> Vec<usize> {
        let mut jobs: Vec<usize> = self.results.iter().map(|r| r.jobs).collect();
        jobs.sort_unstable();
        jobs.dedup();
        jobs
    }
}

/// The records of the cases, speedups against the `--jobs 1` median of the same mode
/// (NaN when that mode has no `--jobs 1` case).
pub fn records(measured: &[Measured], rows: u64, bytes: u64) -> Vec<Record> {
    measured
        .iter()
        .map(|m| {
            let med = median(&m.times);
            let base = measured
                .iter()
                .find(|b| b.mode == m.mode && b.jobs == 1)
                .map_or(f64::NAN, |b| median(&b.times));
            let speedup = base / med;
            Record {
                mode: m.mode.name(),
                jobs: m.jobs,
                runs: m.times.len(),
                median_s: med,
                min_s: m.times.iter().copied().fold(f64::INFINITY, f64::min),
                max_s: m.times.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                rows_per_s: rows as f64 / med,
                mb_per_s: bytes as f64 / 1e6 / med,
                speedup,
                efficiency: speedup / m.jobs as f64,
                peak_rss_mb: m.peak_rss_kib.map(|k| k as f64 * 1024.0 / 1e6),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert_eq!(median(&[5.0, 1.0]), 3.0);
        assert!(median(&[]).is_nan());
    }

    fn case(mode: Mode, jobs: usize, times: &[f64]) -> Measured {
        Measured {
            mode,
            jobs,
            times: times.to_vec(),
            peak_rss_kib: Some(2048),
        }
    }

    #[test]
    fn speedups_and_efficiency_come_from_the_medians() {
        let measured = [
            case(Mode::Ordered, 1, &[4.0, 10.0, 4.2, 3.8, 4.0]), // median 4.0
            case(Mode::Ordered, 2, &[2.4, 2.6, 1.0, 2.5]),       // median 2.45
            case(Mode::Ordered, 4, &[1.6]),
            case(Mode::Unordered, 1, &[3.0, 3.0, 3.0]),
            case(Mode::Unordered, 4, &[1.0, 1.5]), // median 1.25
        ];
        let r = records(&measured, 2_000_000, 20_000_000);
        assert_eq!(r.len(), 5);
        assert_eq!((r[0].mode, r[0].jobs, r[0].runs), ("ordered", 1, 5));
        assert!(close(r[0].median_s, 4.0) && close(r[0].min_s, 3.8) && close(r[0].max_s, 10.0));
        assert!(close(r[0].speedup, 1.0) && close(r[0].efficiency, 1.0));
        assert!(close(r[0].rows_per_s, 500_000.0) && close(r[0].mb_per_s, 5.0));
        assert!(close(r[1].median_s, 2.45));
        assert!(close(r[1].speedup, 4.0 / 2.45));
        assert!(close(r[1].efficiency, 4.0 / 2.45 / 2.0));
        assert!(close(r[2].speedup, 2.5) && close(r[2].efficiency, 0.625));
        // Each mode against its own --jobs 1.
        assert!(close(r[4].speedup, 3.0 / 1.25) && close(r[4].efficiency, 0.6));
        assert!(close(r[4].peak_rss_mb.unwrap(), 2.097152));
    }

    #[test]
    fn a_report_fits_each_mode() {
        let s: f64 = 0.2;
        let t = |n: f64| 10.0 * (s + (1.0 - s) / n);
        let measured = [
            case(Mode::Ordered, 1, &[t(1.0)]),
            case(Mode::Ordered, 2, &[t(2.0)]),
            case(Mode::Ordered, 4, &[t(4.0)]),
            case(Mode::Unordered, 1, &[1.0]),
        ];
        let report = Report::new("dfpar apply".into(), "x.csv".into(), 10, 100, 0, &measured);
        assert_eq!(report.amdahl.len(), 1, "unordered has one job count only");
        let fit = &report.amdahl[0];
        assert!((fit.serial_fraction - 0.2).abs() < 1e-6);
        assert!(fit.rms_residual < 1e-6);
        assert_eq!(fit.predicted[0].cores, 8);
        assert!((fit.predicted[0].speedup - 1.0 / (0.2 + 0.8 / 8.0)).abs() < 1e-4);
        assert_eq!(report.jobs(), vec![1, 2, 4]);
    }
}
