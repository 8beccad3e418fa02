"""Entry point of the `lifeline` command: builds the parser from every command group."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from libs.common.errors import LifelineError
from lifeline.cli.base import CliError, Parser


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one sub-command group per module."""
    from lifeline.cli import (
        admin,
        alerts,
        backup,
        bus,
        enrol,
        identity,
        keygen,
        login,
        profile,
        report,
        seal,
        up,
        watchlist,
    )

    parser = Parser(
        prog="lifeline", description="Lifeline: secure incident sharing and rapid-response alerts."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        up,
        seal,
        bus,
        keygen,
        enrol,
        login,
        admin,
        profile,
        report,
        identity,
        watchlist,
        alerts,
        backup,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become one line on stderr unless --debug."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except (CliError, LifelineError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"lifeline: error: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, CliError) else 1
    return code


if __name__ == "__main__":
    sys.exit(main())
