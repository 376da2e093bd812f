"""omix from Python: deep learning for omics over the same Rust library as the ``omix`` binary.

Plain functions over one-hot arrays ``(N, 4, L)`` of float32 (as tangermeme), and a trained run
folder as the model handle (as gReLU)::

    import omix
    run = omix.train("examples/splice.toml", out="runs/splice")   # or omix.load("runs/splice")
    X = omix.one_hot(["ACGT" * 15])
    run.predict(X)                                # (N, outputs) probabilities
    run.explain(X, method="gradient_x_input")     # (N, 4, L) attributions

Errors from omix raise :class:`OmixError` with omix's message (file, line and what is wrong);
bad arguments raise ``TypeError`` / ``ValueError``. Computations release the GIL and run on
:func:`set_threads` threads.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _omix
from ._omix import OmixError, get_threads, set_threads
from ._progress import Progress

if TYPE_CHECKING:
    import pandas

__version__: str = _omix.__version__

__all__ = [
    "OmixError",
    "Run",
    "dinucleotide_shuffle",
    "evaluate",
    "get_threads",
    "load",
    "one_hot",
    "reverse_complement",
    "set_threads",
    "train",
]

#: What the sequence functions and ``Run.predict`` accept: one-hot arrays or sequences.
SequencesOrArray = Union[np.ndarray, Sequence[str], str]

#: The attribution methods ``Run.explain`` computes.
METHODS = ("saliency", "gradient_x_input", "integrated_gradients", "ism", "deeplift_shap")


def _strings(sequences: Sequence[str] | str, what: str = "seqs") -> list[str]:
    if isinstance(sequences, str):
        return [sequences]
    if isinstance(sequences, np.ndarray):
        raise TypeError(f"{what}: expected sequences (strings), got an array; this function takes strings")
    try:
        items = list(sequences)
    except TypeError:
        raise TypeError(f"{what}: expected a list of strings, got {type(sequences).__name__}") from None
    for k, item in enumerate(items):
        if isinstance(item, bytes):
            items[k] = item.decode("ascii", errors="replace")
        elif not isinstance(item, str):
            raise TypeError(f"{what}[{k}]: expected a string, got {type(item).__name__}")
    return items


def _array(x: Any, what: str = "X") -> np.ndarray:
    """``x`` as a ``(N, C, L)`` float32 array, without a copy (refused, never converted, when
    it is not float32, so that a silent copy of a large array never happens)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what}: expected a numpy array of shape (N, 4, L), got {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(
            f"{what} has dtype {x.dtype}; omix reads float32 one-hot arrays (X.astype(np.float32), or omix.one_hot)"
        )
    if x.ndim != 3:
        raise ValueError(f"{what} has shape {x.shape}; expected (N, channels, L), e.g. omix.one_hot(seqs)")
    return x


def one_hot(seqs: Sequence[str] | str, alphabet: str = "dna", ambiguity: str = "zero") -> np.ndarray:
    """One-hot encode equal-length sequences into ``(N, channels, L)`` float32 (channels A, C,
    G, T for DNA), with omix's encoder (the one training and ``omix predict`` use).

    ``ambiguity``: ``"zero"`` (N and other IUPAC codes encode as an all-zero column, omix's
    default) or ``"uniform"`` (N is 0.25 in each channel, R is 0.5 A + 0.5 G, ...). A symbol
    outside the alphabet raises ``ValueError`` naming the sequence and position.
    """
    return _omix.one_hot(_strings(seqs), alphabet, ambiguity)


def reverse_complement(x: SequencesOrArray, alphabet: str = "dna") -> np.ndarray | list[str]:
    """The reverse complement of one-hot arrays ``(N, 4, L)`` (both axes flipped) or of
    sequences (IUPAC codes complemented, case kept)."""
    if isinstance(x, np.ndarray):
        return _omix.reverse_complement_one_hot(_array(x))
    return _omix.reverse_complement_strings(_strings(x), alphabet)


def dinucleotide_shuffle(
    x: SequencesOrArray, n: int = 1, seed: int = 0, alphabet: str = "dna"
) -> np.ndarray | list[list[str]]:
    """``n`` dinucleotide-preserving shuffles of each sequence (omix's shuffle, the one used
    for shuffled negatives and integrated-gradients baselines).

    One-hot arrays ``(N, 4, L)`` give ``(N, n, 4, L)`` (as tangermeme's); sequences give a list
    of ``n`` shuffles per sequence. The same seed gives the same shuffles; each sequence's
    shuffles depend on the seed and its position only.
    """
    if n < 1:
        raise ValueError(f"n={n}: at least one shuffle per sequence")
    if seed < 0:
        raise ValueError(f"seed={seed}: a seed is a non-negative integer")
    if isinstance(x, np.ndarray):
        return _omix.shuffle_one_hot(_array(x), n, seed, alphabet)
    return _omix.shuffle_strings(_strings(x), n, seed)


def _progress(progress: Any) -> Any:
    if progress is True or progress is None:
        return Progress()
    if progress is False:
        return Progress(quiet=True)
    return progress


class Run:
    """A trained run folder (``omix train``'s output), the handle to its model.

    ``omix.load(path)`` (or ``Run(path)``) reads the folder once; the folder alone is enough
    to predict, explain and score variants, as with the binary.
    """

    def __init__(self, path: str | os.PathLike[str]):
        path = Path(path)
        self._native = _omix.NativeRun(str(path))
        self.path: Path = path

    def __repr__(self) -> str:
        return f"omix.Run({str(self.path)!r})"

    # What the model reads and writes.
    @property
    def length(self) -> int:
        """The model's input length (bases)."""
        return self._native.length

    @property
    def alphabet(self) -> str:
        """The alphabet the model reads (``dna``, ``rna`` or ``protein``)."""
        return self._native.alphabet

    @property
    def output_names(self) -> list[str]:
        """The name of each output column (binary: the positive class)."""
        return self._native.output_names

    @property
    def config(self) -> dict[str, Any]:
        """The run's resolved experiment config (``config.toml``) as a dict."""
        return tomllib.loads(self._native.read_text("config.toml"))

    @property
    def metrics(self) -> dict[str, Any]:
        """``metrics.json``: metrics per split, the baseline and the comparison."""
        return json.loads(self._native.read_text("metrics.json"))

    @property
    def report_path(self) -> Path:
        """The run's HTML report."""
        return self.path / "report.html"

    def _inputs(self, x: SequencesOrArray) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return _array(x)
        return self._native.encode(_strings(x, "X"))

    def predict(self, x: SequencesOrArray) -> np.ndarray:
        """Scores ``(N, outputs)``: probabilities (classification) or values (regression), the
        numbers ``omix predict`` writes, averaged over both strands when the run says so.

        ``x``: one-hot ``(N, 4, L)`` float32 of the model's length (read in place, not copied,
        when C-contiguous), or sequences (cropped or padded to the model's length by the run's
        length policy, as ``omix predict`` does).
        """
        if isinstance(x, np.ndarray):
            return self._native.predict_one_hot(_array(x))
        return self._native.predict_sequences(_strings(x, "X"))

    def _target(self, target: int | str | None) -> int:
        if target is None:
            return 0
        if isinstance(target, (bool, float)) or not isinstance(target, (int, str, np.integer)):
            raise TypeError(f"target={target!r}: an output's name or index")
        return self._native.output_index(str(target))

    def explain(
        self,
        x: SequencesOrArray,
        method: str = "gradient_x_input",
        target: int | str | None = None,
        *,
        ig_steps: int = 32,
        ig_baseline: str = "zeros",
        batch_size: int = 64,
        seed: int = 42,
        shap_references: int = 20,
        hypothetical: bool = False,
    ) -> np.ndarray:
        """Attributions ``(N, 4, L)`` float32 of one output (``target``: its name or index;
        default the first, a binary model's positive class), in logit units: the numbers
        ``omix explain`` writes to ``attributions.tsv``.

        ``method``: ``"gradient_x_input"``, ``"saliency"``, ``"integrated_gradients"``
        (``ig_steps``, ``ig_baseline`` ``"zeros"`` | ``"shuffled"`` | ``"uniform"``) or
        ``"ism"`` (every single-base substitution's change in the output) or
        ``"deeplift_shap"`` (DeepLIFT's rescale rule against ``shap_references`` seeded
        dinucleotide shuffles, averaged; convolutional networks only; ``hypothetical=True``
        gives the hypothetical contributions of every base, what TF-MoDISco reads).
        An ensemble folder (``omix ensemble``) gives the mean of its members' attributions
        (with ``--combine mean-logit``, those of the ensemble's logit).
        """
        if not isinstance(method, str):
            raise TypeError(f"method={method!r}: one of {', '.join(METHODS)}")
        return self._native.explain(
            self._inputs(x), method, self._target(target), ig_steps, ig_baseline, batch_size, seed,
            shap_references, hypothetical,
        )

    def ism(self, x: SequencesOrArray, target: int | str | None = None) -> np.ndarray:
        """In-silico mutagenesis ``(N, 4, L)``: the change in the output when each base becomes
        each other base (0 at the observed base); ``explain(x, method="ism")``."""
        return self.explain(x, method="ism", target=target)

    def score_variants(
        self,
        vcf: str | os.PathLike[str],
        reference: str | os.PathLike[str],
        out: str | os.PathLike[str] | None = None,
        *,
        average_strands: bool | None = None,
        skip_mismatches: bool = False,
        progress: Any = True,
    ) -> "pandas.DataFrame":
        """Score every variant of a VCF (``omix score-variants``): the reference and the
        alternative allele's window through the model, as a pandas DataFrame of the TSV it
        writes (``out`` prefix: ``OUT.tsv`` and ``OUT.vcf``; default a temporary folder)."""
        import pandas

        if out is None:
            out = Path(tempfile.mkdtemp(prefix="omix-variants-")) / "scores"
        tsv = self._native.score_variants(
            str(vcf), str(reference), str(out), _progress(progress), average_strands, skip_mismatches
        )
        return pandas.read_csv(tsv, sep="\t")

    def summary_lines(self) -> list[str]:
        """The run in a few lines: model, data, metrics per split, the baseline's verdict."""
        lines = [f"omix run {self.path}"]
        try:
            config = self.config
            lines.append(f"model: {config.get('model', {}).get('kind', '?')}")
        except OmixError:
            pass
        try:
            metrics = self.metrics
        except OmixError:
            return lines
        for split, values in _metric_rows(metrics):
            lines.append(f"{split}: " + ", ".join(f"{k} {_number(v)}" for k, v in values.items()))
        verdict = _verdict(metrics)
        if verdict:
            lines.append(verdict)
        return lines

    def _repr_html_(self) -> str:
        """The report's summary for notebooks: metrics per split, the baseline's verdict and a
        link to ``report.html``."""
        try:
            metrics = self.metrics
        except OmixError as error:
            return f"<b>omix run</b> <code>{escape(str(self.path))}</code><pre>{escape(str(error))}</pre>"
        try:
            kind = self.config.get("model", {}).get("kind", "?")
        except OmixError:
            kind = "?"
        rows = _metric_rows(metrics)
        columns: list[str] = []
        for _, values in rows:
            columns.extend(k for k in values if k not in columns)
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join(
            f"<tr><th>{escape(split)}</th>"
            + "".join(f"<td>{escape(_number(values.get(c)))}</td>" for c in columns)
            + "</tr>"
            for split, values in rows
        )
        verdict = _verdict(metrics)
        link = ""
        if self.report_path.exists():
            link = f'<p><a href="{escape(self.report_path.as_posix())}" target="_blank">report.html</a></p>'
        return (
            f"<div><b>omix run</b> <code>{escape(str(self.path))}</code> &middot; model <code>{escape(str(kind))}</code>"
            f" &middot; outputs {escape(', '.join(self.output_names))}"
            f"<table><tr><th></th>{head}</tr>{body}</table>"
            + (f"<p>{escape(verdict)}</p>" if verdict else "")
            + link
            + "</div>"
        )


def _metric_rows(metrics: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(split, scalar metrics) for each split of ``metrics.json``."""
    rows = []
    for split in ("validation", "test"):
        values = metrics.get(split)
        if isinstance(values, Mapping):
            scalars = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            rows.append((split, scalars))
    return rows


def _verdict(metrics: Mapping[str, Any]) -> str:
    baseline = metrics.get("baseline")
    if isinstance(baseline, Mapping):
        comparison = baseline.get("comparison")
        if isinstance(comparison, Mapping) and isinstance(comparison.get("verdict"), str):
            return comparison["verdict"]
    return ""


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def load(path: str | os.PathLike[str]) -> Run:
    """Open a trained run folder; a folder that is not one raises :class:`OmixError` saying
    what is missing."""
    return Run(path)


def train(
    config: str | os.PathLike[str] | Mapping[str, Any],
    out: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    explain: bool = True,
    progress: Any = True,
) -> Run:
    """Train an experiment (``omix train CONFIG``) and return its run.

    ``config``: a TOML file (its relative paths from its folder) or a dict of the same tables
    (``{"data": {...}, "model": {...}, "train": {...}}``; relative paths from the working
    directory), read and checked exactly as a file is. ``out``: the run folder (default
    ``runs/<config file's name>``); an existing run is replaced only with ``force=True``.
    Messages and per-epoch progress bars appear in the notebook (tqdm where installed);
    ``progress=False`` keeps only messages. After training, the test split is explained and
    ``report.html`` written, as the binary does (``explain=False`` skips the explanation).
    """
    if isinstance(config, Mapping):
        config_path, config_json = None, json.dumps(config, default=_json_default)
        default_out = Path("runs") / "omix"
    elif isinstance(config, (str, os.PathLike)):
        config_path, config_json = str(config), None
        default_out = Path("runs") / Path(config).stem
    else:
        raise TypeError(f"config: a path to a TOML file or a dict, got {type(config).__name__}")
    out = Path(out) if out is not None else default_out
    _omix.train(str(out), _progress(progress), config_path, config_json, force, explain)
    return Run(out)


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"config dict: {value!r} ({type(value).__name__}) is not a TOML value")


def evaluate(
    run: Run | str | os.PathLike[str],
    input: str | os.PathLike[str] | None = None,
    labels: str | os.PathLike[str] | None = None,
    **source: Any,
) -> dict[str, Any]:
    """A run's metrics on labelled examples (``omix evaluate RUN --input ... --labels ...``).

    ``input``/``labels`` and any other key of a ``[data]`` source (``classes=[{"label":
    "bound", "path": "pos.fa"}, ...]``, ``seq_column``, ``label_column``, ``id_column``,
    ``format``) name the examples; they are fitted to the model's length by the run's policy.
    Returns the metrics as ``omix evaluate --output`` writes them, with ``examples``.
    """
    path = run.path if isinstance(run, Run) else Path(run)
    keys = dict(source)
    if input is not None:
        keys["input"] = os.fspath(input)
    if labels is not None:
        keys["labels"] = os.fspath(labels)
    text, examples = _omix.evaluate(str(path), json.dumps(keys, default=_json_default))
    metrics = json.loads(text)
    if isinstance(metrics, dict):
        metrics["examples"] = examples
    return metrics
