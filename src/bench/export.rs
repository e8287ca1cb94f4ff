//! The report as text: the table printed on stdout, and the JSON, CSV and Markdown
//! exports (one `Exporter` each), all with the same figures.

use super::report::{Record, Report};
use crate::error::{Error, Result};

/// A file format for the report.
pub trait Exporter {
    fn render(&self, report: &Report) -> Result<String>;
}

/// `{"command", "input", ..., "results": [record, ...], "amdahl": [fit, ...]}`.
pub struct Json;
/// A header and one row per case, the fields of a record.
pub struct Csv;
/// A table of the cases and a list of the fits.
pub struct Markdown;

impl Exporter for Json {
    fn render(&self, report: &Report) -> Result<String> {
        let mut text = serde_json::to_string_pretty(report)
            .map_err(|e| Error::Internal(format!("JSON export: {e}")))?;
        text.push('\n');
        Ok(text)
    }
}

impl Exporter for Csv {
    fn render(&self, report: &Report) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &report.results {
            w.serialize(r)
                .map_err(|e| Error::Internal(format!("CSV export: {e}")))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Internal(format!("CSV export: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Internal(format!("CSV export: {e}")))
    }
}

impl Exporter for Markdown {
    fn render(&self, report: &Report) -> Result<String> {
        let about = about(report).replace("\n  ", "; ");
        let mut out = format!("Command: `{}`\n\n{about}\n\n", report.command);
        out.push_str(
            "| mode | jobs | runs | median | min | max | rows/s | MB/s | speedup | efficiency | peak RSS |\n\
             |:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &report.results {
            let c = cells(r);
            out.push_str(&format!("| {} |\n", c.join(" | ")));
        }
        out.push('\n');
        for line in fit_lines(report) {
            out.push_str(&format!("- {line}\n"));
        }
        Ok(out)
    }
}

/// The table on stdout, in the manner of hyperfine: the work first, then one aligned
/// line per case and the fits.
pub fn table(report: &Report) -> String {
    const HEAD: [&str; 11] = [
        "mode",
        "jobs",
        "runs",
        "median",
        "min",
        "max",
        "rows/s",
        "MB/s",
        "speedup",
        "efficiency",
        "peak RSS",
    ];
    let rows: Vec<Vec<String>> = report.results.iter().map(cells).collect();
    let widths: Vec<usize> = (0..HEAD.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([HEAD[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| match i {
                0 => format!("{c:<w$}"),
                _ => format!("{c:>w$}"),
            })
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = format!("Benchmark: {}\n  {}\n\n", report.command, about(report));
    out.push_str(&line(&HEAD.map(String::from)));
    for r in &rows {
        out.push_str(&line(r));
    }
    out.push('\n');
    for l in fit_lines(report) {
        out.push_str(&format!("  {l}\n"));
    }
    out
}

/// The input and the method, in two lines.
fn about(report: &Report) -> String {
    let runs = report.results.first().map_or(0, |r| r.runs);
    format!(
        "input {} ({} rows, {:.1} MB)\n  per case: {} warm-up and {} timed run{}, output to {}, \
         wall time of the whole process",
        report.input,
        report.input_rows,
        report.input_bytes as f64 / 1e6,
        report.warmup,
        runs,
        if runs == 1 { "" } else { "s" },
        super::child::NULL_DEVICE,
    )
}

/// One case as text cells, in the order of the table's head.
fn cells(r: &Record) -> Vec<String> {
    vec![
        r.mode.to_string(),
        r.jobs.to_string(),
        r.runs.to_string(),
        seconds(r.median_s),
        seconds(r.min_s),
        seconds(r.max_s),
        count(r.rows_per_s),
        format!("{:.1}", r.mb_per_s),
        format!("{:.2}×", r.speedup),
        format!("{:.0}%", r.efficiency * 100.0),
        r.peak_rss_mb
            .map_or_else(|| "n/a".to_string(), |m| format!("{m:.1} MB")),
    ]
}

/// One line per fitted mode, or why there is none.
fn fit_lines(report: &Report) -> Vec<String> {
    if report.amdahl.is_empty() {
        return vec!["Amdahl fit: needs at least two job counts".to_string()];
    }
    report
        .amdahl
        .iter()
        .map(|f| {
            let predicted: Vec<String> = f
                .predicted
                .iter()
                .map(|p| format!("{:.2}× at {}", p.speedup, p.cores))
                .collect();
            format!(
                "Amdahl fit, {}: serial fraction s = {:.3} (rms residual {:.3}); \
                 predicted speedup {} cores",
                f.mode,
                f.serial_fraction,
                f.rms_residual,
                predicted.join(", ")
            )
        })
        .collect()
}

/// Seconds with a unit that keeps about four significant digits.
fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

/// A count per second, in thousands or millions.
fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::Measured;
    use super::super::Mode;
    use super::*;

    fn report() -> Report {
        let m = |mode, jobs, t: f64| Measured {
            mode,
            jobs,
            times: vec![t, t * 1.1],
            peak_rss_kib: Some(60_000),
        };
        let measured = [
            m(Mode::Ordered, 1, 2.0),
            m(Mode::Ordered, 2, 1.2),
            m(Mode::Unordered, 1, 2.0),
            m(Mode::Unordered, 2, 0.9),
        ];
        Report::new(
            "dfpar apply --fn=sum -- x.csv".into(),
            "x.csv".into(),
            1_000_000,
            10_000_000,
            1,
            &measured,
        )
    }

    #[test]
    fn every_format_has_every_case() {
        let r = report();
        let json: serde_json::Value = serde_json::from_str(&Json.render(&r).unwrap()).unwrap();
        assert_eq!(json["results"].as_array().unwrap().len(), 4);
        assert_eq!(json["results"][1]["jobs"], 2);
        assert_eq!(json["amdahl"].as_array().unwrap().len(), 2);
        let csv = Csv.render(&r).unwrap();
        assert_eq!(csv.lines().count(), 5);
        assert!(csv.starts_with("mode,jobs,runs,median_s,min_s,max_s,rows_per_s,mb_per_s,"));
        let md = Markdown.render(&r).unwrap();
        let cases = md
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| mode"));
        assert_eq!(cases.count(), 4);
        assert_eq!(md.lines().filter(|l| l.starts_with("- Amdahl")).count(), 2);
        let t = table(&r);
        assert_eq!(t.lines().filter(|l| l.contains("ordered ")).count(), 4);
        assert!(t.contains("1.260 s") && t.contains("1.00×"), "{t}");
    }

    #[test]
    fn units() {
        assert_eq!(seconds(0.0123), "12.3 ms");
        assert_eq!(seconds(2.5), "2.500 s");
        assert_eq!(count(8_100_000.0), "8.10 M");
        assert_eq!(count(1500.0), "1.5 k");
    }
}
