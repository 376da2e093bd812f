//! Genome and variant inputs that lie (issue 11, "never lose or silently corrupt a user's data"):
//! each test runs the `omix` binary on a small trained run and a three-contig reference, and fails
//! if omix reads the wrong bases, writes next to the user's files, scores past a contig's end,
//! loses a record, appends one model's scores to another's, or overwrites an input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The bad-input corpus, whose small files these tests reuse.
fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("bad_inputs").join(name)
}

/// `omix ARGS` run in `dir`.
fn omix(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

/// Run and require success; returns stderr.
fn ok(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok(stderr)
}

/// Run and require failure without a panic; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() {
        return Err(format!("omix {} succeeded but should have failed:\n{stderr}", args.join(" ")).into());
    }
    if stderr.contains("panicked") {
        return Err(format!("omix {} panicked:\n{stderr}", args.join(" ")).into());
    }
    Ok(stderr)
}

/// A folder with `genome.fa` (tiny_ref.fa: chr1-chr3, 600 bp each, 60 a line) and a run `model`
/// (20-bp windows) trained with `seed`.
fn workspace(seed: &str) -> Result<tempfile::TempDir, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(corpus("tiny_ref.fa"), dir.path().join("genome.fa"))?;
    train(dir.path(), "model", seed)?;
    Ok(dir)
}

/// Train a run called `out` in `dir` (replacing one there).
fn train(dir: &Path, out: &str, seed: &str) -> TestResult {
    for name in ["seqs_ok.txt", "labels_ok.txt"] {
        std::fs::copy(corpus(name), dir.join(name))?;
    }
    ok(
        dir,
        &[
            "train",
            "--input",
            "seqs_ok.txt",
            "--labels",
            "labels_ok.txt",
            "--epochs",
            "1",
            "--seed",
            seed,
            "--no-baseline",
            "--no-report",
            "--quiet",
            "--force",
            "--out",
            out,
        ],
    )?;
    Ok(())
}

const HEADER: &str = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";

/// A VCF of SNVs at these 1-based positions of chr1 whose REF is the genome's base.
fn snvs(dir: &Path, positions: &[usize], alt_shift: usize) -> Result<String, Box<dyn std::error::Error>> {
    let fasta = std::fs::read_to_string(dir.join("genome.fa"))?;
    let chr1: String = fasta.lines().skip(1).take(10).collect();
    let mut text = HEADER.to_string();
    for &pos in positions {
        let reference = chr1.as_bytes()[pos - 1] as char;
        let bases = ['A', 'C', 'G', 'T'];
        let index = bases.iter().position(|&b| b == reference).unwrap_or(0);
        let alt = bases[(index + 1 + alt_shift % 3) % 4];
        text.push_str(&format!("chr1\t{pos}\tv{pos}\t{reference}\t{alt}\t.\tPASS\t.\n"));
    }
    Ok(text)
}

/// The names of the files in `dir` (not recursive).
fn names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

#[test]
fn a_missing_index_is_built_in_memory_and_a_lying_one_is_refused() -> TestResult {
    let dir = workspace("1")?;
    let before = names(dir.path())?;
    let track = ["predict", "model", "--reference", "genome.fa", "--tile", "100", "-o", "t.bedgraph"];
    let stderr = ok(dir.path(), &track)?;
    assert!(stderr.contains("in memory") && stderr.contains("samtools faidx genome.fa"), "{stderr}");
    // Nothing but the output appeared next to the reference.
    let mut expected = before.clone();
    expected.push("t.bedgraph".to_string());
    expected.sort();
    assert_eq!(names(dir.path())?, expected);
    let plain = std::fs::read_to_string(dir.path().join("t.bedgraph"))?;

    // A valid index next to the FASTA (as samtools writes it) is used, silently.
    let truth = "chr1\t600\t6\t60\t61\nchr2\t600\t622\t60\t61\nchr3\t600\t1238\t60\t61\n";
    std::fs::write(dir.path().join("genome.fa.fai"), truth)?;
    let stderr = ok(dir.path(), &track)?;
    assert!(!stderr.contains("in memory"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("t.bedgraph"))?, plain);

    // A contig length too long (it would read chr2's header and bases), a stale index without chr3.
    for (fai, expected) in [
        ("chr1\t610\t6\t60\t61\nchr2\t600\t622\t60\t61\nchr3\t600\t1238\t60\t61\n", "contig 'chr1'"),
        ("chr1\t600\t6\t60\t61\nchr2\t600\t622\t60\t61\n", "more after contig 'chr2' than the index lists: '>chr3"),
    ] {
        std::fs::write(dir.path().join("genome.fa.fai"), fai)?;
        let stderr = fails(dir.path(), &track)?;
        assert!(stderr.contains("genome.fa.fai: ") && stderr.contains(expected), "{stderr}");
        assert_eq!(std::fs::read_to_string(dir.path().join("genome.fa.fai"))?, fai, "the user's index is untouched");
        assert_eq!(std::fs::read_to_string(dir.path().join("t.bedgraph"))?, plain, "the old output is untouched");
    }

    // A FASTA with a byte order mark reads the same bases.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(std::fs::read(dir.path().join("genome.fa"))?);
    std::fs::write(dir.path().join("bom.fa"), bom)?;
    ok(dir.path(), &["predict", "model", "--reference", "bom.fa", "--tile", "100", "-o", "bom.bedgraph"])?;
    assert_eq!(std::fs::read_to_string(dir.path().join("bom.bedgraph"))?, plain);
    assert!(!dir.path().join("bom.fa.fai").exists());
    Ok(())
}

#[test]
fn coordinates_outside_contigs_are_errors_or_counted_skips() -> TestResult {
    let dir = workspace("1")?;
    let path = |name: &str| dir.path().join(name);
    // A BED interval past the contig's end would be an all-N window.
    std::fs::write(path("peaks.bed"), "chr1\t100\t120\nchr2\t590\t650\n")?;
    let stderr =
        fails(dir.path(), &["predict", "model", "--reference", "genome.fa", "--bed", "peaks.bed", "-o", "t.bg"])?;
    assert!(
        stderr.contains("peaks.bed:2: interval chr2:590-650 ends past the end of contig 'chr2', which has 600 bases"),
        "{stderr}"
    );
    assert!(!path("t.bg").exists() && !path("t.bg.partial").exists());

    // A VCF position past the contig's end stops the run under the default --on-mismatch error ...
    let mut vcf = snvs(dir.path(), &[30, 40], 0)?;
    vcf.push_str("chr1\t700\tfar\tA\tG\t.\tPASS\t.\n");
    std::fs::write(path("calls.vcf"), &vcf)?;
    let score = ["score-variants", "model", "--vcf", "calls.vcf", "--reference", "genome.fa", "-o", "out"];
    let stderr = fails(dir.path(), &score)?;
    assert!(
        stderr.contains("calls.vcf:5: column 2 (POS) 700: REF 'A' is not inside contig 'chr1', which has 600 bases"),
        "{stderr}"
    );
    // ... and is skipped, counted and warned about under --on-mismatch skip.
    let stderr = ok(dir.path(), &[&score[..], &["--on-mismatch", "skip"]].concat())?;
    assert!(
        stderr.contains("warning: skipped 0 variant(s) whose REF disagrees with the reference and 1 outside"),
        "{stderr}"
    );
    assert!(stderr.contains("outside_contig 1"), "{stderr}");
    assert_eq!(std::fs::read_to_string(path("out.tsv"))?.lines().count(), 1 + 2);

    // A REF N over a real base is a REF mismatch.
    std::fs::write(path("n.vcf"), format!("{HEADER}chr1\t1\tn\tN\tG\t.\tPASS\t.\n"))?;
    let stderr =
        fails(dir.path(), &["score-variants", "model", "--vcf", "n.vcf", "--reference", "genome.fa", "-o", "nout"])?;
    assert!(stderr.contains("n.vcf:3: chr1:1 column 4 (REF): REF 'N' does not match the genome's 'C'"), "{stderr}");
    Ok(())
}

#[test]
fn vcf_structure_is_checked_against_the_header() -> TestResult {
    let dir = workspace("1")?;
    let path = |name: &str| dir.path().join(name);
    let good = snvs(dir.path(), &[30, 40, 50], 0)?;
    // A lost line end runs records 2 and 3 together: the second would be lost.
    let mut lines: Vec<&str> = good.lines().collect();
    let joined = format!("{}{}", lines[3], lines[4]);
    lines.splice(3..5, [joined.as_str()]);
    std::fs::write(path("joined.vcf"), lines.join("\n") + "\n")?;
    let score = |vcf: &str| {
        ["score-variants", "model", "--vcf", vcf, "--reference", "genome.fa", "-o", "out"].map(str::to_string)
    };
    let run = |vcf: &str| -> Result<String, Box<dyn std::error::Error>> {
        let args = score(vcf);
        fails(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let stderr = run("joined.vcf")?;
    assert!(
        stderr.contains("joined.vcf, line 4: 15 tab-separated columns where the #CHROM header line (line 2) has 8"),
        "{stderr}"
    );
    assert!(stderr.contains("two records run together"), "{stderr}");
    std::fs::write(path("empty.vcf"), "")?;
    assert!(run("empty.vcf")?.contains("empty.vcf, line 1: the file is empty"));
    std::fs::write(path("bare.vcf"), good.lines().skip(2).collect::<Vec<_>>().join("\n"))?;
    assert!(run("bare.vcf")?.contains("bare.vcf, line 1: a record before the '#CHROM"));
    assert!(!path("out.tsv").exists() && !path("out.tsv.partial").exists());
    Ok(())
}

#[test]
fn a_resume_after_the_model_or_vcf_changed_is_refused() -> TestResult {
    let dir = workspace("1")?;
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("calls.vcf"), snvs(dir.path(), &[30, 40, 50, 60, 70, 80], 0)?)?;
    let score =
        ["score-variants", "model", "--vcf", "calls.vcf", "--reference", "genome.fa", "-o", "out", "--batch-size", "1"];
    let stderr = ok(dir.path(), &[&score[..], &["--stop-after", "2"]].concat())?;
    assert!(stderr.contains("stopped after 2 records"), "{stderr}");
    let partial = std::fs::read(path("out.tsv.partial"))?;
    let progress = std::fs::read(path("out.progress.json"))?;
    let saved: Vec<(PathBuf, Vec<u8>)> = names(&path("model"))?
        .into_iter()
        .map(|name| path("model").join(name))
        .filter(|file| file.is_file())
        .map(|file| std::fs::read(&file).map(|bytes| (file, bytes)))
        .collect::<Result<_, _>>()?;

    // The model retrained into the same folder.
    train(dir.path(), "model", "2")?;
    let stderr = fails(dir.path(), &score)?;
    assert!(stderr.contains("cannot resume: the model") && !stderr.contains("the VCF"), "{stderr}");
    assert!(stderr.contains("out.tsv.partial") && stderr.contains("choose another -o"), "{stderr}");
    assert_eq!(std::fs::read(path("out.tsv.partial"))?, partial, "the partial output must be untouched");
    assert_eq!(std::fs::read(path("out.progress.json"))?, progress);

    // Back to the first model, but another VCF with as many records.
    for (file, bytes) in &saved {
        std::fs::write(file, bytes)?;
    }
    std::fs::write(path("calls.vcf"), snvs(dir.path(), &[30, 40, 50, 60, 70, 80], 1)?)?;
    let stderr = fails(dir.path(), &score)?;
    assert!(stderr.contains("cannot resume: the VCF (calls.vcf)") && !stderr.contains("the model"), "{stderr}");
    assert_eq!(std::fs::read(path("out.tsv.partial"))?, partial);

    // The inputs it was started with: it resumes.
    std::fs::write(path("calls.vcf"), snvs(dir.path(), &[30, 40, 50, 60, 70, 80], 0)?)?;
    let stderr = ok(dir.path(), &score)?;
    assert!(stderr.contains("resuming: 2 of 6 records"), "{stderr}");
    assert_eq!(std::fs::read_to_string(path("out.tsv"))?.lines().count(), 1 + 6);
    Ok(())
}

#[test]
fn outputs_over_inputs_are_refused() -> TestResult {
    let dir = workspace("1")?;
    let path = |name: &str| dir.path().join(name);
    let vcf = snvs(dir.path(), &[30, 40], 0)?;
    std::fs::write(path("calls.vcf"), &vcf)?;
    std::fs::hard_link(path("calls.vcf"), path("linked.vcf"))?;
    std::fs::write(path("peaks.bed"), "chr1\t100\t120\n")?;
    std::fs::hard_link(path("genome.fa"), path("linked.fa"))?;
    let fasta = std::fs::read(path("genome.fa"))?;
    let weights = std::fs::read(path("model/model.bpk"))?;
    let score = |out: &str| -> Result<String, Box<dyn std::error::Error>> {
        fails(dir.path(), &["score-variants", "model", "--vcf", "calls.vcf", "--reference", "genome.fa", "-o", out])
    };
    // -o calls writes calls.vcf: the input, however spelled or linked.
    for (out, input) in [("calls", "calls.vcf"), ("./calls", "calls.vcf"), ("linked", "calls.vcf")] {
        let stderr = score(out)?;
        assert!(
            stderr.contains("refusing to write") && stderr.contains(&format!("the same file as {input}")),
            "{out}: {stderr}"
        );
    }
    for out in ["genome.fa", "./genome.fa", "linked.fa"] {
        let stderr = score(out)?;
        assert!(stderr.contains("refusing to write") && stderr.contains(", the reference"), "{out}: {stderr}");
    }
    for out in ["model/model.bpk", "./model/config.toml"] {
        let stderr = score(out)?;
        assert!(stderr.contains("a file of the run folder model"), "{out}: {stderr}");
    }
    let track = |out: &str| -> Result<String, Box<dyn std::error::Error>> {
        fails(dir.path(), &["predict", "model", "--reference", "genome.fa", "--bed", "peaks.bed", "-o", out])
    };
    for out in ["genome.fa", "./genome.fa", "linked.fa"] {
        assert!(track(out)?.contains(", the reference"), "{out}");
    }
    for out in ["peaks.bed", "./peaks.bed", "model/schema.json"] {
        assert!(track(out)?.contains("refusing to write"), "{out}");
    }
    assert_eq!(std::fs::read_to_string(path("calls.vcf"))?, vcf);
    assert_eq!(std::fs::read(path("genome.fa"))?, fasta);
    assert_eq!(std::fs::read(path("model/model.bpk"))?, weights);
    assert_eq!(std::fs::read_to_string(path("peaks.bed"))?, "chr1\t100\t120\n");
    Ok(())
}
