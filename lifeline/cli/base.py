"""Shared pieces of the command-line tool: the error type, the registry type, a progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO, TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """An error the user can act on: printed as one line, exit status 1 (no traceback)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def render_bar(done: int, total: int, width: int = 30) -> str:
    """`[#####.....] 5/10`: the text of one progress bar frame."""
    filled = min(width, width * done // max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class ProgressBar:
    """A bar redrawn in place on a terminal; silent when stderr is a pipe or a log file."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.drawn = False

    def update(self, done: int) -> None:
        """Redraw with `done` of `total` finished."""
        if self.live:
            self.stream.write("\r" + render_bar(done, self.total))
            self.stream.flush()
            self.drawn = True

    def close(self) -> None:
        """End the bar's line so that what follows starts on its own."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
