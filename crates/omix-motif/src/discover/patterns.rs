//! Patterns: seqlets aligned and clustered into motifs, each a contribution weight matrix (CWM)
//! and a position frequency matrix (PFM) with its seqlet count.
//!
//! **Similarity.** A seqlet is seen through a window of `window` positions of its hypothetical
//! contributions (`4 × window`, read on either strand: the reverse complement flips both axes),
//! scaled to unit L1 norm. Two windows are compared by the continuous Jaccard similarity of
//! TF-MoDISco, `Σ min(|a|, |b|) sign(a) sign(b) / Σ max(|a|, |b|)` over every cell: 1 for the
//! same matrix, near 0 for unrelated ones, negative for opposite signs.
//!
//! **Clustering** (greedy seeded alignment, positive and negative seqlets apart):
//! 1. Seqlets are ranked by |summed attribution|. The strongest one not yet in a pattern seeds a
//!    template: its window, centred on the seqlet (windows may reach past a sequence's ends,
//!    where they read zeros, so a motif at an edge aligns like any other).
//! 2. Every seqlet not yet in a pattern is placed where it best matches the template: shifted up
//!    to `max_shift` positions from its centre, on either strand. Those whose best similarity is
//!    at least `min_similarity` are the members; the template becomes their mean window,
//!    recentred on its centre of mass (members move with it). This repeats `iterations` times.
//! 3. With at least `min_seqlets` members the template is a pattern and its members leave the
//!    pool; otherwise the seed stays in the pool (it may join a later pattern) and the next
//!    strongest seeds. The search stops after `max_patterns` patterns or `max_failed_seeds`
//!    seeds in a row that made none.
//! 4. Patterns whose templates match each other at `merge_similarity` or more (over their
//!    overlap, shifted up to `max_shift`, either strand) are merged, their sites carried into the
//!    larger pattern's frame, until no pair does.
//!
//! Both strands end in one pattern because every placement tries both. A pattern's CWM is the
//! mean actual contribution (the observed base's) of its sites per position, its hypothetical
//! CWM the mean hypothetical contribution, its PFM the base counts; it is trimmed to the
//! positions from the first to the last whose |CWM| column sum reaches `trim_threshold` × the
//! largest (TF-MoDISco's report trims the same way, at 0.3), then extended outwards through
//! neighbouring columns whose base frequencies carry at least `extend_bits` (0.5) bits: bases
//! every site shares but the model weighs less than the core (the first C of GABPA's
//! `CCGGAAGT`, 1.2 bits at a fifth of the core's contribution) belong to the motif that is
//! compared with a database. 0.5 bits is above the sampling noise of a column of 20 random
//! sites (about 0.1 bits).

use rayon::prelude::*;

use super::AttributionSet;
use super::seqlets::Seqlet;

/// How seqlets are clustered into patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternSettings {
    /// Window around each seqlet, in positions (at most the sequence length).
    pub window: usize,
    /// How far a seqlet may move from its centre to align with a template.
    pub max_shift: usize,
    /// Continuous Jaccard similarity a seqlet needs to join a pattern.
    pub min_similarity: f64,
    /// Similarity at which two patterns are merged.
    pub merge_similarity: f64,
    /// Seqlets a pattern needs.
    pub min_seqlets: usize,
    /// Patterns per sign at most.
    pub max_patterns: usize,
    /// Rounds of assignment per template.
    pub iterations: usize,
    /// Seeds in a row that make no pattern before the search stops.
    pub max_failed_seeds: usize,
    /// Trimming: keep positions whose |CWM| column sum reaches this fraction of the largest.
    pub trim_threshold: f64,
    /// Then extend the trimmed span outwards through neighbouring columns whose base
    /// frequencies carry at least this many bits (infinite: no extension).
    pub extend_bits: f64,
}

impl Default for PatternSettings {
    fn default() -> Self {
        PatternSettings {
            window: 30,
            max_shift: 10,
            min_similarity: 0.35,
            merge_similarity: 0.5,
            min_seqlets: 20,
            max_patterns: 20,
            iterations: 3,
            max_failed_seeds: 50,
            trim_threshold: 0.3,
            extend_bits: 0.5,
        }
    }
}

/// Where one seqlet sits in a pattern: the pattern's window in the sequence, and its strand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// Index of the seqlet in the list given to [`cluster`].
    pub seqlet: usize,
    /// The sequence.
    pub example: usize,
    /// First position of the pattern's (untrimmed) window in the sequence; the window may reach
    /// past either end of the sequence, where it reads zeros.
    pub start: isize,
    /// Whether the window is read on the reverse strand.
    pub reverse: bool,
    /// Similarity to the final template.
    pub similarity: f64,
}

/// One discovered pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Called from negative seqlets.
    pub negative: bool,
    /// Its seqlets, strongest first.
    pub sites: Vec<Site>,
    /// Mean actual contribution, `[window][4]`.
    pub contribution: Vec<Vec<f64>>,
    /// Mean hypothetical contribution, `[window][4]`.
    pub hypothetical: Vec<Vec<f64>>,
    /// Base counts, `[window][4]`.
    pub counts: Vec<Vec<f64>>,
    /// The trimmed positions, `start..end` of the window.
    pub trimmed: (usize, usize),
}

impl Pattern {
    /// The trimmed CWM.
    pub fn trimmed_contribution(&self) -> &[Vec<f64>] {
        &self.contribution[self.trimmed.0..self.trimmed.1]
    }

    /// The trimmed base counts.
    pub fn trimmed_counts(&self) -> &[Vec<f64>] {
        &self.counts[self.trimmed.0..self.trimmed.1]
    }

    /// The trimmed core of one of its sites in that site's sequence, `start..end` (it may reach
    /// past the sequence's ends).
    pub fn site_core(&self, site: &Site) -> (isize, isize) {
        let window = self.contribution.len() as isize;
        let (lo, hi) = (self.trimmed.0 as isize, self.trimmed.1 as isize);
        if site.reverse {
            (site.start + window - hi, site.start + window - lo)
        } else {
            (site.start + lo, site.start + hi)
        }
    }

    /// The trimmed hypothetical CWM.
    pub fn trimmed_hypothetical(&self) -> &[Vec<f64>] {
        &self.hypothetical[self.trimmed.0..self.trimmed.1]
    }
}

/// A placement: window start and strand.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    example: usize,
    start: isize,
    reverse: bool,
}

/// Cluster `seqlets` of `set` into patterns (positive ones first, each sign by seqlet count).
pub fn cluster(set: &AttributionSet, seqlets: &[Seqlet], settings: &PatternSettings) -> Vec<Pattern> {
    let window = settings.window.clamp(1, set.length.max(1));
    let mut patterns = Vec::new();
    for negative in [false, true] {
        let mut order: Vec<usize> = (0..seqlets.len()).filter(|&i| seqlets[i].negative == negative).collect();
        order.sort_by(|&a, &b| seqlets[b].attribution.abs().total_cmp(&seqlets[a].attribution.abs()).then(a.cmp(&b)));
        let mut found = Clusterer { set, seqlets, settings, window }.run(&order);
        found = merge(set, found, settings, window);
        let mut built: Vec<Pattern> =
            found.into_iter().map(|sites| finish(set, sites, window, negative, settings)).collect();
        built.sort_by_key(|p| std::cmp::Reverse(p.sites.len()));
        patterns.extend(built);
    }
    patterns
}

struct Clusterer<'a> {
    set: &'a AttributionSet,
    seqlets: &'a [Seqlet],
    settings: &'a PatternSettings,
    window: usize,
}

impl Clusterer<'_> {
    /// The greedy seeded clustering of the seqlets in `order` (strongest first); each cluster
    /// is its sites.
    fn run(&self, order: &[usize]) -> Vec<Vec<Site>> {
        let mut assigned = vec![false; self.seqlets.len()];
        let mut tried = vec![false; self.seqlets.len()];
        let mut clusters = Vec::new();
        let mut failures = 0;
        for &seed in order {
            if assigned[seed] || tried[seed] {
                continue;
            }
            tried[seed] = true;
            let start = self.centred_start(&self.seqlets[seed]);
            let seed_placement = Placement { example: self.seqlets[seed].example, start, reverse: false };
            let mut template = normalised(&window_of(self.set, seed_placement, self.window, Values::Hypothetical));
            let mut members: Vec<Site> = Vec::new();
            for _ in 0..self.settings.iterations.max(1) {
                let pool: Vec<usize> = order.iter().copied().filter(|&i| !assigned[i]).collect();
                members = pool
                    .par_iter()
                    .filter_map(|&i| {
                        self.best_placement(&self.seqlets[i], &template)
                            .filter(|(similarity, _)| *similarity >= self.settings.min_similarity)
                            .map(|(similarity, p)| Site {
                                seqlet: i,
                                example: p.example,
                                start: p.start,
                                reverse: p.reverse,
                                similarity,
                            })
                    })
                    .collect();
                if members.is_empty() {
                    break;
                }
                members = recentre(self.set, members, self.window);
                template = normalised(&mean_window(self.set, &members, self.window, Values::Hypothetical));
            }
            if members.len() >= self.settings.min_seqlets.max(1) {
                for site in &members {
                    assigned[site.seqlet] = true;
                }
                clusters.push(members);
                failures = 0;
                if clusters.len() >= self.settings.max_patterns {
                    break;
                }
            } else {
                failures += 1;
                if failures >= self.settings.max_failed_seeds {
                    break;
                }
            }
        }
        clusters
    }

    /// The window start centred on a seqlet (the window may reach past the sequence's ends).
    fn centred_start(&self, seqlet: &Seqlet) -> isize {
        ((seqlet.start + seqlet.end) / 2) as isize - (self.window / 2) as isize
    }

    /// The best placement of a seqlet against `template` and its similarity.
    fn best_placement(&self, seqlet: &Seqlet, template: &[f64]) -> Option<(f64, Placement)> {
        let centre = self.centred_start(seqlet);
        let shift = self.settings.max_shift as isize;
        let mut best: Option<(f64, Placement)> = None;
        for start in centre - shift..=centre + shift {
            for reverse in [false, true] {
                let placement = Placement { example: seqlet.example, start, reverse };
                let cells = normalised(&window_of(self.set, placement, self.window, Values::Hypothetical));
                let similarity = jaccard(&cells, template);
                if best.is_none_or(|(b, _)| similarity > b) {
                    best = Some((similarity, placement));
                }
            }
        }
        best
    }
}

/// Which values a window reads.
#[derive(Clone, Copy)]
enum Values {
    Hypothetical,
    Contribution,
    OneHot,
}

/// The `[window][4]` values of a placement, flattened position-major (`4 × j + letter`); zero
/// past the sequence's ends.
fn window_of(set: &AttributionSet, placement: Placement, window: usize, values: Values) -> Vec<f64> {
    let mut out = vec![0.0; 4 * window];
    for j in 0..window {
        let offset = if placement.reverse { window - 1 - j } else { j };
        let Some(position) = placement.start.checked_add(offset as isize).and_then(|p| usize::try_from(p).ok()) else {
            continue;
        };
        if position >= set.length {
            continue;
        }
        for letter in 0..4 {
            let channel = if placement.reverse { 3 - letter } else { letter };
            let index = (placement.example * 4 + channel) * set.length + position;
            out[4 * j + letter] = match values {
                Values::Hypothetical => f64::from(set.hypothetical[index]),
                Values::Contribution => f64::from(set.hypothetical[index] * set.one_hot[index]),
                Values::OneHot => f64::from(set.one_hot[index]),
            };
        }
    }
    out
}

/// The mean window of the sites.
fn mean_window(set: &AttributionSet, sites: &[Site], window: usize, values: Values) -> Vec<f64> {
    let mut sum = vec![0.0; 4 * window];
    for site in sites {
        let placement = Placement { example: site.example, start: site.start, reverse: site.reverse };
        for (s, v) in sum.iter_mut().zip(window_of(set, placement, window, values)) {
            *s += v;
        }
    }
    let n = sites.len().max(1) as f64;
    sum.iter_mut().for_each(|s| *s /= n);
    sum
}

/// Scaled to unit L1 norm (a zero vector stays zero).
fn normalised(values: &[f64]) -> Vec<f64> {
    let norm: f64 = values.iter().map(|v| v.abs()).sum();
    if norm > 0.0 { values.iter().map(|v| v / norm).collect() } else { values.to_vec() }
}

/// TF-MoDISco's continuous Jaccard similarity.
fn jaccard(a: &[f64], b: &[f64]) -> f64 {
    let (mut union, mut intersection) = (0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (ax, ay) = (x.abs(), y.abs());
        union += ax.max(ay);
        intersection += ax.min(ay) * x.signum() * y.signum();
    }
    if union > 0.0 { intersection / union } else { 0.0 }
}

/// Moves every site so that the mean window's centre of mass (of |hypothetical| column sums) is
/// the window's centre.
fn recentre(set: &AttributionSet, sites: Vec<Site>, window: usize) -> Vec<Site> {
    let mean = mean_window(set, &sites, window, Values::Hypothetical);
    let columns: Vec<f64> = mean.chunks(4).map(|c| c.iter().map(|v| v.abs()).sum()).collect();
    let total: f64 = columns.iter().sum();
    if total <= 0.0 {
        return sites;
    }
    let centre: f64 = columns.iter().enumerate().map(|(j, c)| j as f64 * c).sum::<f64>() / total;
    let delta = (centre - (window as f64 - 1.0) / 2.0).round() as isize;
    if delta == 0 {
        return sites;
    }
    sites
        .into_iter()
        .map(|site| Site { start: if site.reverse { site.start - delta } else { site.start + delta }, ..site })
        .collect()
}

/// The best similarity of template `b` to template `a` over shifts and strands (over their
/// overlap, at least half a window), with the shift and strand.
fn template_alignment(a: &[f64], b: &[f64], window: usize, max_shift: usize) -> (f64, isize, bool) {
    let reversed: Vec<f64> =
        (0..window).flat_map(|j| (0..4).map(move |l| (j, l))).map(|(j, l)| b[4 * (window - 1 - j) + 3 - l]).collect();
    let mut best = (f64::NEG_INFINITY, 0isize, false);
    let shift = max_shift.min(window / 2) as isize;
    for (reverse, candidate) in [(false, b), (true, &reversed[..])] {
        for d in -shift..=shift {
            // a[i] against candidate[i - d] over the overlap.
            let lo = d.max(0) as usize;
            let hi = (window as isize + d.min(0)) as usize;
            let x = normalised(&a[4 * lo..4 * hi]);
            let y = normalised(&candidate[4 * (lo as isize - d) as usize..4 * (hi as isize - d) as usize]);
            let similarity = jaccard(&x, &y);
            if similarity > best.0 {
                best = (similarity, d, reverse);
            }
        }
    }
    best
}

/// Merges clusters whose templates match at `merge_similarity` or more, the smaller into the
/// larger, until no pair does.
fn merge(
    set: &AttributionSet,
    mut clusters: Vec<Vec<Site>>,
    settings: &PatternSettings,
    window: usize,
) -> Vec<Vec<Site>> {
    loop {
        clusters.sort_by_key(|c| std::cmp::Reverse(c.len()));
        let templates: Vec<Vec<f64>> =
            clusters.iter().map(|c| normalised(&mean_window(set, c, window, Values::Hypothetical))).collect();
        let mut pair = None;
        'search: for a in 0..clusters.len() {
            for b in a + 1..clusters.len() {
                let (similarity, d, reverse) =
                    template_alignment(&templates[a], &templates[b], window, settings.max_shift);
                if similarity >= settings.merge_similarity {
                    pair = Some((a, b, d, reverse));
                    break 'search;
                }
            }
        }
        let Some((a, b, d, reverse)) = pair else { return clusters };
        let moved: Vec<Site> = clusters[b]
            .iter()
            .map(|site| {
                let strand = site.reverse ^ reverse;
                Site { start: if strand { site.start + d } else { site.start - d }, reverse: strand, ..*site }
            })
            .collect();
        let merged_into = clusters[a].clone();
        let mut merged = merged_into;
        merged.extend(moved);
        clusters[a] = merged;
        clusters.remove(b);
    }
}

/// A cluster's matrices, similarities to its final template and trimming.
fn finish(
    set: &AttributionSet,
    mut sites: Vec<Site>,
    window: usize,
    negative: bool,
    settings: &PatternSettings,
) -> Pattern {
    let template = normalised(&mean_window(set, &sites, window, Values::Hypothetical));
    for site in &mut sites {
        let placement = Placement { example: site.example, start: site.start, reverse: site.reverse };
        site.similarity = jaccard(&normalised(&window_of(set, placement, window, Values::Hypothetical)), &template);
    }
    let rows = |flat: Vec<f64>| -> Vec<Vec<f64>> { flat.chunks(4).map(<[f64]>::to_vec).collect() };
    let contribution = rows(mean_window(set, &sites, window, Values::Contribution));
    let hypothetical = rows(mean_window(set, &sites, window, Values::Hypothetical));
    let counts =
        rows(mean_window(set, &sites, window, Values::OneHot).iter().map(|v| v * sites.len() as f64).collect());
    let columns: Vec<f64> = contribution.iter().map(|c| c.iter().map(|v| v.abs()).sum()).collect();
    let largest = columns.iter().copied().fold(0.0, f64::max);
    let keep: Vec<usize> =
        (0..window).filter(|&j| largest > 0.0 && columns[j] >= settings.trim_threshold * largest).collect();
    let (mut first, mut end) = match (keep.first(), keep.last()) {
        (Some(&first), Some(&last)) => (first, last + 1),
        _ => (0, window),
    };
    // Outwards through columns the sites share (information content of their base frequencies).
    let bits = |row: &[f64]| {
        let total: f64 = row.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        2.0 + row.iter().map(|c| c / total).filter(|p| *p > 0.0).map(|p| p * p.log2()).sum::<f64>()
    };
    while first > 0 && bits(&counts[first - 1]) >= settings.extend_bits {
        first -= 1;
    }
    while end < window && bits(&counts[end]) >= settings.extend_bits {
        end += 1;
    }
    let trimmed = (first, end);
    Pattern { negative, sites, contribution, hypothetical, counts, trimmed }
}
