"""Shared pieces of the command-line tool: the error type, the registry type, a progress bar."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TextIO, TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


# Key ids are base64url (RFC 7638 thumbprints, 43 characters; vault key ids, 22): one in four
# begins with "-", which argparse would take for an option and refuse.
_KID_LIKE = re.compile(r"-[A-Za-z0-9_-]{42}|-[A-Za-z0-9_-]{21}")


class Parser(argparse.ArgumentParser):
    """argparse, except that an argument shaped like a key id is a value even if it starts with
    "-" (unless it is one of the command's options)."""

    def _parse_optional(self, arg_string: str) -> tuple[object, ...] | None:  # type: ignore[override]
        if _KID_LIKE.fullmatch(arg_string) and arg_string not in self._option_string_actions:
            return None
        return super()._parse_optional(arg_string)


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
