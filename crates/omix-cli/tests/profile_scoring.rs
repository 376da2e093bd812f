//! `omix score-variants` on a profile (BPNet) run: the profile columns in TSV and VCF, both strands
//! averaged unless `--no-strand-average`, and a killed run resumed to the same bytes.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Run `omix ARGS` in `dir` and require success; returns stderr.
fn omix_ok(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).output()?;
    let stderr = String::from_utf8(output.stderr)?;
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok(stderr)
}

fn read_json(path: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// The bases of `chrom` in a FASTA file.
fn contig(fasta: &Path, chrom: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(fasta)?;
    let mut bases = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('>') {
            inside = name.split_whitespace().next() == Some(chrom);
        } else if inside {
            bases.extend(line.trim().bytes().map(|b| b.to_ascii_uppercase()));
        }
    }
    Ok(bases)
}

#[test]
fn profile_runs_report_log_fold_change_and_jsd() -> TestResult {
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

    // SNVs in the middle of the first planted instances on chr2, the first with two ALTs.
    let chr2 = contig(&path.join("sim/genome.fa"), "chr2")?;
    let truth = std::fs::read_to_string(path.join("sim/truth.tsv"))?;
    let mut vcf = String::from("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    for (k, line) in truth.lines().filter(|l| l.starts_with("chr2\t")).take(4).enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (start, end): (usize, usize) = (fields[1].parse()?, fields[2].parse()?);
        let position = start + (end - start) / 2;
        let base = chr2[position];
        let others: Vec<String> =
            ["A", "C", "G", "T"].iter().filter(|b| b.as_bytes()[0] != base).map(|b| b.to_string()).collect();
        let alternative = if k == 0 { others[..2].join(",") } else { others[0].clone() };
        vcf.push_str(&format!("chr2\t{}\tm{k}\t{}\t{alternative}\t.\tPASS\t.\n", position + 1, base as char));
    }
    std::fs::write(path.join("snvs.vcf"), vcf)?;
    let score = |prefix: &str, extra: &[&str]| -> Result<String, Box<dyn std::error::Error>> {
        let mut args = vec!["score-variants", "run", "--vcf", "snvs.vcf", "--reference", "sim/genome.fa", "-o", prefix];
        args.extend_from_slice(&["--quiet", "--batch-size", "2"]);
        args.extend_from_slice(extra);
        omix_ok(path, &args)
    };
    score("both", &[])?;
    let tsv = std::fs::read_to_string(path.join("both.tsv"))?;
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(
        lines[0],
        "chrom\tpos\tid\tref\talt\ttask\tref_log_count\talt_log_count\tlogfc\tabs_logfc\tjsd\tabs_logfc_x_jsd"
    );
    assert!(lines.len() >= 5 && lines[1..].iter().all(|l| l.split('\t').nth(5) == Some("chip")), "{tsv}");
    for line in &lines[1..] {
        let values: Vec<f64> = line.split('\t').skip(6).map(str::parse).collect::<Result<_, _>>()?;
        assert!(values.iter().all(|v| v.is_finite()) && (0.0..=1.0).contains(&values[4]), "{line}");
    }
    let vcf = std::fs::read_to_string(path.join("both.vcf"))?;
    for key in ["REF_LOGCOUNT", "ALT_LOGCOUNT", "LOGFC", "ABSLOGFC", "JSD", "ABSLOGFC_X_JSD"] {
        assert!(vcf.contains(&format!("##INFO=<ID=OMIX_chip_{key},Number=1,Type=Float")), "{key}\n{vcf}");
    }
    assert!(vcf.contains("OMIX_ALT_INDEX=2;OMIX_chip_REF_LOGCOUNT="), "{vcf}");
    let summary = read_json(&path.join("both.summary.json"))?;
    assert_eq!(summary["strand_average"], Value::Bool(true));
    assert_eq!(summary["window"], 300);

    // The forward strand alone gives other numbers.
    score("forward", &["--no-strand-average"])?;
    assert_eq!(read_json(&path.join("forward.summary.json"))?["strand_average"], Value::Bool(false));
    assert_ne!(std::fs::read_to_string(path.join("forward.tsv"))?, tsv);

    // Stopped after two records and resumed: the same bytes as in one go.
    let stderr = score("resumed", &["--stop-after", "2"])?;
    assert!(stderr.contains("run the same command again to resume"), "{stderr}");
    score("resumed", &[])?;
    assert_eq!(std::fs::read_to_string(path.join("resumed.tsv"))?, tsv);
    assert_eq!(std::fs::read_to_string(path.join("resumed.vcf"))?, vcf);
    Ok(())
}
