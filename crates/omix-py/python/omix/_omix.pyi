"""Type stubs of the extension module ``omix._omix`` (the Rust half of ``omix``; call the
functions of ``omix`` itself, which check their arguments first)."""

from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

class OmixError(Exception):
    """An error from omix: a file, line or setting and what is wrong with it."""

def set_threads(threads: int) -> None:
    """Use ``threads`` threads for every later computation (0: all cores)."""

def get_threads() -> int:
    """The number of threads computations use."""

def one_hot(sequences: list[str], alphabet: str = "dna", ambiguity: str = "zero") -> npt.NDArray[np.float32]: ...
def reverse_complement_strings(sequences: list[str], alphabet: str = "dna") -> list[str]: ...
def reverse_complement_one_hot(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
def shuffle_strings(sequences: list[str], n: int = 1, seed: int = 0) -> list[list[str]]: ...
def shuffle_one_hot(
    x: npt.NDArray[np.float32], n: int = 1, seed: int = 0, alphabet: str = "dna"
) -> npt.NDArray[np.float32]: ...
def train(
    out: str,
    progress: Any,
    config_path: str | None = None,
    config_json: str | None = None,
    force: bool = False,
    explain: bool = True,
) -> list[str]: ...
def evaluate(run: str, source_json: str) -> tuple[str, int]: ...

class NativeRun:
    def __init__(self, path: str | PathLike[str]) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def length(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def alphabet(self) -> str: ...
    @property
    def output_names(self) -> list[str]: ...
    @property
    def averages_strands(self) -> bool: ...
    def read_text(self, name: str) -> str: ...
    def predict_one_hot(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]: ...
    def predict_sequences(self, sequences: list[str]) -> npt.NDArray[np.float64]: ...
    def encode(self, sequences: list[str]) -> npt.NDArray[np.float32]: ...
    def output_index(self, target: str) -> int: ...
    def explain(
        self,
        x: npt.NDArray[np.float32],
        method: str,
        output: int = 0,
        ig_steps: int = 32,
        ig_baseline: str = "zeros",
        batch_size: int = 64,
        seed: int = 42,
        shap_references: int = 20,
        hypothetical: bool = False,
    ) -> npt.NDArray[np.float32]: ...
    def score_variants(
        self,
        vcf: str,
        reference: str,
        out: str,
        progress: Any,
        average_strands: bool | None = None,
        skip_mismatches: bool = False,
        batch_size: int = 1024,
    ) -> str: ...
