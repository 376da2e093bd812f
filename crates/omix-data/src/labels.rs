//! Checks on inferred classes: labels that drift from what the rest of the file says.
//!
//! When `class_names` is not declared, classes are whatever distinct labels the files hold, so
//! one corrupted label in a 0/1 file would silently make a three-class task, and `0` and `0.0`
//! two classes. These checks refuse such files, naming the file and lines of the odd labels and
//! what the other labels look like; declaring `class_names` in `[data]` makes the classes strict
//! instead (any other label is then an error naming its file and line).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::DataError;
use crate::load::{RawLabel, RawRecord};

/// Where a label was seen: file index, line and record id.
type Place = (usize, u64, String);

/// One distinct label: how many records carry it, and where the first few are.
#[derive(Default)]
struct Seen {
    count: usize,
    places: Vec<Place>,
}

/// How many places of one label a message lists.
const PLACES_SHOWN: usize = 4;

/// The number a label spells, if any: a finite number, or true/false as 1/0.
fn value_of(label: &str) -> Option<f64> {
    match label.to_ascii_lowercase().as_str() {
        "true" => return Some(1.0),
        "false" => return Some(0.0),
        _ => {}
    }
    // `+ 0.0` makes -0 and 0 the same value.
    label.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v + 0.0)
}

/// Characters that do not show: control bytes, byte order marks, zero-width spaces and joiners.
fn is_invisible(character: char) -> bool {
    character.is_control() || matches!(character, '\u{feff}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{00ad}')
}

/// Whether a label looks like a nucleotide sequence rather than a class name.
fn looks_like_sequence(label: &str) -> bool {
    label.len() >= 8 && label.bytes().all(|b| b"ACGTUNacgtun".contains(&b))
}

/// Refuse labels that drift: sequences given as labels, one value spelled two ways (`0` and
/// `0.0`, `1` and `True`), a few stray values among otherwise well-represented classes, or
/// numbers with fractions that look like regression targets.
pub(crate) fn check_inferred_classes(records: &[RawRecord], files: &[PathBuf]) -> Result<(), DataError> {
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    let mut total = 0;
    for record in records {
        if let RawLabel::Single { text, file, line } = &record.label {
            let entry = seen.entry(text.trim()).or_default();
            entry.count += 1;
            total += 1;
            if entry.places.len() < PLACES_SHOWN {
                entry.places.push((*file, *line, record.id.clone()));
            }
        }
    }
    if total == 0 {
        return Ok(());
    }
    let path = |file: usize| files.get(file).cloned().unwrap_or_default();
    let at = |place: &Place| format!("{}:{}", path(place.0).display(), place.1);
    let others = |skip: &[&str]| -> String {
        let mut rest: Vec<(&&str, &Seen)> = seen.iter().filter(|(label, _)| !skip.contains(label)).collect();
        rest.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let shown: Vec<String> = rest.iter().take(6).map(|(label, s)| format!("{label:?} ({}x)", s.count)).collect();
        let more = if rest.len() > 6 { format!(" and {} more", rest.len() - 6) } else { String::new() };
        format!("{}{more}", shown.join(", "))
    };
    let also = |places: &[Place]| -> String {
        if places.len() < 2 {
            return String::new();
        }
        let lines: Vec<String> = places[1..].iter().map(|p| p.1.to_string()).collect();
        format!("; also line(s) {}", lines.join(", "))
    };

    // Sequences where labels belong: the sequence file given as the labels.
    let sequence_like: usize = seen.iter().filter(|(label, _)| looks_like_sequence(label)).map(|(_, s)| s.count).sum();
    // The earliest of them in the file, not the first in sorted order.
    let earliest = seen
        .iter()
        .filter(|(label, _)| looks_like_sequence(label))
        .filter_map(|(label, s)| s.places.first().map(|place| (label, place)))
        .min_by_key(|(_, place)| (place.0, place.1));
    if 2 * sequence_like >= total
        && let Some((label, place)) = earliest
    {
        let shown: String = label.chars().take(30).collect();
        return Err(DataError::LabelDrift {
            location: at(place),
            message: format!(
                "the label {shown:?}{} of record {:?} looks like a DNA sequence, as do {sequence_like} of the {total} labels; was the sequence file given as the labels (`labels`, --labels)? Labels are class names such as 0/1 or neg/pos",
                if label.len() > 30 { "..." } else { "" },
                place.2
            ),
        });
    }

    // Invisible characters (a byte order mark or zero-width space pasted mid-file, control
    // bytes): the label would look like another class but be a class of its own.
    if let Some((label, first)) = seen.iter().find(|(label, _)| label.chars().any(is_invisible)) {
        let place = &first.places[0];
        let character = label.chars().find(|c| is_invisible(*c)).map_or(0, u32::from);
        return Err(DataError::LabelDrift {
            location: at(place),
            message: format!(
                "label {label:?} of record {:?} ({}x{}) holds the invisible character U+{character:04X}, so it would be a class of its own; the labels are {}. Remove the character",
                place.2,
                first.count,
                also(&first.places),
                others(&[])
            ),
        });
    }

    // One value written two ways.
    let mut by_value: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for label in seen.keys() {
        if let Some(value) = value_of(label) {
            by_value.entry(value.to_bits()).or_default().push(label);
        }
    }
    if let Some(spellings) = by_value.values().find(|spellings| spellings.len() > 1) {
        // Report the rarer spelling at its lines, against the commoner one.
        let mut spellings = spellings.clone();
        spellings.sort_by_key(|label| std::cmp::Reverse(seen[label].count));
        let common = spellings[0];
        let rare = spellings[spellings.len() - 1];
        let (common_seen, rare_seen) = (&seen[common], &seen[rare]);
        let place = &rare_seen.places[0];
        return Err(DataError::LabelDrift {
            location: at(place),
            message: format!(
                "label {rare:?} of record {:?} ({}x{}) is the same value as {common:?} ({}x, first at {}), written differently, so they would be two classes; the labels are {}. Write each class one way, or declare the classes in [data]: class_names = [...]",
                place.2,
                rare_seen.count,
                also(&rare_seen.places),
                common_seen.count,
                at(&common_seen.places[0]),
                others(&[])
            ),
        });
    }

    // Numbers with fractions: regression targets read as classes.
    let fractional = seen.keys().filter(|label| value_of(label).is_some_and(|v| v.fract() != 0.0)).count();
    if seen.len() > 10 && fractional > 0 && seen.keys().all(|label| value_of(label).is_some()) {
        let (label, first) = seen
            .iter()
            .find(|(label, _)| value_of(label).is_some_and(|v| v.fract() != 0.0))
            .ok_or(DataError::Config { field: "task", message: "no fractional label found".into() })?;
        return Err(DataError::LabelDrift {
            location: at(&first.places[0]),
            message: format!(
                "label {label:?} is one of {} distinct numeric labels, {fractional} of them with fractions, which would make as many classes; for real-valued targets set task = \"regression\" in [data], or declare the classes: class_names = [...]",
                seen.len()
            ),
        });
    }

    // A few stray values among well-represented classes.
    if seen.len() >= 3 {
        let largest = seen.values().map(|s| s.count).max().unwrap_or(0);
        let all_numeric_but = |label: &str| seen.keys().filter(|other| **other != label).all(|o| value_of(o).is_some());
        // Labels that are otherwise 0/1: any other value seen only once or twice (or in at most
        // 2% of the records) is a corrupted label rather than a class.
        let mut by_count: Vec<(&&str, &Seen)> = seen.iter().collect();
        by_count.sort_by_key(|entry| std::cmp::Reverse(entry.1.count));
        let mut top: Vec<Option<f64>> = by_count.iter().take(2).map(|(label, _)| value_of(label)).collect();
        top.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let binary = top == [Some(0.0), Some(1.0)];
        let strays: Vec<&str> = seen
            .iter()
            .filter(|(label, s)| {
                let few = s.count <= (total / 50).max(2);
                // A value seen once or twice among well-represented classes is a corrupted label
                // (a class of one cannot be in training and evaluation both); a value seen more
                // often is a rare class (a cell type of 2% of the cells), not drift.
                let rare = s.count <= 2 && (s.count * 10 <= largest || (s.count == 1 && largest >= 5));
                let text_among_numbers = value_of(label).is_none() && all_numeric_but(label) && s.count * 20 <= total;
                let beside_binary = binary && few && !matches!(value_of(label), Some(0.0) | Some(1.0));
                rare || text_among_numbers || beside_binary
            })
            .map(|(label, _)| *label)
            .collect();
        if !strays.is_empty() && seen.len() - strays.len() >= 2 {
            let first = &seen[strays[0]];
            let place = &first.places[0];
            let listed: Vec<String> = strays
                .iter()
                .take(3)
                .map(|label| {
                    let s = &seen[label];
                    format!("{label:?} ({}x, at {}{})", s.count, at(&s.places[0]), also(&s.places))
                })
                .collect();
            let mut declared: Vec<&str> = seen.keys().copied().collect();
            declared.sort_by_key(|label| std::cmp::Reverse(seen[label].count));
            return Err(DataError::LabelDrift {
                location: at(place),
                message: format!(
                    "label {:?} of record {:?} looks like a stray value: {} of {total} labels are {}, but the other labels are {}. Fix the label(s), or if they are real classes declare every class in [data]: class_names = {declared:?}",
                    strays[0],
                    place.2,
                    strays.iter().map(|label| seen[label].count).sum::<usize>(),
                    listed.join(", "),
                    others(&strays),
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn records(labels: &[&str]) -> Vec<RawRecord> {
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| RawRecord {
                id: format!("line{}", i + 1),
                sequence: b"ACGT".to_vec(),
                values: Vec::new(),
                location: omix_io::Location { line: i as u64 + 1, column: 1, line_width: 0 },
                file: 0,
                label: RawLabel::Single { text: (*label).to_string(), file: 1, line: i as u64 + 1 },
                split: None,
            })
            .collect()
    }

    fn check(labels: &[&str]) -> Result<(), DataError> {
        check_inferred_classes(&records(labels), &["seqs.txt".into(), "labels.txt".into()])
    }

    fn repeat(pattern: &[&'static str], times: usize) -> Vec<&'static str> {
        pattern.iter().cycle().take(pattern.len() * times).copied().collect()
    }

    fn message(result: Result<(), DataError>) -> Result<String, Box<dyn std::error::Error>> {
        match result {
            Ok(()) => Err("the labels were accepted".into()),
            Err(error) => Ok(error.to_string()),
        }
    }

    #[test]
    fn legitimate_classes_pass() -> TestResult {
        check(&repeat(&["0", "1"], 20))?;
        check(&repeat(&["neg", "pos", "weak"], 10))?;
        check(&repeat(&["0", "1", "2", "3"], 8))?;
        check(&repeat(&["-1", "1"], 5))?;
        // An imbalanced binary task is not drift.
        let mut labels = repeat(&["0"], 50);
        labels.push("1");
        check(&labels)?;
        // Three classes of two examples each.
        check(&repeat(&["a", "b", "c"], 2))?;
        // Rare real classes beside a dominant one (cell types: 13 and 8 of 700).
        let mut labels = repeat(&["dendritic"], 240);
        labels.extend(repeat(&["monocyte"], 129));
        labels.extend(repeat(&["b_cell"], 310));
        labels.extend(repeat(&["cd34"], 13));
        labels.extend(repeat(&["naive_t"], 8));
        check(&labels)?;
        Ok(())
    }

    #[test]
    fn one_stray_label_is_refused_with_its_line() -> TestResult {
        let mut labels = repeat(&["0", "1"], 10);
        labels[6] = "1O";
        let text = message(check(&labels))?;
        assert!(text.starts_with("labels.txt:7: label \"1O\" of record \"line7\" looks like a stray value"), "{text}");
        assert!(text.contains("\"1\" (10x), \"0\" (9x)") && text.contains("class_names"), "{text}");
        // A rare third number among 0/1.
        let mut labels = repeat(&["0", "1"], 30);
        labels[40] = "2";
        let text = message(check(&labels))?;
        assert!(text.contains("labels.txt:41: label \"2\""), "{text}");
        Ok(())
    }

    #[test]
    fn spellings_of_one_value_are_refused() -> TestResult {
        let mut labels = repeat(&["0", "1"], 10);
        labels[4] = "0.0";
        labels[8] = "0.0";
        let text = message(check(&labels))?;
        assert!(text.contains("labels.txt:5: label \"0.0\" of record \"line5\" (2x; also line(s) 9)"), "{text}");
        assert!(text.contains("same value as \"0\""), "{text}");
        let text = message(check(&["1", "0", "True", "False", "1", "0"]))?;
        assert!(text.contains("same value as"), "{text}");
        Ok(())
    }

    #[test]
    fn sequences_as_labels_are_refused() -> TestResult {
        let text = message(check(&["ACGTACGTAC", "TTGACCATGA", "GGGGCCCCAA"]))?;
        assert!(text.contains("labels.txt:1: the label \"ACGTACGTAC\"") && text.contains("DNA sequence"), "{text}");
        Ok(())
    }

    #[test]
    fn fractional_numbers_suggest_regression() -> TestResult {
        let labels: Vec<String> = (0..30).map(|i| format!("{}.5", i)).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let text = message(check(&labels))?;
        assert!(text.contains("task = \"regression\""), "{text}");
        Ok(())
    }

    #[test]
    fn small_files_with_stray_or_invisible_labels_are_refused() -> TestResult {
        let files = vec![PathBuf::from("seqs.txt"), PathBuf::from("labels.txt")];
        let mut labels: Vec<&str> = ["0", "1"].iter().cycle().take(18).copied().collect();
        labels.extend(["7", "7"]);
        let error = check_inferred_classes(&records(&labels), &files).err().ok_or("two 7s among 0/1 accepted")?;
        assert!(error.to_string().contains("label \"7\"") && error.to_string().contains("stray"), "{error}");
        let mut labels: Vec<&str> = ["0", "1"].iter().cycle().take(19).copied().collect();
        labels.push("P");
        assert!(check_inferred_classes(&records(&labels), &files).is_err(), "a lone P among 19 labels");
        let mut labels: Vec<&str> = ["0", "1"].iter().cycle().take(19).copied().collect();
        labels[9] = "\u{feff}0";
        let error = check_inferred_classes(&records(&labels), &files).err().ok_or("a mid-file BOM accepted")?;
        assert!(error.to_string().contains("U+FEFF") && error.to_string().contains("labels.txt:10"), "{error}");
        // A real third class of 10% stays a class; so does a small real class in a larger file.
        let mut labels: Vec<&str> = ["0", "1"].iter().cycle().take(90).copied().collect();
        labels.extend(std::iter::repeat_n("2", 10));
        check_inferred_classes(&records(&labels), &files)?;
        Ok(())
    }
}
