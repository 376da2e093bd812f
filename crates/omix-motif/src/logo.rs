//! Sequence logos as standalone SVG.
//!
//! - [`logo_svg`]: an information-content logo of one motif. Each column is a stack of
//!   letters, letter `j` `p_j × IC` bits tall (IC the column's information content against the
//!   background, see [`information_content`](crate::information_content)), the tallest on top;
//!   a `bits` axis from 0 to `log2(alphabet)` and the 1-based positions below.
//! - [`aligned_logos_svg`]: a query and a database motif one above the other, shifted by the
//!   offset of a [`MotifMatch`] (the target reverse-complemented for a reverse-strand match),
//!   the overlapping columns shaded, with the match's p-, E- and q-values.
//! - [`attribution_logo_svg`]: a signed logo of per-position attribution scores (for example
//!   gradient × input), positive letters stacked above a zero line and negative ones below.
//!
//! Nucleotides are drawn as filled `<path>` outlines in a 100 × 100 box, placed with
//! `transform="translate(x y) scale(sx sy)"` so that each letter fills exactly its column
//! width and stack height (scaled `<text>` is unreliable across browsers). Colours: A green
//! `#109648`, C blue `#255C99`, G orange `#F7B32B`, T and U red `#D62839`. Other letters
//! (protein) fall back to `<text>` stretched with `textLength` and a vertical scale. All text
//! supplied by the caller (titles, labels) is escaped for XML.

use std::fmt::Write as _;

use crate::Motif;

use crate::compare::{MotifMatch, Strand};
use crate::pfm::{column_information, reverse_complement_motif, usable_background};

/// Sizes and labels of a logo.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoOptions {
    /// Width of one position, in px (default 22).
    pub column_width: f64,
    /// Height of the plot, in px: the full `bits` axis (`log2(alphabet)`, 2 bits for DNA) for
    /// motif logos, the span from the lowest to the highest stack for attribution logos
    /// (default 90).
    pub height: f64,
    /// A title above the logo (escaped for XML).
    pub title: Option<String>,
    /// Whether to draw the axes, tick labels and axis names (default true).
    pub axes: bool,
}

impl Default for LogoOptions {
    fn default() -> Self {
        LogoOptions { column_width: 22.0, height: 90.0, title: None, axes: true }
    }
}

impl LogoOptions {
    /// The column width and plot height, with non-positive or non-finite values replaced by
    /// the defaults.
    fn sizes(&self) -> (f64, f64) {
        let defaults = LogoOptions::default();
        let width = if self.column_width.is_finite() && self.column_width > 0.0 {
            self.column_width
        } else {
            defaults.column_width
        };
        let height = if self.height.is_finite() && self.height > 0.0 { self.height } else { defaults.height };
        (width, height)
    }
}

/// Font for all text.
const FONT: &str = "Helvetica, Arial, sans-serif";
/// Room left of the plot for the y axis, its tick labels and its name, in px.
const AXIS_LEFT: f64 = 46.0;
/// Room below the plot for the position labels, in px.
const AXIS_BOTTOM: f64 = 22.0;
/// Margin without axes, in px.
const MARGIN: f64 = 6.0;
/// Height of a title line, in px.
const TITLE_HEIGHT: f64 = 20.0;
/// Height of a panel label line in aligned logos, in px.
const LABEL_HEIGHT: f64 = 18.0;
/// Stacks thinner than this (px) are not drawn.
const MIN_LETTER_HEIGHT: f64 = 0.01;
/// The cap height of the fallback font as a fraction of the font size.
const CAP_HEIGHT: f64 = 0.72;

/// Letter outlines in a 100 × 100 box (y down), filled with the even-odd rule.
fn glyph_path(letter: char) -> Option<&'static str> {
    match letter.to_ascii_uppercase() {
        'A' => Some("M0 100L37 0H63L100 100H75L67 77H33L25 100ZM40 57H60L50 28Z"),
        // An open ellipse ring spanning the whole box (its ends touch x = 100).
        'C' => Some("M100 14.64A58.58 50 0 1 0 100 85.36L85.15 70.51A37.58 29 0 1 1 85.15 29.49Z"),
        // A ring open at the upper right, with a bar into the bowl.
        'G' => Some("M88.3 17.86A50 50 0 1 0 100 50H52V66H74.18A29 29 0 1 1 72.21 31.36Z"),
        'T' => Some("M0 0H100V21H61V100H39V21H0Z"),
        'U' => Some("M0 0H24V62A26 18 0 0 0 76 62V0H100V62A50 38 0 0 1 0 62Z"),
        _ => None,
    }
}

/// The fill colour of a letter: the nucleotide colours for 4-letter alphabets, a chemistry
/// scheme otherwise.
fn letter_colour(letter: char, nucleic: bool) -> &'static str {
    let letter = letter.to_ascii_uppercase();
    if nucleic {
        return match letter {
            'A' => "#109648",
            'C' => "#255C99",
            'G' => "#F7B32B",
            'T' | 'U' => "#D62839",
            _ => "#555555",
        };
    }
    match letter {
        'D' | 'E' => "#D62839",
        'K' | 'R' | 'H' => "#255C99",
        'S' | 'T' | 'Y' | 'C' | 'N' | 'Q' | 'G' => "#109648",
        'A' | 'V' | 'L' | 'I' | 'P' | 'W' | 'F' | 'M' => "#333333",
        _ => "#888888",
    }
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes; control
/// characters XML does not allow are dropped.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A number for SVG: at most 2 decimals, no trailing zeros, never `-0`.
fn num(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let mut text = format!("{value:.2}");
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    if text == "-0" { "0".to_owned() } else { text }
}

/// Draw one letter filling the box `x..x+width`, `top..top+height`.
fn draw_letter(out: &mut String, letter: char, x: f64, top: f64, width: f64, height: f64, colour: &str) {
    let sx = width / 100.0;
    let sy = height / 100.0;
    if let Some(path) = glyph_path(letter) {
        let _ = writeln!(
            out,
            r#"<path d="{path}" fill="{colour}" fill-rule="evenodd" transform="translate({} {}) scale({} {})"/>"#,
            num(x),
            num(top),
            fmt_scale(sx),
            fmt_scale(sy),
        );
    } else {
        // Font size 100 with the baseline at 0: the capital is about 72 units tall.
        let _ = writeln!(
            out,
            r#"<text x="0" y="0" font-family="{FONT}" font-weight="bold" font-size="100" textLength="100" lengthAdjust="spacingAndGlyphs" fill="{colour}" transform="translate({} {}) scale({} {})">{}</text>"#,
            num(x),
            num(top + height),
            fmt_scale(sx),
            fmt_scale(height / (100.0 * CAP_HEIGHT)),
            escape_xml(&letter.to_string()),
        );
    }
}

/// A scale factor with enough digits for thin letters.
fn fmt_scale(value: f64) -> String {
    let mut text = format!("{value:.5}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
    text.truncate(trimmed);
    if text.is_empty() || text == "-0" { "0".to_owned() } else { text }
}

/// Stack letters with the given heights (px) upwards from `baseline` (`upwards`) or
/// downwards, the tallest farthest from the baseline.
fn draw_stack(
    out: &mut String,
    letters: &LetterSet,
    heights: &[(usize, f64)],
    x: f64,
    width: f64,
    baseline: f64,
    upwards: bool,
) {
    let mut ordered: Vec<(usize, f64)> =
        heights.iter().copied().filter(|(_, h)| h.is_finite() && *h >= MIN_LETTER_HEIGHT).collect();
    ordered.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut edge = baseline;
    for (index, height) in ordered {
        let letter = letters.letters.get(index).copied().unwrap_or('?');
        let top = if upwards { edge - height } else { edge };
        draw_letter(out, letter, x, top, width, height, letter_colour(letter, letters.nucleic));
        edge = if upwards { edge - height } else { edge + height };
    }
}

/// Round tick values covering `low..=high` (about 4 intervals), with their label decimals.
fn nice_ticks(low: f64, high: f64) -> (Vec<f64>, usize) {
    let span = high - low;
    if !(span.is_finite() && span > 0.0) {
        return (vec![low], 0);
    }
    let raw = span / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|f| f * magnitude)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * magnitude);
    let decimals = (0..=6).find(|&d| {
        let scaled = step * 10f64.powi(d);
        (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
    });
    let first = (low / step).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, decimals.unwrap_or(6) as usize)
}

/// Draw a vertical axis at `x` for values `low..high` mapped to `bottom..top`, with ticks,
/// labels and the axis name.
fn draw_y_axis(out: &mut String, x: f64, top: f64, bottom: f64, low: f64, high: f64, name: &str) {
    let to_y = |value: f64| bottom - (value - low) / (high - low) * (bottom - top);
    let _ = writeln!(
        out,
        r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#333333" stroke-width="1"/>"##,
        num(top),
        num(bottom),
        x = num(x)
    );
    let (ticks, decimals) = nice_ticks(low, high);
    for tick in ticks {
        let y = to_y(tick);
        let label = format!("{tick:.decimals$}");
        let label =
            if label.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') { "0".to_owned() } else { label };
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#333333" stroke-width="1"/><text x="{}" y="{}" font-family="{FONT}" font-size="10" text-anchor="end" fill="#333333">{label}</text>"##,
            num(x - 4.0),
            num(x),
            num(x - 6.0),
            num(y + 3.5),
            y = num(y),
        );
    }
    let middle = (top + bottom) / 2.0;
    let _ = writeln!(
        out,
        r##"<text x="0" y="0" font-family="{FONT}" font-size="11" text-anchor="middle" fill="#333333" transform="translate({} {}) rotate(-90)">{}</text>"##,
        num(x - 32.0),
        num(middle),
        escape_xml(name),
    );
}

/// Positions between two labels so that labels of `max_position` do not collide.
fn label_step(max_position: usize, column_width: f64) -> usize {
    let digits = max_position.max(1).to_string().len() as f64;
    let needed = digits * 6.5 + 4.0;
    let mut base = 1usize;
    loop {
        for factor in [1, 2, 5] {
            let step = base * factor;
            if step as f64 * column_width >= needed || step >= max_position.max(1) {
                return step;
            }
        }
        base *= 10;
    }
}

/// Draw the position labels (1-based) under `count` columns starting at `x0`, thinned so that
/// they do not collide, with a small tick above each.
fn draw_x_labels(out: &mut String, x0: f64, y: f64, column_width: f64, count: usize) {
    let step = label_step(count, column_width);
    for position in (1..=count).filter(|p| p % step == 0 || step == 1) {
        let centre = x0 + (position as f64 - 0.5) * column_width;
        let _ = writeln!(
            out,
            r##"<line x1="{c}" y1="{}" x2="{c}" y2="{}" stroke="#333333" stroke-width="1"/><text x="{c}" y="{}" font-family="{FONT}" font-size="10" text-anchor="middle" fill="#333333">{position}</text>"##,
            num(y),
            num(y + 3.0),
            num(y + 13.0),
            c = num(centre),
        );
    }
}

/// Open an `<svg>` element of the given size.
fn open_svg(out: &mut String, width: f64, height: f64, label: &str) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape_xml(label),
        w = num(width),
        h = num(height),
    );
    let _ = writeln!(out, r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##, num(width), num(height));
}

/// The letters of a logo and their colour scheme.
struct LetterSet {
    /// The alphabet's letters, extended with `?` for values beyond them.
    letters: Vec<char>,
    /// Whether the alphabet has 4 letters (nucleotide colours).
    nucleic: bool,
}

impl LetterSet {
    /// The letters of `alphabet_letters`, extended with `?` up to `length`.
    fn new(alphabet_letters: &str, length: usize) -> Self {
        let mut letters: Vec<char> = alphabet_letters.chars().collect();
        let nucleic = letters.len() == 4;
        while letters.len() < length {
            letters.push('?');
        }
        LetterSet { letters, nucleic }
    }
}

/// The geometry of a probability logo: px per bit and the top of the bits axis.
struct BitsScale {
    column_width: f64,
    px_per_bit: f64,
    top_bits: f64,
}

impl BitsScale {
    fn new(motifs: &[&Motif], alphabet_length: usize, background: &[f64], column_width: f64, height: f64) -> Self {
        let full = (alphabet_length.max(2) as f64).log2();
        let mut top_bits = full;
        for motif in motifs {
            for row in &motif.probabilities {
                let bg = usable_background(background, row.len());
                top_bits = top_bits.max(column_information(row, &bg));
            }
        }
        BitsScale { column_width, px_per_bit: height / full, top_bits }
    }

    fn plot_height(&self) -> f64 {
        self.top_bits * self.px_per_bit
    }
}

/// Draw the letter stacks of `motif` with column 0 at `x0` and the zero line at `baseline`.
fn draw_motif_stacks(
    out: &mut String,
    motif: &Motif,
    letters: &LetterSet,
    background: &[f64],
    x0: f64,
    baseline: f64,
    scale: &BitsScale,
) {
    let (column_width, px_per_bit) = (scale.column_width, scale.px_per_bit);
    for (column, row) in motif.probabilities.iter().enumerate() {
        let bg = usable_background(background, row.len());
        let bits = column_information(row, &bg);
        let sum: f64 = row.iter().filter(|p| p.is_finite() && **p > 0.0).sum();
        if sum <= 0.0 {
            continue;
        }
        let heights: Vec<(usize, f64)> = row
            .iter()
            .enumerate()
            .map(|(index, p)| (index, if p.is_finite() && *p > 0.0 { p / sum * bits * px_per_bit } else { 0.0 }))
            .collect();
        draw_stack(out, letters, &heights, x0 + column as f64 * column_width, column_width, baseline, true);
    }
}

/// An information-content logo of `motif` as a standalone SVG document.
///
/// `motif.probabilities` is `[width][alphabet]`, `alphabet_letters` names the columns (`ACGT`)
/// and `background` gives the letter frequencies the information content is measured against
/// (uniform when it does not have one positive value per letter). Column `i` is a stack of
/// letters `p_ij × IC_i` bits tall, sorted so that the tallest is on top. The SVG is
/// `column_width × width` px wide plus the axis; `options.height` px span `log2(alphabet)`
/// bits (the axis grows when a column on a skewed background carries more). A motif without
/// positions gives an empty plot.
pub fn logo_svg(motif: &Motif, alphabet_letters: &str, background: &[f64], options: &LogoOptions) -> String {
    let (column_width, height) = options.sizes();
    let letters = LetterSet::new(alphabet_letters, motif.alphabet_length());
    let scale = BitsScale::new(&[motif], letters.letters.len(), background, column_width, height);
    let plot_height = scale.plot_height();
    let (left, bottom) = if options.axes { (AXIS_LEFT, AXIS_BOTTOM) } else { (MARGIN, MARGIN) };
    let top = MARGIN + if options.title.is_some() { TITLE_HEIGHT } else { 0.0 };
    let width = left + motif.width() as f64 * column_width + MARGIN;
    let total_height = top + plot_height + bottom;
    let mut out = String::new();
    let label = options.title.clone().unwrap_or_else(|| format!("sequence logo of {}", motif.label()));
    open_svg(&mut out, width, total_height, &label);
    if let Some(title) = &options.title {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-family="{FONT}" font-size="13" font-weight="bold" fill="#222222">{}</text>"##,
            num(left),
            num(MARGIN + 14.0),
            escape_xml(title),
        );
    }
    let baseline = top + plot_height;
    draw_motif_stacks(&mut out, motif, &letters, background, left, baseline, &scale);
    if options.axes {
        draw_y_axis(&mut out, left - 3.0, top, baseline, 0.0, scale.top_bits, "bits");
        draw_x_labels(&mut out, left, baseline + 1.0, column_width, motif.width());
    }
    out.push_str("</svg>\n");
    out
}

/// A query logo above a database motif's logo, aligned as in `matched`, as one SVG document.
///
/// `target` is the database motif as stored (forward strand); it is reverse-complemented
/// here when `matched.strand` is [`Strand::Reverse`], so that `matched.offset` (the query
/// column facing target column 0) lines the two up. The overlapping columns are shaded, each
/// logo carries its label and its own positions, and a last line gives strand, offset,
/// overlap, p-, E- and q-value. Sizes as in [`logo_svg`] (both logos on one bits scale).
#[allow(clippy::too_many_arguments)]
pub fn aligned_logos_svg(
    query: &Motif,
    target: &Motif,
    matched: &MotifMatch,
    alphabet_letters: &str,
    background: &[f64],
    query_label: &str,
    target_label: &str,
    options: &LogoOptions,
) -> String {
    let (column_width, height) = options.sizes();
    let shown_target = match matched.strand {
        Strand::Forward => target.clone(),
        Strand::Reverse => reverse_complement_motif(target),
    };
    let letters = LetterSet::new(alphabet_letters, query.alphabet_length().max(target.alphabet_length()));
    let scale = BitsScale::new(&[query, &shown_target], letters.letters.len(), background, column_width, height);
    let plot_height = scale.plot_height();
    // Grid columns: the query starts at `query_start`, the target at `target_start`.
    let offset = matched.offset;
    let query_start = offset.min(0).unsigned_abs();
    let target_start = offset.max(0).unsigned_abs();
    let columns = (query_start + query.width()).max(target_start + shown_target.width());
    let (left, axis_bottom) = if options.axes { (AXIS_LEFT, AXIS_BOTTOM) } else { (MARGIN, MARGIN) };
    let title_height = if options.title.is_some() { TITLE_HEIGHT } else { 0.0 };
    let panel_height = LABEL_HEIGHT + plot_height + axis_bottom;
    let footer_height = 20.0;
    let footer = format!(
        "strand {}, offset {}, overlap {}: p = {}, E = {}, q = {}",
        matched.strand,
        matched.offset,
        matched.overlap,
        format_probability(matched.p_value),
        format_probability(matched.e_value),
        format_probability(matched.q_value),
    );
    // About 6 px per character of 11 px Helvetica; the labels are 12 px bold (about 7.5 px).
    let text_width = (footer.chars().count() as f64 * 6.0)
        .max(query_label.chars().count() as f64 * 7.5)
        .max((target_label.chars().count() + 22) as f64 * 7.5);
    let width = (left + columns as f64 * column_width).max(left + text_width) + MARGIN;
    let total_height = MARGIN + title_height + 2.0 * panel_height + 6.0 + footer_height;
    let mut out = String::new();
    let description = options.title.clone().unwrap_or_else(|| format!("{query_label} aligned with {target_label}"));
    open_svg(&mut out, width, total_height, &description);
    if let Some(title) = &options.title {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-family="{FONT}" font-size="13" font-weight="bold" fill="#222222">{}</text>"##,
            num(left),
            num(MARGIN + 14.0),
            escape_xml(title),
        );
    }
    // Shade the overlap behind both panels.
    let overlap_start = query_start.max(target_start);
    let overlap_end = (query_start + query.width()).min(target_start + shown_target.width());
    let first_top = MARGIN + title_height;
    if overlap_end > overlap_start {
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#EEF2F7"/>"##,
            num(left + overlap_start as f64 * column_width),
            num(first_top + LABEL_HEIGHT - 2.0),
            num((overlap_end - overlap_start) as f64 * column_width),
            num(panel_height + plot_height + 4.0),
        );
    }
    let target_suffix = match matched.strand {
        Strand::Forward => "",
        Strand::Reverse => " (reverse complement)",
    };
    let panels = [
        (query, query_start, query_label.to_owned()),
        (&shown_target, target_start, format!("{target_label}{target_suffix}")),
    ];
    for (index, (motif, start, label)) in panels.iter().enumerate() {
        let panel_top = first_top + index as f64 * (panel_height + 6.0);
        let plot_top = panel_top + LABEL_HEIGHT;
        let baseline = plot_top + plot_height;
        let x0 = left + *start as f64 * column_width;
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-family="{FONT}" font-size="12" font-weight="bold" fill="#222222">{}</text>"##,
            num(left),
            num(panel_top + 13.0),
            escape_xml(label),
        );
        draw_motif_stacks(&mut out, motif, &letters, background, x0, baseline, &scale);
        if options.axes {
            draw_y_axis(&mut out, left - 3.0, plot_top, baseline, 0.0, scale.top_bits, "bits");
            draw_x_labels(&mut out, x0, baseline + 1.0, column_width, motif.width());
        }
    }
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-family="{FONT}" font-size="11" fill="#333333">{}</text>"##,
        num(left),
        num(total_height - 6.0),
        escape_xml(&footer),
    );
    out.push_str("</svg>\n");
    out
}

/// A p-value or E-value for reading: 3 significant digits, scientific below 0.001.
pub(crate) fn format_probability(value: f64) -> String {
    if !value.is_finite() {
        return "NA".to_owned();
    }
    if value == 0.0 {
        "0".to_owned()
    } else if value.abs() < 1e-3 || value.abs() >= 1e4 {
        format!("{value:.2e}")
    } else {
        format!("{value:.3}")
    }
}

/// A signed attribution logo of per-position scores as a standalone SVG document.
///
/// `scores` is `[length][alphabet]` (for example gradient × input of a one-hot sequence, where
/// usually only the observed base is non-zero); `alphabet_letters` names the columns. Each
/// letter is `|score|` tall: positive scores are stacked above the zero line and negative ones
/// below, the largest farthest from it. `options.height` px span the highest positive stack to
/// the deepest negative one, and the y axis (`attribution`) is in score units. Non-finite
/// scores count as 0; an all-zero input gives an empty plot with its zero line. Position
/// labels are thinned for long inputs (every 10th, 50th, ... position).
pub fn attribution_logo_svg(scores: &[Vec<f32>], alphabet_letters: &str, options: &LogoOptions) -> String {
    let (column_width, height) = options.sizes();
    let alphabet_length = scores.iter().map(Vec::len).max().unwrap_or(0);
    let letters = LetterSet::new(alphabet_letters, alphabet_length);
    let clean = |v: f32| if v.is_finite() { f64::from(v) } else { 0.0 };
    let mut highest = 0.0f64;
    let mut deepest = 0.0f64;
    for row in scores {
        highest = highest.max(row.iter().map(|&v| clean(v).max(0.0)).sum());
        deepest = deepest.max(row.iter().map(|&v| (-clean(v)).max(0.0)).sum());
    }
    if highest + deepest <= 0.0 {
        highest = 1.0;
        deepest = 1.0;
    }
    let px_per_unit = height / (highest + deepest);
    let (left, bottom) = if options.axes { (AXIS_LEFT, AXIS_BOTTOM) } else { (MARGIN, MARGIN) };
    let top = MARGIN + if options.title.is_some() { TITLE_HEIGHT } else { 0.0 };
    let width = left + scores.len() as f64 * column_width + MARGIN;
    let total_height = top + height + bottom;
    let zero = top + highest * px_per_unit;
    let mut out = String::new();
    let label = options.title.clone().unwrap_or_else(|| "attribution logo".to_owned());
    open_svg(&mut out, width, total_height, &label);
    if let Some(title) = &options.title {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-family="{FONT}" font-size="13" font-weight="bold" fill="#222222">{}</text>"##,
            num(left),
            num(MARGIN + 14.0),
            escape_xml(title),
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{}" y1="{z}" x2="{}" y2="{z}" stroke="#999999" stroke-width="0.8"/>"##,
        num(left),
        num(left + scores.len() as f64 * column_width),
        z = num(zero),
    );
    for (position, row) in scores.iter().enumerate() {
        let x = left + position as f64 * column_width;
        let positive: Vec<(usize, f64)> =
            row.iter().enumerate().map(|(i, &v)| (i, clean(v).max(0.0) * px_per_unit)).collect();
        let negative: Vec<(usize, f64)> =
            row.iter().enumerate().map(|(i, &v)| (i, (-clean(v)).max(0.0) * px_per_unit)).collect();
        draw_stack(&mut out, &letters, &positive, x, column_width, zero, true);
        draw_stack(&mut out, &letters, &negative, x, column_width, zero, false);
    }
    if options.axes {
        draw_y_axis(&mut out, left - 3.0, top, top + height, -deepest, highest, "attribution");
        draw_x_labels(&mut out, left, top + height + 1.0, column_width, scores.len());
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frequency_matrix;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A minimal well-formedness check: balanced tags, quoted attributes, escaped text.
    /// Returns the element names in document order.
    fn check_xml(document: &str) -> Result<Vec<String>, String> {
        fn check_text(text: &str) -> Result<(), String> {
            let mut rest = text;
            while let Some(at) = rest.find('&') {
                rest = &rest[at + 1..];
                let end = rest.find(';').ok_or_else(|| format!("unterminated entity in {text:?}"))?;
                let entity = &rest[..end];
                let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                    || (entity.starts_with('#') && entity[1..].chars().all(|c| c.is_ascii_alphanumeric()));
                if !known {
                    return Err(format!("unknown entity &{entity}; in {text:?}"));
                }
            }
            if text.contains('<') || text.contains('>') {
                return Err(format!("unescaped angle bracket in {text:?}"));
            }
            Ok(())
        }
        let mut stack: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut rest = document.trim();
        let mut roots = 0;
        while !rest.is_empty() {
            let Some(open) = rest.find('<') else {
                check_text(rest)?;
                if !rest.trim().is_empty() && stack.is_empty() {
                    return Err("text outside the root".to_owned());
                }
                break;
            };
            check_text(&rest[..open])?;
            if !rest[..open].trim().is_empty() && stack.is_empty() {
                return Err("text outside the root".to_owned());
            }
            rest = &rest[open..];
            let close = rest.find('>').ok_or("unterminated tag")?;
            let tag = &rest[1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let top = stack.pop().ok_or_else(|| format!("closing </{name}> without opening"))?;
                if top != name.trim() {
                    return Err(format!("</{name}> closes <{top}>"));
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-') {
                return Err(format!("bad element name in <{tag}>"));
            }
            // Attributes: name="value" pairs.
            let mut attributes = body[name_end..].trim();
            while !attributes.is_empty() {
                let equals = attributes.find('=').ok_or_else(|| format!("attribute without value in <{tag}>"))?;
                let attribute = attributes[..equals].trim();
                if attribute.is_empty() || attribute.contains(char::is_whitespace) {
                    return Err(format!("bad attribute name in <{tag}>"));
                }
                let after = &attributes[equals + 1..];
                let quote = after.chars().next().ok_or("missing quote")?;
                if quote != '"' && quote != '\'' {
                    return Err(format!("unquoted attribute in <{tag}>"));
                }
                let end = after[1..].find(quote).ok_or("unterminated attribute")?;
                check_text(&after[1..1 + end])?;
                attributes = after[end + 2..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            names.push(name.to_owned());
            if !self_closing {
                stack.push(name.to_owned());
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed elements {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(names)
    }

    /// The value of attribute `name` in the first element of `svg`.
    fn root_attribute(svg: &str, name: &str) -> Option<f64> {
        let start = svg.find(&format!(" {name}=\""))? + name.len() + 3;
        svg[start..].split('"').next()?.parse().ok()
    }

    /// The `scale(sx sy)` factors of every letter path.
    fn letter_scales(svg: &str) -> Vec<(f64, f64)> {
        svg.lines()
            .filter(|line| line.starts_with("<path") && line.contains("fill-rule"))
            .filter_map(|line| {
                let scale = line.split("scale(").nth(1)?.split(')').next()?;
                let mut parts = scale.split(' ').map(|v| v.parse::<f64>());
                Some((parts.next()?.ok()?, parts.next()?.ok()?))
            })
            .collect()
    }

    fn ets() -> Motif {
        let counts: Vec<Vec<f64>> =
            b"ACCGGAAGTN".iter().map(|b| b"ACGT".iter().map(|l| if l == b { 30.0 } else { 1.0 }).collect()).collect();
        Motif::new("ets", frequency_matrix(&counts, 0.0))
    }

    #[test]
    fn motif_logo_is_valid_svg_with_path_letters() -> TestResult {
        let options = LogoOptions { title: Some("ETS <site> & \"friends\"".to_owned()), ..LogoOptions::default() };
        let svg = logo_svg(&ets(), "ACGT", &[0.25; 4], &options);
        let names = check_xml(&svg)?;
        assert_eq!(names[0], "svg");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let width = root_attribute(&svg, "width").ok_or("width")?;
        let height = root_attribute(&svg, "height").ok_or("height")?;
        assert!(svg.contains(&format!("viewBox=\"0 0 {} {}\"", num(width), num(height))));
        assert!((width - (AXIS_LEFT + 10.0 * 22.0 + MARGIN)).abs() < 1e-9);
        assert!(svg.contains("ETS &lt;site&gt; &amp; &quot;friends&quot;"));
        // Letters are paths in the nucleotide colours; text is only for labels.
        for colour in ["#109648", "#255C99", "#F7B32B", "#D62839"] {
            assert!(svg.contains(&format!("fill=\"{colour}\"")), "{colour}");
        }
        assert!(!svg.contains("textLength"));
        assert!(svg.contains(">bits</text>"));
        for position in 1..=10 {
            assert!(svg.contains(&format!(">{position}</text>")), "{position}");
        }
        // The 9 informative columns: each letter as wide as a column; the N column is empty.
        let scales = letter_scales(&svg);
        assert!(scales.len() >= 9 * 4 && scales.len() <= 9 * 4, "{}", scales.len());
        assert!(scales.iter().all(|(sx, _)| (sx - 0.22).abs() < 1e-9));
        // Stack heights: a column's letters add up to its information content.
        let bits = crate::information_content(&ets().probabilities, &[0.25; 4]);
        let total_px: f64 = scales.iter().map(|(_, sy)| sy * 100.0).sum();
        let expected_px: f64 = bits.iter().map(|b| b * 45.0).sum();
        assert!((total_px - expected_px).abs() < 0.05, "{total_px} vs {expected_px}");
        Ok(())
    }

    #[test]
    fn a_certain_column_fills_the_axis() -> TestResult {
        let motif = Motif::new("a", vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.25; 4]]);
        let options = LogoOptions { axes: false, ..LogoOptions::default() };
        let svg = logo_svg(&motif, "ACGT", &[0.25; 4], &options);
        check_xml(&svg)?;
        assert_eq!(letter_scales(&svg), [(0.22, 0.9)]);
        assert!(svg.contains("translate(6 6)"), "{svg}");
        assert!(!svg.contains("<text"));
        // Protein letters fall back to stretched text.
        let protein = Motif::new(
            "p",
            vec![vec![0.05; 20], {
                let mut row = vec![0.0; 20];
                row[2] = 1.0;
                row
            }],
        );
        let svg = logo_svg(&protein, "ACDEFGHIKLMNPQRSTVWY", &[0.05; 20], &LogoOptions::default());
        check_xml(&svg)?;
        assert!(svg.contains("lengthAdjust=\"spacingAndGlyphs\""));
        assert!(svg.contains(">D</text>"));
        Ok(())
    }

    #[test]
    fn odd_input_still_gives_valid_svg() -> TestResult {
        let empty = Motif::new("empty", Vec::new());
        check_xml(&logo_svg(&empty, "ACGT", &[0.25; 4], &LogoOptions::default()))?;
        let bad = Motif::new("bad", vec![vec![f64::NAN, -1.0, 0.0, 0.0], vec![0.0; 4], vec![0.5, 0.5]]);
        let options = LogoOptions { column_width: -3.0, height: f64::NAN, ..LogoOptions::default() };
        check_xml(&logo_svg(&bad, "AC", &[], &options))?;
        check_xml(&attribution_logo_svg(&[], "ACGT", &LogoOptions::default()))?;
        Ok(())
    }

    #[test]
    fn aligned_logos_follow_the_match() -> TestResult {
        let query = ets();
        let target = crate::reverse_complement_motif(&query);
        let matched = MotifMatch {
            target_index: 0,
            target_id: "t".to_owned(),
            target_name: None,
            strand: Strand::Reverse,
            offset: -2,
            overlap: 8,
            score: 8.0,
            p_value: 1.5e-7,
            e_value: 1.3e-4,
            q_value: 2e-5,
        };
        let svg = aligned_logos_svg(
            &query,
            &target,
            &matched,
            "ACGT",
            &[0.25; 4],
            "query <1>",
            "MA0062.4 GABPA",
            &LogoOptions::default(),
        );
        let names = check_xml(&svg)?;
        assert_eq!(names.iter().filter(|n| *n == "svg").count(), 1);
        assert!(svg.contains("query &lt;1&gt;"));
        assert!(svg.contains("MA0062.4 GABPA (reverse complement)"));
        assert!(svg.contains("p = 1.50e-7, E = 1.30e-4, q = 2.00e-5"), "{svg}");
        assert!(svg.contains("strand -, offset -2, overlap 8"));
        // Query at grid column 2, target at column 0: 12 columns wide (or the footer's width).
        let width = root_attribute(&svg, "width").ok_or("width")?;
        assert!(width >= AXIS_LEFT + 12.0 * 22.0 + MARGIN, "{width}");
        // The first query letter starts two columns right of the target's.
        let xs: Vec<f64> = svg
            .lines()
            .filter(|l| l.contains("fill-rule"))
            .filter_map(|l| l.split("translate(").nth(1)?.split(' ').next()?.parse().ok())
            .collect();
        let min_x = xs.iter().copied().fold(f64::INFINITY, f64::min);
        assert!((min_x - AXIS_LEFT).abs() < 1e-9);
        Ok(())
    }

    #[test]
    fn attribution_logo_handles_long_and_signed_input() -> TestResult {
        let length = 1000;
        let mut state = 11u64;
        let scores: Vec<Vec<f32>> = (0..length)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let value = ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
                let mut row = vec![0.0f32; 4];
                row[i % 4] = value;
                row
            })
            .collect();
        let options = LogoOptions { column_width: 4.0, ..LogoOptions::default() };
        let svg = attribution_logo_svg(&scores, "ACGT", &options);
        let names = check_xml(&svg)?;
        assert!(svg.contains(">attribution</text>"));
        // Position labels are thinned: 4 px columns need a label every 10 positions or more.
        let labels = names.iter().filter(|n| *n == "text").count();
        assert!(labels < 150, "{labels} text elements");
        assert!(svg.contains(">1000</text>") && !svg.contains(">999</text>"));
        // Negative scores hang below the zero line, positive ones stand on it.
        let zero_line = svg.lines().find(|l| l.contains("stroke=\"#999999\"")).ok_or("zero line")?;
        let zero: f64 = zero_line.split("y1=\"").nth(1).and_then(|s| s.split('"').next()).ok_or("y1")?.parse()?;
        let mut above = 0;
        let mut below = 0;
        for line in svg.lines().filter(|l| l.contains("fill-rule")) {
            let translate = line.split("translate(").nth(1).and_then(|s| s.split(')').next()).ok_or("translate")?;
            let y: f64 = translate.split(' ').nth(1).ok_or("y")?.parse()?;
            let sy: f64 =
                line.split("scale(").nth(1).and_then(|s| s.split(['(', ' ', ')']).nth(1)).ok_or("sy")?.parse()?;
            if (y + sy * 100.0 - zero).abs() < 0.02 {
                above += 1;
            } else if (y - zero).abs() < 0.02 {
                below += 1;
            } else {
                return Err(format!("letter not on the zero line: {line}").into());
            }
        }
        assert!(above > 400 && below > 400, "{above} above, {below} below");

        // All zeros (and non-finite values): just the axes and the zero line.
        let zeros = vec![vec![0.0f32, f32::NAN, f32::INFINITY, 0.0]; 50];
        let svg = attribution_logo_svg(&zeros, "ACGT", &LogoOptions::default());
        check_xml(&svg)?;
        assert!(!svg.contains("fill-rule"));
        assert!(svg.contains(">0</text>"));
        Ok(())
    }

    #[test]
    fn glyphs_fill_their_box() {
        for letter in ['A', 'T', 'U'] {
            let path = glyph_path(letter).unwrap_or_default();
            let numbers: Vec<f64> =
                path.split(|c: char| c.is_ascii_alphabetic() || c == ' ').filter_map(|t| t.parse().ok()).collect();
            let (min, max) = numbers.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            assert_eq!((min, max), (0.0, 100.0), "{letter}");
        }
        for letter in ['a', 'c', 'g', 't', 'u'] {
            assert!(glyph_path(letter).is_some());
        }
        assert_eq!(glyph_path('N'), None);
    }

    #[test]
    fn ticks_and_labels() {
        assert_eq!(nice_ticks(0.0, 2.0), (vec![0.0, 0.5, 1.0, 1.5, 2.0], 1));
        let (ticks, decimals) = nice_ticks(-0.3, 1.2);
        assert_eq!((ticks, decimals), (vec![0.0, 0.5, 1.0], 1));
        let (ticks, decimals) = nice_ticks(0.0, 1.0);
        assert_eq!((ticks.len(), decimals), (5, 2));
        assert_eq!(label_step(10, 22.0), 1);
        assert_eq!(label_step(1000, 4.0), 10);
        assert_eq!(label_step(1000, 1.0), 50);
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(escape_xml("a<b>&'\"\u{1}"), "a&lt;b&gt;&amp;&apos;&quot;");
        assert_eq!(format_probability(1.5e-7), "1.50e-7");
        assert_eq!(format_probability(0.0123), "0.012");
    }
}
