"""Shared pieces of the command-line tool: the error type, the registry type, a progress bar."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn, TextIO, TypeAlias

from lifeline.cli.exits import Exit

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


# Key ids are base64url (RFC 7638 thumbprints, 43 characters; vault key ids, 22): one in four
# begins with "-", which argparse would take for an option and refuse.
_KID_LIKE = re.compile(r"-[A-Za-z0-9_-]{42}|-[A-Za-z0-9_-]{21}")


class Parser(argparse.ArgumentParser):
    """argparse, except that an argument shaped like a key id is a value even if it starts with
    "-" (unless it is one of the command's options)."""

    # Set by `main` when the command line asks for JSON, so usage errors come out as JSON too.
    json_errors: ClassVar[bool] = False

    def _parse_optional(self, arg_string: str) -> tuple[object, ...] | None:  # type: ignore[override]
        if _KID_LIKE.fullmatch(arg_string) and arg_string not in self._option_string_actions:
            return None
        return super()._parse_optional(arg_string)

    def error(self, message: str) -> NoReturn:
        """A usage error: exit status 64 (EX_USAGE), not argparse's 2."""
        if Parser.json_errors:
            print_error(CliError(message, Exit.USAGE, code="usage"), as_json=True)
        else:
            self.print_usage(sys.stderr)
            print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(Exit.USAGE)


class CliError(Exception):
    """An error the user can act on: one line (or one JSON object with --json), no traceback.

    `code` is the machine-readable reason (the API's error code when a service refused), and
    `exit_code` one of `Exit`.
    """

    def __init__(
        self,
        message: str,
        exit_code: int = Exit.FAILURE,
        *,
        code: str = "error",
        status: int | None = None,
        fields: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.status = status
        self.fields = fields or []

    def as_json(self) -> dict[str, Any]:
        """`{"code", "detail", "exit"}`, with the HTTP status and field errors when known."""
        body: dict[str, Any] = {"code": self.code, "detail": str(self), "exit": int(self.exit_code)}
        if self.status is not None:
            body["status"] = self.status
        if self.fields:
            body["fields"] = self.fields
        return body


def print_error(exc: CliError, *, as_json: bool) -> None:
    """One line on stderr: `lifeline: error: …`, or the error as one JSON object."""
    if as_json:
        print(json.dumps(exc.as_json(), sort_keys=True), file=sys.stderr)
    else:
        print(f"lifeline: error: {exc}", file=sys.stderr)


def confirm(question: str, *, refused: str, word: str | None = None) -> None:
    """Ask on the terminal before something that cannot be undone (`word` must be typed, else
    y/N); without a terminal, refuse with the usage status: the caller must say --yes."""
    if not sys.stdin.isatty():
        raise CliError(
            "no terminal to ask for a confirmation on: add --yes",
            Exit.USAGE,
            code="confirmation_required",
        )
    # On stderr, so that stdout stays the command's result (--json).
    prompt = f"Type '{word}' to go on: " if word else "[y/N] "
    print(f"{question}\n{prompt}", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip()
    if (answer != word) if word else (answer.lower() not in ("y", "yes")):
        raise CliError(refused, Exit.FAILURE, code="cancelled")


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
