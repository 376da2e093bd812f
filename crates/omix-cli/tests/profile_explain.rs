//! `omix explain` on a profile run: a tiny BPNet trained on the simulator's small data, explained
//! on its held-out peaks and on a BED file.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `omix ARGS` run in `dir`.
fn omix(dir: &Path, args: &[&str]) -> Result<Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

/// Run `omix ARGS` in `dir` and require success; returns stderr.
fn omix_ok(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if !output.status.success() {
        return Err(format!("omix {} failed:\n{stderr}", args.join(" ")).into());
    }
    Ok(stderr)
}

/// Run `omix ARGS` in `dir` and require failure; returns stderr.
fn omix_fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() {
        return Err(format!("omix {} succeeded but should have failed", args.join(" ")).into());
    }
    Ok(stderr)
}

fn read_json(path: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The shape `profile_explain.json` records for an array file, checked to be a zip holding
/// `arr_0.npy`.
fn array_shape(folder: &Path, summary: &Value, file: &str) -> Result<Vec<u64>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(folder.join(file))?;
    assert_eq!(&bytes[..4], b"PK\x03\x04", "{file} is not a zip");
    assert!(bytes.windows(9).any(|w| w == b"arr_0.npy"), "{file} holds no arr_0.npy");
    let arrays = summary["arrays"].as_array().ok_or("arrays")?;
    let entry = arrays.iter().find(|a| a["file"] == file).ok_or(format!("{file} is not in the summary"))?;
    Ok(entry["shape"].as_array().ok_or("shape")?.iter().filter_map(Value::as_u64).collect())
}

#[test]
fn explain_a_profile_run_for_tf_modisco() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    omix_ok(path, &["simulate-tracks", "--out", "sim", "--small", "--seed", "4"])?;
    std::fs::write(
        path.join("bpnet.toml"),
        "seed = 2\n[tracks]\nreference = \"sim/genome.fa\"\npeaks = \"sim/peaks.narrowPeak\"\ninput_length = 300\n\
         output_length = 200\njitter = 8\nvalidation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n\
         [[tracks.task]]\nname = \"chip\"\nplus = \"sim/counts.plus.bw\"\nminus = \"sim/counts.minus.bw\"\n\
         [model]\nfilters = 8\nlayers = 2\n[train]\nepochs = 1\nbatch_size = 32\n",
    )?;
    omix_ok(path, &["train", "bpnet.toml", "--out", "run", "--quiet"])?;

    // The held-out peaks (no test contig here, so validation's), both heads, both methods.
    let stderr = omix_ok(path, &["explain", "run", "--max-sequences", "5", "--shap-references", "4", "--no-report"])?;
    assert!(stderr.contains("validation split's peaks"), "{stderr}");
    assert!(stderr.contains("summation to delta"), "{stderr}");
    assert!(stderr.contains("modisco motifs -s"), "{stderr}");
    let out = path.join("run/explain");
    let summary = read_json(&out.join("profile_explain.json"))?;
    assert_eq!(summary["regions"], 5);
    assert_eq!(summary["task"], "chip");
    for file in ["ohe.npz", "counts_shap.npz", "profile_shap.npz"] {
        assert_eq!(array_shape(&out, &summary, file)?, vec![5, 4, 300], "{file}");
    }
    for head in summary["heads"].as_array().ok_or("heads")? {
        let convergence = head["convergence"].as_f64().ok_or("convergence")?;
        assert!(convergence < 1e-3, "{head}");
        assert_eq!(head["logos"].as_array().map(Vec::len), Some(5));
    }
    let regions = std::fs::read_to_string(out.join("regions.tsv"))?;
    assert_eq!(regions.lines().count(), 6);
    assert!(regions.starts_with("region\tchrom\tstart\tend\tsource\tpredicted_log_count\t"), "{regions}");
    let positions = std::fs::read_to_string(out.join("positions.tsv"))?;
    assert_eq!(positions.lines().count(), 1 + 5 * 300);

    // In-silico mutagenesis on request: the substitution effects beside the attributions.
    omix_ok(
        path,
        &["explain", "run", "--max-sequences", "2", "--method", "ism", "--head", "profile", "-o", "ism_out"],
    )?;
    let summary = read_json(&path.join("ism_out/profile_explain.json"))?;
    assert_eq!(array_shape(&path.join("ism_out"), &summary, "profile_ism.npz")?, vec![2, 4, 300]);
    let positions = std::fs::read_to_string(path.join("ism_out/positions.tsv"))?;
    assert!(positions.starts_with("region\tchrom\tposition\tbase\tprofile_ism\n"), "{positions}");

    // Windows centred on a BED file's intervals; one head, one method.
    let peaks = std::fs::read_to_string(path.join("sim/peaks.narrowPeak"))?;
    let bed: String = peaks.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(path.join("two.bed"), &bed)?;
    omix_ok(
        path,
        &["explain", "run", "--input", "two.bed", "--head", "counts", "--method", "deeplift-shap", "-o", "bed_out"],
    )?;
    let summary = read_json(&path.join("bed_out/profile_explain.json"))?;
    assert_eq!(array_shape(&path.join("bed_out"), &summary, "counts_shap.npz")?, vec![2, 4, 300]);
    assert!(!path.join("bed_out/profile_shap.npz").exists());

    // Errors name what is wrong.
    let contig_end = format!("{}\t0\t10\n", peaks.split('\t').next().unwrap_or("chr1"));
    std::fs::write(path.join("edge.bed"), contig_end)?;
    let stderr = omix_fails(path, &["explain", "run", "--input", "edge.bed", "-o", "edge_out"])?;
    assert!(stderr.contains("edge.bed:1") && stderr.contains("runs off the contig"), "{stderr}");
    let stderr = omix_fails(path, &["explain", "run", "--method", "saliency", "-o", "saliency_out"])?;
    assert!(stderr.contains("gradient-x-input, deeplift-shap and ism"), "{stderr}");
    let stderr = omix_fails(path, &["explain", "run", "--output", "nope", "-o", "task_out"])?;
    assert!(stderr.contains("nope is not a task") && stderr.contains("chip"), "{stderr}");
    Ok(())
}

/// The whole profile workflow from the binary on a model with control tracks, and on a ChromBPNet
/// (explained bias-corrected): train, predict a bigWig, explain, score variants.
#[test]
fn control_tracks_and_chrombpnet_through_the_binary() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    omix_ok(path, &["simulate-tracks", "--out", "sim", "--small", "--control"])?;
    for file in ["control.plus.bw", "control.minus.bw"] {
        assert!(path.join("sim").join(file).exists(), "{file}");
    }
    let settings = "input_length = 300\noutput_length = 200\njitter = 8\nvalidation_chromosomes = [\"chr2\"]\n\
                    test_chromosomes = []\n";
    std::fs::write(
        path.join("control.toml"),
        format!(
            "seed = 2\n[tracks]\nreference = \"sim/genome.fa\"\npeaks = \"sim/peaks.narrowPeak\"\n{settings}\
             [[tracks.task]]\nname = \"chip\"\nplus = \"sim/counts.plus.bw\"\nminus = \"sim/counts.minus.bw\"\n\
             control = [\"sim/control.plus.bw\", \"sim/control.minus.bw\"]\n\
             [model]\nfilters = 8\nlayers = 2\n[train]\nepochs = 1\nbatch_size = 32\n"
        ),
    )?;
    omix_ok(path, &["train", "control.toml", "--out", "run", "--quiet"])?;
    let peaks = std::fs::read_to_string(path.join("sim/peaks.narrowPeak"))?;
    std::fs::write(path.join("two.bed"), peaks.lines().take(2).map(|l| format!("{l}\n")).collect::<String>())?;
    omix_ok(path, &["predict", "run", "--reference", "sim/genome.fa", "--bed", "two.bed", "-o", "pred.bw"])?;
    assert!(path.join("pred.plus.bw").exists() && path.join("pred.minus.bw").exists());
    omix_ok(path, &["explain", "run", "--max-sequences", "3", "--shap-references", "3", "--no-report"])?;
    let summary = read_json(&path.join("run/explain/profile_explain.json"))?;
    for head in summary["heads"].as_array().ok_or("heads")? {
        assert!(head["convergence"].as_f64().is_some_and(|c| c < 1e-3), "{head}");
    }
    // A SNV at the first peak's summit.
    let first: Vec<&str> = peaks.lines().next().ok_or("no peak")?.split('\t').collect();
    let position = first[1].parse::<u64>()? + first[9].parse::<u64>()? + 1;
    let fasta = std::fs::read_to_string(path.join("sim/genome.fa"))?;
    let bases: String = fasta.split('>').nth(1).ok_or("no contig")?.lines().skip(1).collect();
    let reference_base = &bases[position as usize - 1..position as usize];
    let alternative = if reference_base == "A" { "C" } else { "A" };
    std::fs::write(
        path.join("one.vcf"),
        format!(
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{}\t{position}\t.\t{reference_base}\t{alternative}\t.\t.\t.\n",
            first[0]
        ),
    )?;
    omix_ok(path, &["score-variants", "run", "--vcf", "one.vcf", "--reference", "sim/genome.fa", "-o", "scores"])?;
    let scores = std::fs::read_to_string(path.join("scores.tsv"))?;
    assert_eq!(scores.lines().count(), 2, "{scores}");
    // A control track missing on disk is an error naming it.
    std::fs::rename(path.join("sim/control.minus.bw"), path.join("moved.bw"))?;
    let stderr =
        omix_fails(path, &["predict", "run", "--reference", "sim/genome.fa", "--bed", "two.bed", "-o", "x.bw"])?;
    assert!(stderr.contains("control.minus.bw"), "{stderr}");

    // ChromBPNet: bias model first, explained bias-corrected.
    omix_ok(path, &["simulate-tracks", "--out", "atac", "--small", "--assay", "atac"])?;
    std::fs::write(
        path.join("chrombpnet.toml"),
        format!(
            "seed = 2\n[tracks]\nreference = \"atac/genome.fa\"\npeaks = \"atac/peaks.narrowPeak\"\n{settings}\
             background = 1\n[[tracks.task]]\nname = \"atac\"\nunstranded = \"atac/counts.bw\"\n\
             [model]\nfilters = 8\nlayers = 2\n[bias]\nfilters = 4\nlayers = 1\nepochs = 1\n\
             [train]\nepochs = 1\nbatch_size = 32\n"
        ),
    )?;
    omix_ok(path, &["train", "chrombpnet.toml", "--out", "chrom", "--quiet"])?;
    let stderr = omix_ok(path, &["explain", "chrom", "--max-sequences", "2", "--shap-references", "2", "--no-report"])?;
    assert!(stderr.contains("bias-corrected"), "{stderr}");
    let summary = read_json(&path.join("chrom/explain/profile_explain.json"))?;
    assert!(summary["model"].as_str().is_some_and(|m| m.contains("bias-corrected")), "{summary}");
    Ok(())
}
