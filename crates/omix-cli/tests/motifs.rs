//! `omix motifs` end to end: planted motifs in synthetic attribution files are found on both
//! strands and matched; bad npz inputs are refused with the file named and nothing written.

use std::path::Path;
use std::process::Command;

use omix_io::{NpyArray, write_npz};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const MOTIF: &str = "CGACCGAACTCC";

fn omix(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_omix"));
    command.args(args).current_dir(dir).env_remove("RUST_BACKTRACE");
    command.output().unwrap_or_else(|error| panic!("cannot run omix: {error}"))
}

fn reverse_complement(text: &str) -> String {
    text.chars()
        .rev()
        .map(|c| match c {
            'A' => 'T',
            'C' => 'G',
            'G' => 'C',
            'T' => 'A',
            o => o,
        })
        .collect()
}

/// SplitMix64, so the data need no dependencies.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `ohe.npz` and `shap.npz` of `sequences` random sequences of `length` bases; every other one
/// carries MOTIF (either strand) whose hypothetical contributions show the motif; noise
/// everywhere. Returns the planted (sequence, start) pairs.
fn write_attributions(
    dir: &Path,
    sequences: usize,
    length: usize,
) -> Result<Vec<(usize, usize)>, Box<dyn std::error::Error>> {
    write_named(dir, "", sequences, length, true)
}

/// `{prefix}ohe.npz` and `{prefix}shap.npz`, with the motif planted in every other sequence or in none.
fn write_named(
    dir: &Path,
    prefix: &str,
    sequences: usize,
    length: usize,
    plant: bool,
) -> Result<Vec<(usize, usize)>, Box<dyn std::error::Error>> {
    let mut random = Random(if plant { 17 } else { 99 });
    let mut one_hot = vec![0.0f32; sequences * 4 * length];
    let mut shap = vec![0.0f32; sequences * 4 * length];
    let mut planted = Vec::new();
    for i in 0..sequences {
        let mut bases: Vec<usize> = (0..length).map(|_| random.below(4)).collect();
        for value in &mut shap[i * 4 * length..(i + 1) * 4 * length] {
            *value = (random.uniform() - 0.5) * 0.1;
        }
        if plant && i % 2 == 0 {
            let at = 3 + random.below(length - MOTIF.len() - 6);
            let site = if random.below(2) == 0 { MOTIF.to_string() } else { reverse_complement(MOTIF) };
            for (k, c) in site.chars().enumerate() {
                let base = "ACGT".find(c).ok_or("base")?;
                bases[at + k] = base;
                for letter in 0..4 {
                    shap[(i * 4 + letter) * length + at + k] += if letter == base { 1.0 } else { -0.3 };
                }
            }
            planted.push((i, at));
        }
        for (j, &base) in bases.iter().enumerate() {
            one_hot[(i * 4 + base) * length + j] = 1.0;
        }
    }
    let shape = [sequences, 4, length];
    write_npz(&dir.join(format!("{prefix}ohe.npz")), &[NpyArray { name: "arr_0", shape: &shape, values: &one_hot }])?;
    write_npz(&dir.join(format!("{prefix}shap.npz")), &[NpyArray { name: "arr_0", shape: &shape, values: &shap }])?;
    Ok(planted)
}

/// The planted motif as a MEME file.
fn write_meme(path: &Path) -> std::io::Result<()> {
    let mut text = String::from(
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n\
         MOTIF planted CGACCGAACTCC\nletter-probability matrix: alength= 4 w= 12 nsites= 20 E= 0\n",
    );
    for c in MOTIF.chars() {
        let row: Vec<&str> = "ACGT".chars().map(|l| if l == c { "0.97" } else { "0.01" }).collect();
        text.push_str(&row.join(" "));
        text.push('\n');
    }
    std::fs::write(path, text)
}

#[test]
fn planted_motif_is_discovered_and_matched() -> TestResult {
    let dir = tempfile::tempdir()?;
    let planted = write_attributions(dir.path(), 300, 80)?;
    write_meme(&dir.path().join("planted.meme"))?;
    let output = omix(
        dir.path(),
        &["motifs", "--ohe", "ohe.npz", "--shap", "shap.npz", "--out", "found", "--motif-db", "planted.meme"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let out = dir.path().join("found");
    for name in
        ["patterns.json", "patterns.meme", "patterns.tsv", "pattern_matches.tsv", "seqlets.tsv", "seqlet_fdr.tsv"]
    {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    assert!(out.join("logos/pattern_pos_1.cwm.svg").is_file() && out.join("logos/pattern_pos_1.pfm.svg").is_file());

    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("patterns.json"))?)?;
    let top = &summary["patterns"][0];
    let consensus = top["consensus"].as_str().unwrap_or_default();
    assert!(consensus.contains(MOTIF) || consensus.contains(&reverse_complement(MOTIF)), "consensus {consensus}");
    let seqlets = top["seqlets"].as_u64().unwrap_or(0) as usize;
    assert!(seqlets >= planted.len() * 9 / 10, "{seqlets} seqlets for {} planted sites", planted.len());
    assert!(top["forward"].as_u64() > Some(0) && top["reverse"].as_u64() > Some(0), "both strands in one pattern");
    assert_eq!(top["matches"][0]["target_id"], "planted");
    assert!(top["matches"][0]["e_value"].as_f64().is_some_and(|e| e < 0.05));

    // Every planted site is covered by a seqlet of the top pattern.
    let table = std::fs::read_to_string(out.join("seqlets.tsv"))?;
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let covered = planted
        .iter()
        .filter(|&&(i, at)| {
            rows.iter().any(|r| {
                let (s, b, e) = (r[0].parse::<usize>().ok(), r[1].parse::<usize>().ok(), r[2].parse::<usize>().ok());
                s == Some(i) && b.is_some_and(|b| b < at + MOTIF.len()) && e.is_some_and(|e| e > at) && r[6] == "pos_1"
            })
        })
        .count();
    assert!(covered >= planted.len() * 95 / 100, "{covered} of {} planted sites", planted.len());

    // A second run replaces its own output; this one against a given control without the motif.
    write_named(dir.path(), "control_", 300, 80, false)?;
    let args = [
        "motifs",
        "--ohe",
        "ohe.npz",
        "--shap",
        "shap.npz",
        "--out",
        "found",
        "--control-ohe",
        "control_ohe.npz",
        "--control-shap",
        "control_shap.npz",
    ];
    let again = omix(dir.path(), &args);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("patterns.json"))?)?;
    assert!(summary["seqlets"]["control"].as_str().is_some_and(|c| c.contains("control_shap.npz")));
    assert!(summary["patterns"][0]["seqlets"].as_u64().unwrap_or(0) as usize >= planted.len() * 9 / 10);
    Ok(())
}

#[test]
fn bad_attribution_files_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    write_attributions(d, 10, 30)?;
    let values = vec![0.0f32; 10 * 4 * 29];
    write_npz(&d.join("short.npz"), &[NpyArray { name: "arr_0", shape: &[10, 4, 29], values: &values }])?;
    write_npz(&d.join("flat.npz"), &[NpyArray { name: "arr_0", shape: &[10, 120], values: &vec![0.0; 1200] }])?;
    let mut nan = vec![0.0f32; 10 * 4 * 30];
    nan[4 * 30 + 2 * 30 + 7] = f32::NAN;
    write_npz(&d.join("nan.npz"), &[NpyArray { name: "arr_0", shape: &[10, 4, 30], values: &nan }])?;
    std::fs::write(d.join("text.npz"), "not numpy")?;
    std::fs::create_dir(d.join("theirs"))?;
    std::fs::write(d.join("theirs/notes.txt"), "mine")?;
    let cases: [(&[&str], &str); 6] = [
        (&["--shap", "short.npz"], "must match"),
        (&["--shap", "flat.npz"], "flat.npz: array `arr_0` has shape [10, 120]; expected sequences × 4 × length"),
        (&["--shap", "nan.npz"], "not finite (NaN) at sequence 1, channel 2, position 7"),
        (&["--shap", "text.npz"], "text.npz: not a NumPy file"),
        (&["--shap", "missing.npz"], "missing.npz"),
        (&["--shap", "shap.npz", "--target-fdr", "0"], "--target-fdr 0"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["motifs", "--ohe", "ohe.npz", "--out", "out"];
        args.extend_from_slice(extra);
        let output = omix(d, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!d.join("out").exists(), "{args:?} wrote output");
    }
    // A folder omix did not write is not written into.
    let output = omix(d, &["motifs", "--ohe", "ohe.npz", "--shap", "shap.npz", "--out", "theirs"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not omix's to write into"));
    assert_eq!(std::fs::read_dir(d.join("theirs"))?.count(), 1);
    Ok(())
}
