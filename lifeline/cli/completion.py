"""`lifeline completion SHELL`: a static completion script generated from the parser (shtab)."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from lifeline.cli.base import Subparsers
from lifeline.client import emit

SHELLS = ("bash", "zsh", "tcsh", "fish")


def register(sub: Subparsers, root: argparse.ArgumentParser) -> None:
    """Add `lifeline completion SHELL`; the script describes `root`, the whole parser."""
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, tcsh, fish)",
        description=(
            "Print a completion script for SHELL on stdout. Bash: "
            "`lifeline completion bash > ~/.local/share/bash-completion/completions/lifeline`; "
            "zsh: `lifeline completion zsh > ~/.zfunc/_lifeline` (with ~/.zfunc on $fpath); "
            "fish: `lifeline completion fish > ~/.config/fish/completions/lifeline.fish`. "
            "Regenerate it after an upgrade."
        ),
    )
    p.add_argument("shell", choices=SHELLS)
    p.add_argument("--json", action="store_true", help='print {"shell", "script"}')
    p.set_defaults(func=functools.partial(run, root))


def run(root: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Print the script."""
    import shtab  # only this command needs it: every other command starts without it

    _complete_paths(root, shtab.FILE)
    script = shtab.complete(root, shell=args.shell)
    emit(args, {"shell": args.shell, "script": script}, lambda: script.rstrip("\n"))
    return 0


def _complete_paths(parser: argparse.ArgumentParser, files: object) -> None:
    """Offer file names wherever an option or argument is a path."""
    for action in parser._actions:
        if action.type is Path:
            action.complete = files  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                _complete_paths(child, files)
