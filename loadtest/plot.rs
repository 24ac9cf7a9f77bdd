//! Latency charts (`--plot FILE.svg` on a run, `compare --plot`): this
//! module owns the fixed quantiles that the JSON report's `percentiles`
//! arrays sample and the drawing of those arrays as SVG with `plotters`.
//! The x axis is the percentile on the usual 1/(1-p) log scale (0%, 90%,
//! 99%, ... 99.999%: one step per nine), the y axis the latency in µs,
//! logarithmic when the curves span more than `LOG_SPREAD`, linear
//! otherwise. Each curve is one latency series of one report; the maximum
//! (`q` = 1 in `percentiles`) lies off that scale and is not drawn.

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use serde_json::Value;

/// The x axis ends at this many nines (99.999%).
pub const NINES: u32 = 5;
/// Quantiles sampled per nine: 8 gives 41 points from 0 to 0.99999.
const STEPS_PER_NINE: u32 = 8;
/// Above this max/min ratio of the plotted latencies the y axis is logarithmic.
const LOG_SPREAD: f64 = 20.0;
/// Curve colours, in order (the first two contrast for `compare`).
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// The quantiles of the `percentiles` arrays below the maximum:
/// 1 - 10^(-k/8) for k = 0..=40, i.e. 0, ..., 0.9, ..., 0.99, ..., 0.99999.
pub fn quantiles() -> impl Iterator<Item = f64> {
    (0..=NINES * STEPS_PER_NINE).map(|k| {
        let q = 1.0 - 10f64.powf(-(k as f64) / STEPS_PER_NINE as f64);
        // Exact decimals in the report (0.9, not 0.8999999999999999).
        (q * 1e9).round() / 1e9
    })
}

/// Position of quantile `q` (< 1) on the x axis: the number of nines.
fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// The axis label at `x` nines: "0%", "90%", "99.9%", ...
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.round() as i32 - 2).clamp(0, 6) as usize;
    let text = format!("{p:.decimals$}");
    format!("{text}%")
}

/// A latency value for an axis label.
fn micros(v: f64) -> String {
    if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// One latency distribution: (quantile, µs) points, quantiles below 1.
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// The curve of a report's `percentiles` array (None when the array is
    /// missing or holds no point below the maximum).
    pub fn from_percentiles(label: String, percentiles: &Value) -> Option<Curve> {
        let points: Vec<(f64, f64)> = percentiles
            .as_array()?
            .iter()
            .filter_map(|p| Some((p["q"].as_f64()?, p["us"].as_f64()?)))
            .filter(|(q, _)| *q < 1.0)
            .collect();
        (!points.is_empty()).then_some(Curve { label, points })
    }
}

/// Draws `curves` under `title` into the SVG file `path`.
pub fn write_svg(path: &str, title: &str, curves: &[Curve]) -> Result<()> {
    let svg = svg(title, curves)?;
    std::fs::write(path, svg).with_context(|| format!("writing plot {path}"))
}

/// Refuses a `--plot` file that is not `.svg` (before any run starts).
pub fn check_path(path: &str) -> Result<()> {
    let svg = std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !svg {
        bail!("--plot {path}: plots are written as SVG, name the file FILE.svg");
    }
    Ok(())
}

/// The SVG text of the chart.
pub fn svg(title: &str, curves: &[Curve]) -> Result<String> {
    let values = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1));
    let (lo, hi) = values.fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi <= 0.0 {
        bail!("no latency measured: nothing to plot");
    }
    let mut out = String::new();
    let lo = lo.max(hi * 1e-9).max(1e-3);
    if hi / lo > LOG_SPREAD {
        // Whole decades, so that the labels are the powers of ten.
        let (lo, hi) = (lo.log10().floor(), hi.log10().ceil());
        let y = (10f64.powf(lo) * 0.999..10f64.powf(hi) * 1.001).log_scale();
        draw(&mut out, title, curves, y, "latency (µs, log scale)")?;
    } else {
        draw(&mut out, title, curves, 0.0..hi * 1.1, "latency (µs)")?;
    }
    Ok(out)
}

fn draw<Y>(out: &mut String, title: &str, curves: &[Curve], y: Y, y_desc: &str) -> Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let fail = |e: &dyn std::fmt::Display| anyhow!("drawing the plot: {e}");
    {
        let root = SVGBackend::with_string(out, (1000, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(18)
            .margin_right(48)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..NINES as f64, y)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_labels(NINES as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|v| micros(*v))
            .x_desc("percentile")
            .y_desc(y_desc)
            .draw()
            .map_err(|e| fail(&e))?;
        for (i, c) in curves.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let line = c.points.iter().map(|&(q, us)| (nines(q), us));
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(c.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(())
}

/// The chart's title: the scenario and its key parameters.
pub fn title(
    a: &crate::Args,
    scenario: &str,
    target: &crate::conn::Target,
    body: &serde_json::Value,
) -> String {
    let pubsub = || {
        let flow = match (a.rate, a.ack.unwrap_or(false)) {
            (Some(rate), _) => format!("open loop {rate}/s"),
            (None, true) => format!("acknowledged, window {}", a.window.unwrap_or(256)),
            (None, false) => format!("window {}", a.window.unwrap_or(256)),
        };
        let topics = a.topics.unwrap_or(1);
        format!(
            "{} pub -> {} sub, {topics} topic{}, {flow}",
            a.publishers.unwrap_or(1),
            a.subscribers.unwrap_or(1),
            if topics == 1 { "" } else { "s" }
        )
    };
    let mode = body["results"]["extra"]["mode"]
        .as_str()
        .unwrap_or_default();
    let shape = match scenario {
        "pubsub" => pubsub(),
        "rpc" => mode.to_string(),
        "mixed" => format!("{}; {mode}", pubsub()),
        _ => format!(
            "{} sessions, {} joins in flight",
            a.sessions.unwrap_or(1000),
            a.concurrency.unwrap_or(64)
        ),
    };
    let scheme = target.url.split("://").next().unwrap_or_default();
    let load = match scenario {
        "connect" => String::new(),
        _ => format!(
            ", {} B, {} s",
            a.payload.unwrap_or(64),
            a.duration.unwrap_or(5.0)
        ),
    };
    format!(
        "{scenario}: {shape}{load}, {} over {scheme}",
        target.serializer.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_step_through_the_nines() {
        let q: Vec<f64> = quantiles().collect();
        assert_eq!(q.len(), 41);
        assert_eq!((q[0], q[8], q[16], q[40]), (0.0, 0.9, 0.99, 0.99999));
        assert!(q.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn axis_labels_name_the_nines() {
        let labels: Vec<String> = (0..=5).map(|x| percentile_label(x as f64)).collect();
        assert_eq!(
            labels,
            ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].map(String::from)
        );
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_narrow_spread_is_linear_and_a_wide_one_logarithmic() {
        let curve = |hi: f64| Curve {
            label: "run".into(),
            points: vec![(0.0, 10.0), (0.9, 12.0), (0.999, hi)],
        };
        assert!(svg("t", &[curve(15.0)]).unwrap().contains("latency (µs)"));
        assert!(svg("t", &[curve(5000.0)]).unwrap().contains("log scale"));
        assert!(svg("t", &[]).is_err());
    }

    #[test]
    fn only_svg_files_are_accepted() {
        assert!(check_path("out/run.svg").is_ok());
        assert!(check_path("run.SVG").is_ok());
        assert!(check_path("run.png").is_err());
        assert!(check_path("run").is_err());
    }
}
