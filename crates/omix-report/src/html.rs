//! HTML building blocks: escaping, number formatting, the page frame with its inline CSS and
//! the small measuring script used by the browser check.

use std::fmt::Write as _;

/// Escapes text for HTML (and SVG) content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `value` with `decimals` decimals, without a `-0`.
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') { text[1..].to_string() } else { text }
}

/// A metric value (3 decimals), or an en dash when absent.
pub(crate) fn metric(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => {
            if value != 0.0 && value.abs() < 0.001 {
                format!("{value:.2e}")
            } else if value.abs() >= 1000.0 {
                fixed(value, 1)
            } else {
                fixed(value, 3)
            }
        }
        _ => "–".into(),
    }
}

/// A count (integer) or an en dash.
pub(crate) fn count(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => {
            let rounded = value.round();
            if (rounded - value).abs() < 1e-9 { group_thousands(rounded as i64) } else { fixed(value, 2) }
        }
        _ => "–".into(),
    }
}

/// An integer with thin-space thousands separators (`12 345`).
pub(crate) fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// A p-value or E-value: scientific below 0.001.
pub(crate) fn probability(value: f64) -> String {
    if !value.is_finite() {
        "–".into()
    } else if value == 0.0 {
        "0".into()
    } else if value < 0.001 {
        format!("{value:.1e}")
    } else {
        fixed(value, 3)
    }
}

/// A percentage with one decimal.
pub(crate) fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 && part.is_finite() { format!("{}%", fixed(100.0 * part / whole, 1)) } else { "–".into() }
}

/// A human label for a metric key (`auroc` -> `AUROC`).
pub(crate) fn metric_name(key: &str) -> String {
    let key = key.strip_prefix("validation_").unwrap_or(key);
    match key {
        "auroc" => "AUROC".into(),
        "auprc" => "AUPRC".into(),
        "mcc" => "MCC".into(),
        "f1" => "F1".into(),
        "macro_f1" => "macro F1".into(),
        "micro_f1" => "micro F1".into(),
        "macro_auroc" => "macro AUROC".into(),
        "macro_auprc" => "macro AUPRC".into(),
        "pearson" => "Pearson r".into(),
        "spearman" => "Spearman ρ".into(),
        "r2" => "R²".into(),
        "mse" => "MSE".into(),
        "mae" => "MAE".into(),
        "jsd" => "JSD".into(),
        "profile_pearson" => "profile Pearson r".into(),
        "count_pearson" => "count Pearson r".into(),
        "count_spearman" => "count Spearman ρ".into(),
        "count_mse" => "log-count MSE".into(),
        other => other.replace('_', " "),
    }
}

/// The range and direction of a metric, as an axis-unit hint.
pub(crate) fn metric_unit(key: &str) -> &'static str {
    let key = key.strip_prefix("validation_").unwrap_or(key);
    match key {
        "auroc" | "auprc" | "accuracy" | "f1" | "macro_f1" | "micro_f1" | "balanced_accuracy" | "precision"
        | "recall" => "0–1, higher is better",
        "mcc" | "pearson" | "spearman" | "profile_pearson" | "count_pearson" | "count_spearman" => {
            "−1 to 1, higher is better"
        }
        "jsd" => "0 to 0.83, lower is better",
        "count_mse" => "log counts squared, lower is better",
        "r2" => "≤ 1, higher is better",
        "loss" => "per example, lower is better",
        "mse" | "mae" => "target units, lower is better",
        _ => "unitless",
    }
}

/// Removes what inline SVG in HTML does not need from an SVG document made elsewhere: the XML
/// prolog and the namespace declarations (which are URLs, though never fetched).
pub(crate) fn inline_svg(svg: &str) -> String {
    let mut svg = svg.trim();
    if svg.starts_with("<?xml") {
        svg = svg.find("?>").map_or(svg, |end| svg[end + 2..].trim_start());
    }
    svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
}

/// A `<p class="note">` line.
pub(crate) fn note(text_html: &str) -> String {
    format!("<p class=\"note\">{text_html}</p>\n")
}

/// A table from a header and rows of cell HTML; `numeric` columns are right-aligned.
pub(crate) fn table(class: &str, header: &[String], rows: &[Vec<String>], numeric: &[bool]) -> String {
    let mut out = format!("<div class=\"table-wrap\"><table class=\"{class}\">\n<thead><tr>");
    for (index, cell) in header.iter().enumerate() {
        let align = if numeric.get(index).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{align}>{cell}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (index, cell) in row.iter().enumerate() {
            let align = if numeric.get(index).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{align}>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// One section of the report.
pub(crate) struct Section {
    /// The element id (also the anchor in the navigation).
    pub id: &'static str,
    /// The `<h2>` title.
    pub title: &'static str,
    /// The body HTML.
    pub body: String,
}

/// The inline stylesheet: system fonts only, nothing fetched.
const STYLE: &str = r#"
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dde6; --soft: #f5f7fa; --accent: #0b5cad; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #ffffff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px; line-height: 1.5; }
header.report-header { background: #14315a; color: #ffffff; padding: 22px 32px 14px; }
header.report-header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; overflow-wrap: anywhere; }
header.report-header p { margin: 0 0 10px; color: #d5e1f2; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 15px; }
nav.toc a { color: #ffffff; text-decoration: none; border-bottom: 1px solid rgba(255,255,255,0.4); }
main { max-width: 1200px; margin: 0 auto; padding: 8px 32px 48px; }
section.report-section { border-bottom: 1px solid var(--line); padding: 18px 0 26px; }
section.report-section h2 { font-size: 22px; margin: 8px 0 12px; color: #14315a; }
h3 { font-size: 18px; margin: 18px 0 8px; }
p { margin: 6px 0 10px; }
.note { color: var(--muted); }
.hint { color: var(--muted); font-size: 14px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em;
  background: var(--soft); padding: 1px 4px; border-radius: 3px; }
pre.config { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 13.5px;
  line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 15px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 6px 0 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; background: #ffffff; }
.card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { font-size: 15px; color: var(--ink); }
.card .sub { font-size: 13px; color: var(--muted); }
.verdict { border-left: 6px solid #8a8a8a; background: var(--soft); padding: 10px 14px; margin: 12px 0; border-radius: 4px; }
.verdict.good { border-color: #1a8a4a; background: #eef8f1; }
.verdict.bad { border-color: #c0392b; background: #fcefed; }
.verdict.neutral { border-color: #c9890a; background: #fdf6e7; }
ul.checks { list-style: none; padding: 0; margin: 6px 0; }
ul.checks li { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
ul.checks .why { color: var(--muted); font-size: 15px; margin: 4px 0 0; }
.badge { display: inline-block; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em;
  padding: 1px 7px; border-radius: 10px; margin-right: 8px; background: #e3e7ee; color: #333; }
.badge.warning { background: #fde7b5; color: #6b4a00; }
.badge.error { background: #f7c6c0; color: #7a1b10; }
.badge.info { background: #d6e6fa; color: #0b3d7a; }
.badge.ok { background: #cfeedd; color: #11562f; }
.plots { display: flex; flex-wrap: wrap; gap: 18px 24px; align-items: flex-start; margin: 8px 0 12px; }
figure { margin: 0; }
.row { display: flex; flex-wrap: wrap; gap: 0 48px; align-items: flex-start; }
figure figcaption { font-size: 14px; color: var(--muted); margin-top: 2px; max-width: 560px; }
svg.plot { display: block; max-width: 100%; height: auto; background: #ffffff; }
figure.logo { margin: 10px 0 18px; }
figure.logo .scroll { overflow-x: auto; max-width: 100%; }
figure.logo svg { display: block; }
figure.logo figcaption { max-width: none; color: var(--ink); font-size: 15px; }
.motif-grid { display: flex; flex-wrap: wrap; gap: 10px 32px; }
.motif-grid figure.logo { width: 540px; max-width: 100%; }
.barbox { display: inline-block; width: 64px; height: 10px; background: #edf1f6; vertical-align: middle; margin-left: 8px; border-radius: 2px; text-align: left; }
.barbox .bar { display: block; height: 10px; background: #5b8fcc; border-radius: 2px; }
footer { max-width: 1200px; margin: 0 auto; padding: 12px 32px 32px; color: var(--muted); font-size: 14px; }
@media print {
  @page { margin: 14mm 12mm; }
  body { font-size: 11pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  header.report-header { padding: 12px 0 8px; }
  main, footer { max-width: none; padding-left: 0; padding-right: 0; }
  pre.config { font-size: 9pt; }
  .table-wrap, figure.logo .scroll { overflow: visible; }
  table { width: 100%; }
  th { white-space: normal; }
  td, dl.facts dd, figcaption { overflow-wrap: anywhere; }
  svg.plot, figure.logo svg { max-width: 100%; height: auto; }
  h2, h3 { break-after: avoid; }
  figure, ul.checks li, tr { break-inside: avoid; }
}
"#;

/// Measures every section and every SVG after layout, for the headless-browser check: writes
/// `data-rendered-width`/`data-rendered-height` on each, `data-svg-count` on each section,
/// `data-drawn-elements` on each SVG, `data-clipped` (`yes`/`no`) on the configuration listing,
/// then `data-checked="yes"` on the body.
const MEASURE_SCRIPT: &str = r#"
(function () {
  function measure() {
    var shapes = 'path,line,polyline,polygon,rect,circle,ellipse,text';
    document.querySelectorAll('section.report-section').forEach(function (section) {
      var box = section.getBoundingClientRect();
      section.setAttribute('data-rendered-width', String(Math.round(box.width)));
      section.setAttribute('data-rendered-height', String(Math.round(box.height)));
      section.setAttribute('data-svg-count', String(section.querySelectorAll('svg').length));
    });
    // Text cut off: wider or taller than its box (a listing that scrolls hides it in print).
    document.querySelectorAll('pre.config').forEach(function (pre) {
      var clipped = pre.scrollWidth > pre.clientWidth + 1 || pre.scrollHeight > pre.clientHeight + 1;
      pre.setAttribute('data-clipped', clipped ? 'yes' : 'no');
    });
    document.querySelectorAll('svg').forEach(function (svg) {
      var box = svg.getBoundingClientRect();
      svg.setAttribute('data-rendered-width', String(Math.round(box.width)));
      svg.setAttribute('data-rendered-height', String(Math.round(box.height)));
      svg.setAttribute('data-drawn-elements', String(svg.querySelectorAll(shapes).length));
    });
    document.body.dataset.checked = 'yes';
  }
  measure();
  window.addEventListener('load', measure);
})();
"#;

/// The whole page.
pub(crate) fn page(title: &str, subtitle_html: &str, sections: &[Section]) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header class=\"report-header\">\n<h1>{}</h1>\n<p>{subtitle_html}</p>", escape(title));
    out.push_str("<nav class=\"toc\">");
    for section in sections {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", section.id, escape(section.title));
    }
    out.push_str("</nav>\n</header>\n<main>\n");
    for section in sections {
        let _ = write!(
            out,
            "<section id=\"{id}\" class=\"report-section\">\n<h2>{title}</h2>\n{body}</section>\n",
            id = section.id,
            title = escape(section.title),
            body = section.body
        );
    }
    out.push_str("</main>\n<footer>Made by omix from the files of the run folder; self-contained: ");
    out.push_str("inline styles and SVG only, nothing is loaded from the network.</footer>\n");
    let _ = writeln!(out, "<script>{MEASURE_SCRIPT}</script>\n</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a & \"b\">'"), "&lt;a &amp; &quot;b&quot;&gt;&#39;");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(metric(Some(0.97949)), "0.979");
        assert_eq!(metric(None), "–");
        assert_eq!(count(Some(10918.0)), "10\u{202f}918");
        assert_eq!(probability(0.00002), "2.0e-5");
        assert_eq!(percent(1.0, 4.0), "25.0%");
    }

    #[test]
    fn strips_namespaces() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\"></svg>";
        assert_eq!(inline_svg(svg), "<svg width=\"1\"></svg>");
    }
}
