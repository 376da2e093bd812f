"""`import omix` checked against the `omix` binary on the data shipped in examples/.

Two small runs are trained once per session: the primer data (binary, 50 bp) from a Python dict,
and the splice junctions (three classes, 60 nt, IUPAC codes encoded uniformly) by the binary.
Predictions, attributions, metrics and the encoder are compared with what the binary writes
for the same sequences. OMIX_BIN names the binary (scripts/test-python.sh builds it).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import omix

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"

# What the binary writes has 6 decimals, so an equal number differs by at most 5e-7.
PREDICT_TOLERANCE = 1e-6
EXPLAIN_TOLERANCE = 1e-5


def omix_binary() -> str:
    found = os.environ.get("OMIX_BIN") or shutil.which("omix")
    if not found:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        candidate = target / "release" / "omix"
        if candidate.exists():
            found = str(candidate)
    if not found:
        pytest.fail("no omix binary: set OMIX_BIN (scripts/test-python.sh builds target/release/omix)")
    return found


def cli(*args: object, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [omix_binary(), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert result.returncode == 0, f"omix {' '.join(map(str, args))} failed:\n{result.stderr}"
    return result.stdout


def primer_sequences(count: int) -> list[str]:
    lines = (EXAMPLES / "primer" / "sequences.txt").read_text().split()
    return lines[:count]


def splice_rows() -> list[dict[str, str]]:
    with gzip.open(EXAMPLES / "data" / "splice" / "statlog_dna_sequences.tsv.gz", "rt") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path) as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def attributions_from_tsv(path: Path, method: str, count: int, length: int) -> np.ndarray:
    """attributions.tsv (a line per sequence, position and base) as (N, 4, L)."""
    rows = read_tsv(path)
    assert len(rows) == count * length * 4
    values = np.array([float(row[method]) for row in rows], dtype=np.float64)
    return values.reshape(count, length, 4).transpose(0, 2, 1)


@pytest.fixture(scope="session")
def primer_run(tmp_path_factory: pytest.TempPathFactory) -> omix.Run:
    """A small CNN on the primer data, trained from a dict (absolute paths), explained and
    reported as `omix train` does."""
    out = tmp_path_factory.mktemp("primer") / "run"
    config = {
        "seed": 7,
        "data": {
            "input": str(EXAMPLES / "primer" / "sequences.txt"),
            "labels": str(EXAMPLES / "primer" / "labels.txt"),
            "validation_fraction": 0.15,
            "test_fraction": 0.15,
            "length_policy": "center",
        },
        "model": {
            "kind": "cnn",
            "global_pool": "max",
            "dense": [16],
            "conv": [{"filters": 16, "width": 12, "padding": "same"}],
        },
        "train": {"epochs": 3, "batch_size": 64, "learning_rate": 0.003, "reverse_complement_average": True},
    }
    run = omix.train(config, out=out, progress=False)
    assert (out / "report.html").exists()
    assert (out / "explain" / "explain.json").exists()
    return run


@pytest.fixture(scope="session")
def splice_run(tmp_path_factory: pytest.TempPathFactory) -> omix.Run:
    """The splice example (three classes, a pooled convolution and a dense layer) trained by
    the binary for two epochs."""
    out = tmp_path_factory.mktemp("splice") / "run"
    cli("train", EXAMPLES / "splice.toml", "--out", out, "--epochs", 2, "--no-report", "--quiet")
    return omix.load(out)


# Sequence functions.


def test_one_hot_is_channel_major_float32() -> None:
    x = omix.one_hot(["ACGTN", "acgtA"])
    assert x.dtype == np.float32 and x.shape == (2, 4, 5) and x.flags["C_CONTIGUOUS"]
    expected = np.zeros((4, 5), dtype=np.float32)
    for position, channel in enumerate([0, 1, 2, 3]):
        expected[channel, position] = 1
    np.testing.assert_array_equal(x[0], expected)
    assert x[1, 0, 4] == 1
    uniform = omix.one_hot(["NR"], ambiguity="uniform")
    np.testing.assert_allclose(uniform[0, :, 0], [0.25] * 4)
    np.testing.assert_allclose(uniform[0, :, 1], [0.5, 0, 0.5, 0])
    rna = omix.one_hot(["ACGU"], alphabet="rna")
    np.testing.assert_array_equal(rna[0], np.eye(4, dtype=np.float32))


def test_one_hot_equals_the_binarys_encoder(splice_run: omix.Run, tmp_path: Path) -> None:
    """The encoder the binary used for the splice run (IUPAC codes uniform): recovered from its
    attributions, observed bases from `observed`, ambiguity weights as gradient x input over
    saliency (gradient x input is the saliency times the input)."""
    # splice sequences with IUPAC codes written in (the data itself has none)
    codes = "NRYSWKMBDHVn"
    sequences = []
    for k, row in enumerate(splice_rows()[:8]):
        bases = list(row["sequence60"])
        for j in range(6):
            bases[(7 * k + 11 * j) % 60] = codes[(k + j) % len(codes)]
        sequences.append("".join(bases))
    (tmp_path / "seqs.txt").write_text("\n".join(sequences) + "\n")
    out = tmp_path / "explain"
    cli("explain", splice_run.path, "--input", tmp_path / "seqs.txt", "--method", "saliency",
        "--method", "gradient-x-input", "--out", out, "--no-report")
    x = omix.one_hot(sequences, ambiguity="uniform")
    observed = attributions_from_tsv(out / "attributions.tsv", "observed", len(sequences), 60)
    np.testing.assert_array_equal(observed, (x > 0.5).astype(np.float64))
    saliency = attributions_from_tsv(out / "attributions.tsv", "saliency", len(sequences), 60)
    product = attributions_from_tsv(out / "attributions.tsv", "gradient_x_input", len(sequences), 60)
    usable = np.abs(saliency) > 0.02
    assert usable.sum() > 100
    np.testing.assert_allclose(product[usable] / saliency[usable], x[usable], atol=0.02)
    # and the run's own encoder is the same one
    np.testing.assert_array_equal(splice_run._native.encode(sequences), x)


def test_reverse_complement_of_arrays_and_strings() -> None:
    sequences = ["ACGTTN", "GGGCAa"]
    assert omix.reverse_complement(sequences) == ["NAACGT", "tTGCCC"]
    x = omix.one_hot(sequences)
    np.testing.assert_array_equal(omix.reverse_complement(x), omix.one_hot(omix.reverse_complement(sequences)))
    np.testing.assert_array_equal(omix.reverse_complement(x), x[:, ::-1, ::-1])


def dinucleotides(sequence: str) -> list[str]:
    return sorted(sequence[i : i + 2] for i in range(len(sequence) - 1))


def test_dinucleotide_shuffle_keeps_dinucleotides_and_is_seeded() -> None:
    sequences = primer_sequences(5)
    shuffled = omix.dinucleotide_shuffle(sequences, n=3, seed=11)
    assert len(shuffled) == 5 and all(len(copies) == 3 for copies in shuffled)
    for sequence, copies in zip(sequences, shuffled):
        for copy in copies:
            assert dinucleotides(copy) == dinucleotides(sequence)
            assert copy[0] == sequence[0] and copy[-1] == sequence[-1]
        assert len(set(copies)) > 1
    assert omix.dinucleotide_shuffle(sequences, n=3, seed=11) == shuffled
    assert omix.dinucleotide_shuffle(sequences, n=3, seed=12) != shuffled
    x = omix.one_hot(sequences)
    arrays = omix.dinucleotide_shuffle(x, n=3, seed=11)
    assert arrays.shape == (5, 3, 4, 50) and arrays.dtype == np.float32
    np.testing.assert_array_equal(arrays, omix.one_hot([c for copies in shuffled for c in copies]).reshape(5, 3, 4, 50))


# Predictions and attributions against the binary.


def cli_predictions(run: omix.Run, sequences: list[str], tmp_path: Path) -> np.ndarray:
    (tmp_path / "predict.txt").write_text("\n".join(sequences) + "\n")
    cli("predict", run.path, "--input", tmp_path / "predict.txt", "-o", tmp_path / "predictions.tsv")
    rows = read_tsv(tmp_path / "predictions.tsv")
    columns = [name for name in rows[0] if name.startswith("probability_") or name.startswith("prediction_")]
    return np.array([[float(row[c]) for c in columns] for row in rows])


@pytest.mark.parametrize("which", ["primer_run", "splice_run"])
def test_predict_equals_omix_predict(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    run: omix.Run = request.getfixturevalue(which)
    sequences = primer_sequences(300) if which == "primer_run" else [r["sequence60"] for r in splice_rows()[:300]]
    expected = cli_predictions(run, sequences, tmp_path)
    x = omix.one_hot(sequences, ambiguity="uniform" if which == "splice_run" else "zero")
    from_array = run.predict(x)
    assert from_array.shape == (len(sequences), len(run.output_names)) and from_array.dtype == np.float64
    assert np.abs(from_array - expected).max() <= PREDICT_TOLERANCE
    assert np.abs(run.predict(sequences) - expected).max() <= PREDICT_TOLERANCE
    # a strided view is read correctly (copied once), and a Fortran-ordered one too
    doubled = np.repeat(x, 2, axis=0)[::2]
    assert not doubled.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(run.predict(doubled), from_array)
    np.testing.assert_array_equal(run.predict(np.asfortranarray(x)), from_array)


def test_predict_fits_lengths_by_the_runs_policy(primer_run: omix.Run) -> None:
    sequence = primer_sequences(1)[0]
    padded = "NN" + sequence + "NN"
    np.testing.assert_array_equal(primer_run.predict([padded]), primer_run.predict([sequence]))


@pytest.mark.parametrize(
    "which,target", [("primer_run", None), ("splice_run", "ie"), ("splice_run", 2)]
)
def test_explain_equals_omix_explain(which: str, target: object, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    run: omix.Run = request.getfixturevalue(which)
    sequences = primer_sequences(12) if which == "primer_run" else [r["sequence60"] for r in splice_rows()[:12]]
    length = len(sequences[0])
    (tmp_path / "explain.txt").write_text("\n".join(sequences) + "\n")
    methods = ["saliency", "gradient_x_input", "integrated_gradients", "ism", "deeplift_shap"]
    args = ["explain", run.path, "--input", tmp_path / "explain.txt", "--out", tmp_path / "out", "--no-report"]
    for method in methods:
        args += ["--method", method.replace("_", "-")]
    if target is not None:
        args += ["--output", target]
    cli(*args)
    x = run._native.encode(sequences)
    for method in methods:
        expected = attributions_from_tsv(tmp_path / "out" / "attributions.tsv", method, len(sequences), length)
        got = run.explain(x, method=method, target=target)
        assert got.shape == x.shape and got.dtype == np.float32
        difference = np.abs(got - expected).max()
        assert difference <= EXPLAIN_TOLERANCE, f"{method}: largest difference {difference:.2e}"
    np.testing.assert_array_equal(run.ism(x, target=target), run.explain(x, method="ism", target=target))
    np.testing.assert_array_equal(run.explain(sequences, target=target), run.explain(x, target=target))


def test_deeplift_shap_sums_to_the_change_and_projects_hypotheticals(primer_run: omix.Run) -> None:
    x = omix.one_hot(primer_sequences(4))
    actual = primer_run.explain(x, method="deeplift_shap", shap_references=5)
    hypothetical = primer_run.explain(x, method="deeplift_shap", shap_references=5, hypothetical=True)
    # The actual contributions are the hypothetical ones at the observed bases.
    np.testing.assert_allclose(actual, hypothetical * x, atol=1e-6)
    assert np.abs(hypothetical * (1 - x)).sum() > 0
    with pytest.raises(ValueError, match="not an attribution method; omix has .*deeplift_shap"):
        primer_run.explain(x, method="shap")
    with pytest.raises(ValueError, match="only method=\"deeplift_shap\""):
        primer_run.explain(x, method="ism", hypothetical=True)


def test_an_ensemble_explains_as_the_mean_of_its_members(tmp_path: Path) -> None:
    """An ensemble folder (`omix ensemble`) opens like a run; every method's attributions are
    the mean of its members' (with mean-logit, those of the ensemble's logit)."""
    sequences = (EXAMPLES / "primer" / "sequences.txt").read_text().split()
    labels = (EXAMPLES / "primer" / "labels.txt").read_text().split()
    # A fixed test set, so that the seeds share one split.
    for name, part in (("train", slice(300, None)), ("test", slice(0, 300))):
        (tmp_path / f"{name}.txt").write_text("\n".join(sequences[part]) + "\n")
        (tmp_path / f"{name}_labels.txt").write_text("\n".join(labels[part]) + "\n")
    (tmp_path / "seeds.toml").write_text(
        '[data]\ninput = "train.txt"\nlabels = "train_labels.txt"\n'
        'test = { input = "test.txt", labels = "test_labels.txt" }\n'
        '[model]\nkind = "primer"\n[train]\nepochs = 2\nbaseline = false\n'
    )
    for seed in (1, 2):
        cli("train", "seeds.toml", "--seed", seed, "-o", f"seed{seed}", "--no-report", "-q", cwd=tmp_path)
    cli("ensemble", "seed1", "seed2", "-o", "seeds", "--combine", "mean-logit", cwd=tmp_path)
    ensemble = omix.load(tmp_path / "seeds")
    members = [omix.load(tmp_path / f"seed{seed}") for seed in (1, 2)]
    x = omix.one_hot(sequences[:6])
    for method in ("saliency", "gradient_x_input", "integrated_gradients", "ism", "deeplift_shap"):
        got = ensemble.explain(x, method=method, shap_references=5)
        each = [member.explain(x, method=method, shap_references=5) for member in members]
        assert np.abs(each[0] - each[1]).max() > 1e-3, f"{method}: the members should differ"
        np.testing.assert_allclose(got, np.mean(each, axis=0), atol=1e-6, err_msg=method)
    # Mean logit: the ensemble's probability is the sigmoid of the members' mean logit.
    logits = [np.log(p / (1 - p)) for p in (member.predict(x) for member in members)]
    np.testing.assert_allclose(ensemble.predict(x), 1 / (1 + np.exp(-np.mean(logits, axis=0))), atol=1e-6)


def test_evaluate_equals_omix_evaluate(splice_run: omix.Run, tmp_path: Path) -> None:
    rows = splice_rows()[2000:2400]
    (tmp_path / "seqs.txt").write_text("".join(r["sequence60"] + "\n" for r in rows))
    (tmp_path / "labels.txt").write_text("".join(r["class"] + "\n" for r in rows))
    cli("evaluate", splice_run.path, "--input", tmp_path / "seqs.txt", "--labels", tmp_path / "labels.txt",
        "-o", tmp_path / "metrics.json")
    expected = json.loads((tmp_path / "metrics.json").read_text())
    got = omix.evaluate(splice_run, input=tmp_path / "seqs.txt", labels=tmp_path / "labels.txt")
    assert got.pop("examples") == 400
    assert got == expected


def read_fasta(path: Path) -> dict[str, str]:
    contigs: dict[str, list[str]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            contigs[name] = []
        elif line.strip():
            contigs[name].append(line.strip())
    return {name: "".join(parts) for name, parts in contigs.items()}


def test_score_variants_equals_omix_score_variants(primer_run: omix.Run, tmp_path: Path) -> None:
    import pandas

    reference = EXAMPLES / "data" / "genome" / "sample_genome.fa"
    genome = read_fasta(reference)
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for contig in ("chr1", "chr2"):
        for k, position in enumerate(range(500, 6000, 450)):
            ref = genome[contig][position - 1].upper()
            alt = "ACGT"[("ACGT".index(ref) + 1 + k % 3) % 4] if ref in "ACGT" else "A"
            lines.append(f"{contig}\t{position}\t{contig}_{position}\t{ref}\t{alt}\t.\tPASS\t.")
    (tmp_path / "variants.vcf").write_text("\n".join(lines) + "\n")
    cli("score-variants", primer_run.path, "--vcf", tmp_path / "variants.vcf", "--reference", reference,
        "--out", tmp_path / "cli", "--quiet")
    expected = pandas.read_csv(tmp_path / "cli.tsv", sep="\t")
    got = primer_run.score_variants(tmp_path / "variants.vcf", reference, out=tmp_path / "py", progress=False)
    assert len(got) == len(lines) - 2
    pandas.testing.assert_frame_equal(got, expected)
    # outputs over inputs are refused before anything is written
    with pytest.raises(omix.OmixError):
        primer_run.score_variants(tmp_path / "variants.vcf", reference, out=tmp_path / "variants.vcf", progress=False)


# The run as an object.


def test_run_metrics_config_and_html(primer_run: omix.Run) -> None:
    assert set(primer_run.metrics) >= {"validation", "test"}
    assert primer_run.config["model"]["kind"] == "cnn"
    assert primer_run.config["train"]["epochs"] == 3
    assert primer_run.length == 50 and primer_run.alphabet == "dna"
    assert primer_run.output_names == ["1"]
    html = primer_run._repr_html_()
    assert "<table>" in html and "auroc" in html and "report.html" in html
    assert any(line.startswith("test:") for line in primer_run.summary_lines())


def test_train_from_a_dict_with_paths_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES)
    config = {
        "data": {"input": "primer/sequences.txt", "labels": "primer/labels.txt"},
        "model": {"kind": "primer"},
        "train": {"epochs": 1},
    }
    messages: list[str] = []

    class Collect:
        def message(self, line: str) -> None:
            messages.append(line)

        def start(self, what: str, total: int) -> None:
            messages.append(f"start {what} {total}")

        def advance(self, done: int, note: str) -> None:
            pass

        def finish(self) -> None:
            pass

    run = omix.train(config, out=tmp_path / "run", explain=False, progress=Collect())
    assert run.config["data"]["input"] == str(EXAMPLES / "primer" / "sequences.txt")
    assert any(line.startswith("start epoch 1/1") for line in messages), messages[:20]
    assert any(line.startswith("test ") for line in messages)
    # an existing run is not replaced unless asked
    with pytest.raises(omix.OmixError):
        omix.train(config, out=tmp_path / "run", explain=False, progress=False)
    omix.train(config, out=tmp_path / "run", explain=False, progress=False, force=True)


def test_threads_are_settable_and_results_do_not_depend_on_them(primer_run: omix.Run) -> None:
    x = omix.one_hot(primer_sequences(64))
    everything = primer_run.predict(x)
    try:
        omix.set_threads(1)
        assert omix.get_threads() == 1
        np.testing.assert_array_equal(primer_run.predict(x), everything)
    finally:
        omix.set_threads(0)


def test_the_gil_is_released_while_predicting(primer_run: omix.Run) -> None:
    """Another Python thread keeps running while predictions are computed."""
    x = omix.one_hot(primer_sequences(2000))
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        for _ in range(5):
            primer_run.predict(x)
    finally:
        done.set()
        counter.join()
    assert ticks > 1000


# Bad input raises a clear exception.


def test_bad_arrays_raise(primer_run: omix.Run) -> None:
    x = omix.one_hot(primer_sequences(3))
    with pytest.raises(TypeError, match="float32"):
        primer_run.predict(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"expected \(N, channels, L\)"):
        primer_run.predict(x[0])
    with pytest.raises(ValueError, match=r"reads \(N, 4, 50\)"):
        primer_run.predict(x[:, :, :40].copy())
    with pytest.raises(ValueError, match=r"expected \(N, 4, L\)"):
        primer_run.predict(np.zeros((2, 5, 50), dtype=np.float32))
    with pytest.raises(TypeError, match="expected a string"):
        omix.reverse_complement(np.zeros((2, 4, 5), dtype=np.float32).tolist())
    with pytest.raises(TypeError):
        primer_run.predict(12)


def test_bad_sequences_raise() -> None:
    with pytest.raises(ValueError, match=r"sequence 1: invalid symbol '-' at position 2"):
        omix.one_hot(["ACGT", "AC-T"])
    with pytest.raises(ValueError, match="sequence 1 has 3 bases but sequence 0 has 4"):
        omix.one_hot(["ACGT", "ACG"])
    with pytest.raises(ValueError, match="alphabet"):
        omix.one_hot(["ACGT"], alphabet="klingon")
    with pytest.raises(TypeError, match=r"seqs\[1\]"):
        omix.one_hot(["ACGT", 5])


def test_bad_sequences_for_a_run_raise(primer_run: omix.Run) -> None:
    with pytest.raises(omix.OmixError, match="sequence 1: invalid symbol"):
        primer_run.predict([primer_sequences(1)[0], "X" * 50])


def test_bad_targets_raise(splice_run: omix.Run) -> None:
    x = splice_run._native.encode([splice_rows()[0]["sequence60"]])
    with pytest.raises(ValueError, match="not one of the model's outputs"):
        splice_run.explain(x, target="exon")
    with pytest.raises(ValueError, match="index below 3"):
        splice_run.explain(x, target=7)


def test_a_run_whose_model_reads_no_sequences_shows_metrics_but_cannot_predict(tmp_path: Path) -> None:
    out = tmp_path / "kmer"
    cli("train", EXAMPLES / "splice_kmer.toml", "--out", out, "--epochs", 1, "--no-report", "--quiet")
    run = omix.load(out)
    assert "test" in run.metrics and "<table>" in run._repr_html_()
    with pytest.raises(omix.OmixError, match="does not read one-hot sequences"):
        run.predict(["ACGT" * 15])


def test_a_folder_that_is_not_a_run_raises(tmp_path: Path) -> None:
    with pytest.raises(omix.OmixError) as missing:
        omix.load(tmp_path / "nowhere")
    assert "nowhere" in str(missing.value)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    with pytest.raises(omix.OmixError) as incomplete:
        omix.load(tmp_path / "notes")
    assert "notes" in str(incomplete.value)


def test_bad_configs_raise_with_omixs_message(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[data]\ninput = "x.txt"\n[model]\nkind = "primer"\n[train]\nepochs = "many"\n')
    with pytest.raises(omix.OmixError, match=r"bad\.toml:6:\d+"):
        omix.train(config, out=tmp_path / "run", progress=False)
    with pytest.raises(omix.OmixError, match="learning_rate"):
        omix.train(
            {"data": {"input": str(EXAMPLES / "primer" / "sequences.txt"), "labels": str(EXAMPLES / "primer" / "labels.txt")},
             "model": {"kind": "primer"}, "train": {"learning_rate": -1.0}},
            out=tmp_path / "run2",
            progress=False,
        )
    with pytest.raises(ValueError, match="None"):
        omix.train({"data": {"input": None}}, out=tmp_path / "run3", progress=False)
    assert not (tmp_path / "run3").exists()
