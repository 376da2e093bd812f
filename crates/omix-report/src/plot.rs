//! Hand-written SVG charts: line, step and scatter plots with nice ticks, and the confusion
//! heatmap. Output is deterministic (fixed decimals, input order kept).

use std::fmt::Write as _;

use crate::html::{escape, fixed};

/// System fonts only, so nothing is fetched.
pub(crate) const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/// Okabe–Ito colours (safe for colour-blind readers), then two extra dark tones.
pub(crate) const PALETTE: [&str; 10] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7A4D9E", "#3D3D3D", "#A6761D", "#1B9E77"];

/// Grey for reference lines (chance, y = x).
pub(crate) const REFERENCE: &str = "#7a7a7a";

/// The colour of series `index`.
pub(crate) fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    /// Straight segments between points.
    Line { width: f64, dashed: bool },
    /// Steps: horizontal first, then vertical (matplotlib `steps-post`).
    Step { width: f64 },
    /// One dot per point.
    Points { radius: f64 },
}

/// One data series.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: String,
    pub style: Style,
    pub in_legend: bool,
}

impl Series {
    /// A solid line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>, colour: &str) -> Series {
        Series {
            name: name.into(),
            points,
            colour: colour.into(),
            style: Style::Line { width: 2.2, dashed: false },
            in_legend: true,
        }
    }

    /// A dashed grey reference line.
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            colour: REFERENCE.into(),
            style: Style::Line { width: 1.5, dashed: true },
            in_legend: true,
        }
    }
}

/// A vertical marker line with a label (e.g. the best epoch).
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    pub x: f64,
    pub label: String,
}

/// A chart with two numeric axes.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Unique within the page (used for the clip path id).
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// A fixed x range; automatic from the data when `None`.
    pub x_range: Option<(f64, f64)>,
    /// A fixed y range; automatic from the data when `None`.
    pub y_range: Option<(f64, f64)>,
    /// Use the same range on both axes (scatter of predicted vs observed).
    pub equal_axes: bool,
    /// Ticks on x at whole numbers only (epochs).
    pub x_integer: bool,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
    /// Width of the whole SVG in pixels.
    pub width: f64,
    /// Height of the SVG without the legend.
    pub height: f64,
}

/// Margins around the plotting area.
const LEFT: f64 = 74.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = 60.0;

/// A linear axis: its range and tick positions.
#[derive(Debug, Clone)]
struct Axis {
    low: f64,
    high: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

/// The 1-2-5 step closest to `span / target`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalised = raw / magnitude;
    let nice = if normalised <= 1.0 {
        1.0
    } else if normalised <= 2.0 {
        2.0
    } else if normalised <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

impl Axis {
    /// An axis covering `low..=high`; `fixed` keeps the range, otherwise it is widened to ticks.
    fn new(low: f64, high: f64, fixed_range: bool, integer: bool) -> Axis {
        let (mut low, mut high) = if low.is_finite() && high.is_finite() { (low, high) } else { (0.0, 1.0) };
        if high - low <= f64::EPSILON * high.abs().max(1.0) {
            let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
            low -= pad;
            high += pad;
        }
        let mut step = nice_step(high - low, 5.0);
        if integer {
            step = step.max(1.0).round();
        }
        if !fixed_range {
            low = (low / step).floor() * step;
            high = (high / step).ceil() * step;
        }
        let first = (low / step - 1e-9).ceil() as i64;
        let last = (high / step + 1e-9).floor() as i64;
        // Absurd ranges (overflowing spans) fall back to the two ends rather than looping on.
        let ticks: Vec<f64> = if last.saturating_sub(first) > 50 || !step.is_finite() {
            vec![low, high]
        } else {
            (first..=last).map(|k| k as f64 * step).collect()
        };
        let decimals = if step >= 1.0 { 0 } else { (-step.log10() - 1e-9).ceil().max(0.0) as usize };
        Axis { low, high, ticks, decimals }
    }

    /// The fraction of the axis at which `value` lies.
    fn fraction(&self, value: f64) -> f64 {
        (value - self.low) / (self.high - self.low)
    }
}

/// The finite min and max of some values.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((low, high)) => Some((low.min(v), high.max(v))),
    })
}

/// The font size (14 px, smaller down to 11 px) at which an axis label fits in `room` pixels.
fn label_size(label: &str, room: f64) -> f64 {
    // About 0.55 em per character in the sans-serif fonts used.
    let needed = label.chars().count() as f64 * 0.55;
    (room / needed.max(1.0)).clamp(11.0, 14.0)
}

/// Pixel coordinates with one decimal.
fn px(value: f64) -> String {
    fixed(value, 1)
}

/// Drops consecutive points that land on the same (rounded) pixel.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for point in points {
        let rounded = ((point.0 * 2.0).round() / 2.0, (point.1 * 2.0).round() / 2.0);
        if out.last() != Some(&rounded) {
            out.push(rounded);
        }
    }
    out
}

/// The number of legend columns and rows for `names`.
fn legend_layout(names: &[&str], width: f64) -> (usize, usize) {
    if names.is_empty() {
        return (0, 0);
    }
    let longest = names.iter().map(|name| name.chars().count()).max().unwrap_or(0) as f64;
    let usable = width - LEFT - RIGHT;
    // ~7.4 px per character at 13 px, plus the swatch.
    let columns = ((usable / (longest * 7.4 + 44.0)).floor() as usize).clamp(1, 3).min(names.len());
    (columns, names.len().div_ceil(columns))
}

impl Chart {
    /// A chart with the default size (540 x 400) and no series yet.
    pub fn new(id: &str, title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            id: id.into(),
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: None,
            y_range: None,
            equal_axes: false,
            x_integer: false,
            series: Vec::new(),
            markers: Vec::new(),
            width: 540.0,
            height: 400.0,
        }
    }

    /// The SVG element.
    pub fn svg(&self) -> String {
        let all_x =
            self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).chain(self.markers.iter().map(|m| m.x));
        let all_y = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let data_x = extent(all_x).unwrap_or((0.0, 1.0));
        let data_y = extent(all_y).unwrap_or((0.0, 1.0));
        let (x_axis, y_axis) = if self.equal_axes {
            let both = (data_x.0.min(data_y.0), data_x.1.max(data_y.1));
            (Axis::new(both.0, both.1, false, false), Axis::new(both.0, both.1, false, false))
        } else {
            let x = match self.x_range {
                Some((low, high)) => Axis::new(low, high, true, self.x_integer),
                None => Axis::new(data_x.0, data_x.1, false, self.x_integer),
            };
            let y = match self.y_range {
                Some((low, high)) => Axis::new(low, high, true, false),
                None => Axis::new(data_y.0, data_y.1, false, false),
            };
            (x, y)
        };
        let width = self.width;
        let plot_width = width - LEFT - RIGHT;
        let plot_height = self.height - TOP - BOTTOM;
        let to_x = |x: f64| LEFT + x_axis.fraction(x) * plot_width;
        let to_y = |y: f64| TOP + plot_height - y_axis.fraction(y) * plot_height;

        let legend: Vec<&Series> = self.series.iter().filter(|s| s.in_legend).collect();
        let names: Vec<&str> = legend.iter().map(|s| s.name.as_str()).collect();
        let (columns, rows) = if legend.len() > 1 { legend_layout(&names, width) } else { (0, 0) };
        let legend_height = if rows > 0 { rows as f64 * 21.0 + 10.0 } else { 0.0 };
        let total_height = self.height + legend_height;

        let mut out = String::new();
        let id = escape(&self.id);
        let _ = writeln!(
            out,
            "<svg class=\"plot\" id=\"{id}\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             font-family=\"{FONT}\" font-size=\"13\" aria-label=\"{title}\">",
            w = px(width),
            h = px(total_height),
            title = escape(&self.title)
        );
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(
            out,
            "<defs><clipPath id=\"{id}-clip\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>",
            // A little room so that lines along the frame (a perfect ROC) are drawn whole.
            px(LEFT - 3.0),
            px(TOP - 3.0),
            px(plot_width + 6.0),
            px(plot_height + 6.0)
        );
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
            px(width),
            px(total_height)
        );
        // Title.
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\" fill=\"#1d2330\">{}</text>",
            px(LEFT + plot_width / 2.0),
            escape(&self.title)
        );
        // Grid and ticks.
        out.push_str("<g stroke=\"#e6e9ef\" stroke-width=\"1\">");
        for &tick in &x_axis.ticks {
            let x = px(to_x(tick));
            let _ = write!(out, "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>", px(TOP), px(TOP + plot_height));
        }
        for &tick in &y_axis.ticks {
            let y = px(to_y(tick));
            let _ = write!(out, "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>", px(LEFT), px(LEFT + plot_width));
        }
        out.push_str("</g>\n<g fill=\"#3a4150\" font-size=\"12.5\">");
        for &tick in &x_axis.ticks {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px(to_x(tick)),
                px(TOP + plot_height + 18.0),
                fixed(tick, x_axis.decimals)
            );
        }
        for &tick in &y_axis.ticks {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                px(LEFT - 7.0),
                px(to_y(tick) + 4.0),
                fixed(tick, y_axis.decimals)
            );
        }
        out.push_str("</g>\n");
        // Axis labels.
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"#1d2330\">{}</text>",
            px(LEFT + plot_width / 2.0),
            px(TOP + plot_height + 44.0),
            fixed(label_size(&self.x_label, plot_width), 1),
            escape(&self.x_label)
        );
        let _ = writeln!(
            out,
            "<text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"{}\" fill=\"#1d2330\">{}</text>",
            px(20.0),
            px(TOP + plot_height / 2.0),
            fixed(label_size(&self.y_label, plot_height), 1),
            escape(&self.y_label)
        );
        // Series, clipped to the plotting area.
        let _ = writeln!(out, "<g clip-path=\"url(#{id}-clip)\">");
        for series in &self.series {
            let pixels: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| (to_x(x), to_y(y)))
                .collect();
            match series.style {
                Style::Line { width, dashed } => {
                    let dash = if dashed { " stroke-dasharray=\"6 4\"" } else { "" };
                    write_polyline(&mut out, &thin(pixels), &series.colour, width, dash);
                }
                Style::Step { width } => {
                    let mut steps = Vec::with_capacity(pixels.len() * 2);
                    for (index, &point) in pixels.iter().enumerate() {
                        if index > 0 {
                            steps.push((point.0, pixels[index - 1].1));
                        }
                        steps.push(point);
                    }
                    write_polyline(&mut out, &thin(steps), &series.colour, width, "");
                }
                Style::Points { radius } => {
                    let _ = write!(out, "<g fill=\"{}\" fill-opacity=\"0.45\">", series.colour);
                    for (x, y) in pixels {
                        let _ = write!(out, "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>", px(x), px(y), px(radius));
                    }
                    out.push_str("</g>\n");
                }
            }
        }
        out.push_str("</g>\n");
        // Markers.
        for marker in &self.markers {
            let x = to_x(marker.x);
            let _ = writeln!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#c0392b\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>",
                px(TOP),
                px(TOP + plot_height),
                x = px(x)
            );
            let anchor = if x > LEFT + plot_width * 0.7 { "end" } else { "start" };
            let offset = if anchor == "end" { -5.0 } else { 5.0 };
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"12.5\" fill=\"#c0392b\">{}</text>",
                px(x + offset),
                px(TOP + 14.0),
                escape(&marker.label)
            );
        }
        // Frame.
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#59606e\" stroke-width=\"1\"/>",
            px(LEFT),
            px(TOP),
            px(plot_width),
            px(plot_height)
        );
        // Legend below the plot, so it never hides data.
        if columns > 0 {
            let column_width = plot_width / columns as f64;
            for (index, series) in legend.iter().enumerate() {
                let x = LEFT + (index % columns) as f64 * column_width;
                let y = self.height + 4.0 + (index / columns) as f64 * 21.0;
                match series.style {
                    Style::Points { .. } => {
                        let _ = write!(
                            out,
                            "<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\" fill-opacity=\"0.7\"/>",
                            px(x + 13.0),
                            px(y),
                            series.colour
                        );
                    }
                    Style::Line { width, dashed } => {
                        let dash = if dashed { " stroke-dasharray=\"6 4\"" } else { "" };
                        let _ = write!(
                            out,
                            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"{}\"{dash}/>",
                            px(x),
                            px(x + 26.0),
                            series.colour,
                            fixed(width.max(2.0), 1),
                            y = px(y)
                        );
                    }
                    Style::Step { width } => {
                        let _ = write!(
                            out,
                            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"{}\"/>",
                            px(x),
                            px(x + 26.0),
                            series.colour,
                            fixed(width.max(2.0), 1),
                            y = px(y)
                        );
                    }
                }
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#1d2330\">{}</text>",
                    px(x + 33.0),
                    px(y + 4.5),
                    escape(&series.name)
                );
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

/// A `<figure>` holding one of this module's SVG charts and an optional caption, as wide as
/// the chart at most (so the caption wraps under it rather than widening it).
pub(crate) fn figure(svg: &str, caption_html: &str) -> String {
    let width = svg
        .find(" width=\"")
        .map(|start| &svg[start + 8..])
        .and_then(|rest| rest.split('"').next())
        .and_then(|text| text.parse::<f64>().ok());
    let style = width.map_or(String::new(), |width| format!(" style=\"max-width:{}px\"", fixed(width, 0)));
    let caption =
        if caption_html.is_empty() { String::new() } else { format!("<figcaption>{caption_html}</figcaption>") };
    format!("<figure{style}>{svg}{caption}</figure>\n")
}

/// A `<polyline>` of pixel points.
fn write_polyline(out: &mut String, points: &[(f64, f64)], colour: &str, width: f64, dash: &str) {
    if points.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\" stroke-linejoin=\"round\"{dash} points=\"",
        fixed(width, 1)
    );
    for (index, (x, y)) in points.iter().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{},{}", px(*x), px(*y));
    }
    out.push_str("\"/>\n");
}

/// Linear blend from a pale to a deep blue for `fraction` in `[0, 1]`.
fn heat(fraction: f64) -> String {
    let f = fraction.clamp(0.0, 1.0);
    let blend = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", blend(247.0, 8.0), blend(251.0, 69.0), blend(255.0, 148.0))
}

/// A confusion-matrix heatmap: rows are true classes, columns predicted classes, each cell
/// coloured by its share of the row (the recall of the true class on the diagonal); cells are
/// at most `max_cell` px wide.
pub(crate) fn confusion_svg(id: &str, title: &str, matrix: &[Vec<f64>], names: &[String], max_cell: f64) -> String {
    let n = matrix.len();
    let cell = (400.0 / n.max(1) as f64).clamp(34.0, max_cell.max(34.0));
    let longest = names.iter().map(|name| name.chars().count()).max().unwrap_or(1) as f64;
    let label_width = (longest * 7.6 + 12.0).clamp(28.0, 220.0);
    let rotate = longest * 7.6 > cell - 6.0;
    let left = 30.0 + label_width;
    let top = 44.0;
    let grid = cell * n as f64;
    let x_labels_height = if rotate { (longest * 7.6 * 0.72 + 16.0).min(170.0) } else { 24.0 };
    let width = (left + grid + 24.0).max(240.0);
    let height = top + grid + x_labels_height + 34.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg class=\"plot\" id=\"{id}\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         font-family=\"{FONT}\" font-size=\"13\" aria-label=\"{title}\">",
        id = escape(id),
        w = px(width),
        h = px(height),
        title = escape(title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>", px(width), px(height));
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\" fill=\"#1d2330\">{}</text>",
        px(width / 2.0),
        escape(title)
    );
    for (row, values) in matrix.iter().enumerate() {
        let total: f64 = values.iter().filter(|v| v.is_finite()).sum();
        for column in 0..n {
            let value = values.get(column).copied().unwrap_or(0.0);
            let fraction = if total > 0.0 { value / total } else { 0.0 };
            let x = left + column as f64 * cell;
            let y = top + row as f64 * cell;
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>",
                px(x),
                px(y),
                px(cell),
                px(cell),
                heat(fraction)
            );
            let ink = if fraction > 0.5 { "#ffffff" } else { "#1d2330" };
            let count = crate::html::count(Some(value));
            if cell >= 52.0 {
                let _ = writeln!(
                    out,
                    "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"600\" fill=\"{ink}\">{count}</text>\
                     <text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11.5\" fill=\"{ink}\">{}</text>",
                    px(y + cell / 2.0),
                    px(y + cell / 2.0 + 16.0),
                    crate::html::percent(value, total),
                    cx = px(x + cell / 2.0)
                );
            } else {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{ink}\">{count}</text>",
                    px(x + cell / 2.0),
                    px(y + cell / 2.0 + 4.0)
                );
            }
        }
    }
    // Class names: true classes on the left, predicted classes below.
    for (index, name) in names.iter().enumerate().take(n) {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2330\">{}</text>",
            px(left - 6.0),
            px(top + index as f64 * cell + cell / 2.0 + 4.5),
            escape(name)
        );
        let x = left + index as f64 * cell + cell / 2.0;
        let y = top + grid + 17.0;
        if rotate {
            let _ = writeln!(
                out,
                "<text transform=\"translate({} {}) rotate(-40)\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2330\">{}</text>",
                px(x + 4.0),
                px(y - 6.0),
                escape(name)
            );
        } else {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1d2330\">{}</text>",
                px(x),
                px(y),
                escape(name)
            );
        }
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2330\">predicted</text>",
        px(left + grid / 2.0),
        px(top + grid + x_labels_height + 22.0)
    );
    let _ = writeln!(
        out,
        "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2330\">true</text>",
        px(top + grid / 2.0)
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        let axis = Axis::new(0.0, 1.0, true, false);
        assert_eq!(axis.ticks.len(), 6);
        assert_eq!(axis.decimals, 1);
        let axis = Axis::new(0.3631, 0.6952, false, false);
        assert!(axis.low <= 0.3631 && axis.high >= 0.6952);
        let axis = Axis::new(1.0, 25.0, false, true);
        assert!(axis.ticks.iter().all(|t| t.fract() == 0.0));
        let flat = Axis::new(2.0, 2.0, false, false);
        assert!(flat.high > flat.low);
        let huge = Axis::new(-1e308, 1e308, false, true);
        assert!(huge.ticks.len() <= 51);
    }

    #[test]
    fn chart_is_deterministic_and_escaped() {
        let mut chart = Chart::new("c<1>", "a < b", "x (units)", "y (units)");
        chart.series.push(Series::line("one & two", vec![(0.0, 0.0), (1.0, 1.0)], colour(0)));
        chart.series.push(Series::reference("chance", vec![(0.0, 0.0), (1.0, 1.0)]));
        let first = chart.svg();
        assert_eq!(first, chart.svg());
        assert!(first.contains("one &amp; two") && first.contains("a &lt; b") && !first.contains("c<1>"));
    }
}
