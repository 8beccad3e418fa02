"""Entry point of the `lifeline` command: builds the parser from every command group."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import cast

import httpx

from libs.common.errors import LifelineError
from lifeline.cli import exits
from lifeline.cli.base import CliError, Parser, Subparsers, print_error
from lifeline.client import as_cli_error

EPILOG = f"""\
Add --json to any command for JSON on stdout, and errors as one JSON object on stderr
({{"code", "detail", "exit"}}). Exit statuses:
{exits.table()}
`lifeline completion bash|zsh|tcsh|fish` prints a shell completion script."""


def package_version() -> str:
    """The installed version of the `lifeline` distribution."""
    try:
        return version("lifeline")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


class _Version(argparse.Action):
    """`--version`: reads the installed metadata only when asked (it costs every start else)."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"lifeline {package_version()}")
        parser.exit()


def build_parser(*, only_up: bool = False) -> argparse.ArgumentParser:
    """The full parser: one sub-command group per module; `only_up`: the `up` command alone."""
    parser = Parser(
        prog="lifeline",
        description="Lifeline: secure incident sharing and rapid-response alerts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--json", action="store_true", help="print JSON (any command)")
    sub = cast(Subparsers, parser.add_subparsers(dest="command", metavar="COMMAND"))
    if only_up:
        from lifeline.cli import up

        up.register(sub)
    else:
        _register_all(parser, sub)
    for _, command in leaf_parsers(parser):
        _json_anywhere(command)
    return parser


def _register_all(parser: argparse.ArgumentParser, sub: Subparsers) -> None:
    from lifeline.cli import (
        access_token,
        admin,
        alerts,
        backup,
        bus,
        completion,
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

    for module in (
        up,
        seal,
        bus,
        keygen,
        enrol,
        login,
        access_token,
        admin,
        profile,
        report,
        identity,
        watchlist,
        alerts,
        backup,
    ):
        module.register(sub)
    completion.register(sub, parser)


def _command(words: Sequence[str]) -> str | None:
    """The command word: the first that is no global option (none of them takes a value)."""
    return next((w for w in words if not w.startswith("-")), None)


def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command (a parser without sub-commands), once, with its words."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups and path:
        yield path, parser
    for group in groups:
        seen: set[int] = set()
        for name, child in group.choices.items():
            if id(child) not in seen:  # aliases map to the same parser
                seen.add(id(child))
                yield from leaf_parsers(child, (*path, name))


def _json_anywhere(command: argparse.ArgumentParser) -> None:
    """A command's own `--json` must not reset the global one: `lifeline --json report …`
    and `lifeline report … --json` both work (argparse copies a sub-command's defaults over)."""
    action = command._option_string_actions.get("--json")
    if action is not None:
        action.default = argparse.SUPPRESS


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become one line (or one JSON object) on stderr unless --debug."""
    words = list(sys.argv[1:] if argv is None else argv)
    # `lifeline up` stays resident as the network's supervisor: it loads its own command
    # alone, not the modules of every other command (tens of MB it would hold all its life).
    parser = build_parser(only_up=_command(words) == "up")
    Parser.json_errors = "--json" in words
    args = parser.parse_args(words)
    if args.command is None:
        # Like git: a bare `lifeline` shows what there is, as the usage error it is.
        parser.print_help()
        return exits.Exit.USAGE
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return exits.Exit.INTERRUPTED
    except (CliError, LifelineError, OSError, httpx.HTTPError) as exc:
        if args.debug:
            traceback.print_exc()
        error = as_cli_error(exc)
        print_error(error, as_json=args.json)
        return error.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
