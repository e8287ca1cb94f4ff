//! The speedup plot (plotters, SVG backend): measured speedup against jobs per mode, one
//! circle per measured case, the ideal line speedup = jobs and each mode's Amdahl fit.

use std::path::Path;

use plotters::prelude::*;

use super::amdahl;
use super::report::Report;
use crate::error::{Error, Result};

const SIZE: (u32, u32) = (900, 600);
/// One colour per mode, in the order the modes were measured.
const COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];
const IDEAL: RGBColor = RGBColor(120, 120, 120);
/// The radius of the first mode's measured points, the next mode's 2 px less (so that
/// both show where they meet, as at --jobs 1); nothing else in the plot is a circle.
const MARKER_RADIUS: i32 = 6;

/// The SVG document of the plot; `path` only names the file in errors.
pub fn svg(report: &Report, path: &Path) -> Result<String> {
    let mut text = String::new();
    draw(report, &mut text).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("cannot draw the plot: {e}")),
    })?;
    Ok(text)
}

/// The axes' ends and the step between job ticks: whole job counts 1, 2, 4, 8 ... apart,
/// about eight of them.
fn axes(report: &Report) -> (f64, f64, f64) {
    let max_jobs = report.jobs().last().copied().unwrap_or(1) as f64;
    let x_max = max_jobs + (max_jobs * 0.05).max(0.25);
    let top_speedup = report
        .results
        .iter()
        .map(|r| r.speedup)
        .filter(|s| s.is_finite())
        .fold(x_max, f64::max);
    let step = std::iter::successors(Some(1.0f64), |s| Some(s * 2.0))
        .find(|s| max_jobs / s <= 8.0)
        .unwrap_or(1.0);
    (x_max, top_speedup * 1.08, step)
}

fn draw(report: &Report, text: &mut String) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let (x_max, y_max, step) = axes(report);
    let root = SVGBackend::with_string(text, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "dfpar bench: speedup over --jobs 1 (median wall time)",
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((0.0..x_max).step(step), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("jobs (--jobs)")
        .y_desc("speedup")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()?;

    chart
        .draw_series(LineSeries::new(
            [(1.0, 1.0), (x_max, x_max)],
            IDEAL.stroke_width(2),
        ))?
        .label("ideal: speedup = jobs")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], IDEAL.stroke_width(2)));

    let mut modes: Vec<&str> = report.results.iter().map(|r| r.mode).collect();
    modes.dedup();
    for (i, mode) in modes.into_iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let radius = (MARKER_RADIUS - 2 * i as i32).max(3);
        if let Some(fit) = report.amdahl.iter().find(|f| f.mode == mode) {
            let s = fit.serial_fraction;
            let curve = (0..=200).map(|k| {
                let n = 1.0 + (x_max - 1.0) * k as f64 / 200.0;
                (n, amdahl::predict(s, n))
            });
            chart
                .draw_series(LineSeries::new(curve, colour.stroke_width(2)))?
                .label(format!("{mode}: Amdahl fit, serial fraction s = {s:.3}"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(2))
                });
        }
        let points = report
            .results
            .iter()
            .filter(|r| r.mode == mode && r.speedup.is_finite())
            .map(|r| Circle::new((r.jobs as f64, r.speedup), radius, colour.filled()));
        chart
            .draw_series(points)?
            .label(format!("{mode}: measured"))
            .legend(move |(x, y)| {
                Rectangle::new([(x + 7, y - 5), (x + 17, y + 5)], colour.filled())
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::report::Measured;
    use super::super::Mode;
    use super::*;

    #[test]
    fn one_circle_per_measured_case() {
        let m = |mode, jobs, t| Measured {
            mode,
            jobs,
            times: vec![t],
            peak_rss_kib: None,
        };
        let measured = [
            m(Mode::Ordered, 1, 4.0),
            m(Mode::Ordered, 2, 2.2),
            m(Mode::Ordered, 4, 1.3),
            m(Mode::Unordered, 1, 4.0),
            m(Mode::Unordered, 4, 1.2),
        ];
        let report = Report::new("dfpar apply".into(), "x.csv".into(), 1, 1, 0, &measured);
        let svg = svg(&report, Path::new("p.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("Amdahl fit"));
    }
}
