"""How the Python package shows what the library reports: messages as printed lines, and a
progress bar per stage (tqdm.auto where installed: a widget in Jupyter, a bar in a terminal)."""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """Receives the library's events (``message``, ``start``, ``advance``, ``finish``).

    Any object with these four methods can be passed as ``progress=`` instead.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream
        self._bar: Any = None

    def message(self, line: str) -> None:
        """One line for the user (a data summary, an epoch's numbers, a warning)."""
        if self._bar is not None:
            self._bar.write(line)
        else:
            print(line, file=self.stream or sys.stdout, flush=True)

    def start(self, what: str, total: int) -> None:
        """A counted stage begins."""
        self.finish()
        if self.quiet:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, desc=what, leave=False)

    def advance(self, done: int, note: str) -> None:
        """``done`` steps of the stage are finished; ``note`` is a short status."""
        if self._bar is not None:
            self._bar.n = done
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.refresh()

    def finish(self) -> None:
        """The stage has ended."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
