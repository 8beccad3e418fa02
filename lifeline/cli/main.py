"""Entry point of the `lifeline` command: builds the parser from every command group."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from importlib import import_module
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


# Every top-level command, in the order `lifeline --help` lists them: its module and its help.
# Only the chosen command's module is imported (the others pull in FastAPI, SQLAlchemy and the
# services' settings: about a second of CPU at every start); a test keeps this table true.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("up", "start nats-server, sharing, intake and alerts on this machine"),
    "seal": ("seal", "the root key that seals every key at rest"),
    "unseal": ("seal", "unseal every service of a running sealed network"),
    "bus": ("bus", "the event bus's certificates (mutual TLS identities)"),
    "keygen": ("keygen", "create your client key pair and print the public key to register"),
    "enrol": (
        "enrol",
        "register this device's key with a one-time enrolment code from your administrator",
    ),
    "login": ("login", "check your credentials and show your scopes (saves them in the profile)"),
    "token": (
        "access_token",
        'print an access token of your client (for curl: -H "Authorization: Bearer …")',
    ),
    "admin": ("admin", "administer the network (partners, clients, keys, audit)"),
    "profile": ("profile", "show or change the CLI profile (URLs, client id, key path)"),
    "report": ("report", "write, submit and follow incident reports"),
    "identity": ("identity", "pseudonymous identities: canonical keys, OPRF tokens, matching"),
    "watchlist": ("watchlist", "your clients: add (tokenised locally), import, list, remove"),
    "alerts": ("alerts", "your alerts (list, show, ack, resolve) and how you are reached"),
    "backup": ("backup", "back up a running network and restore it"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser: every command group, or only `only`'s with the others listed by name."""
    from lifeline.cli import completion

    parser = Parser(
        prog="lifeline",
        description="Lifeline: secure incident sharing and rapid-response alerts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--json", action="store_true", help="print JSON (any command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = COMMANDS[only][0] if only in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        if name in sub.choices:
            continue  # registered with an earlier name of its module (`unseal` with `seal`)
        if chosen is None or module == chosen:
            import_module(f"lifeline.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    completion.register(cast(Subparsers, sub), parser)
    for _, command in leaf_parsers(parser):
        _json_anywhere(command)
    return parser


def chosen_command(words: Sequence[str]) -> str | None:
    """The command word of a command line (global options take no value), if it names one."""
    first = next((w for w in words if not w.startswith("-")), None)
    return first if first in COMMANDS else None


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
    parser = build_parser(only=chosen_command(words))
    Parser.json_errors = "--json" in words
    args = parser.parse_args(words)
    if args.command is None:
        # Like git: a bare `lifeline` shows what there is, as the usage error it is.
        parser.print_help()
        return exits.Exit.USAGE
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return exits.Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader left (`lifeline completion zsh | head`): as `cat` does, stop quietly; point
        # stdout at /dev/null so the interpreter's own flush at exit cannot complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.Exit.FAILURE
    except (CliError, LifelineError, OSError, httpx.HTTPError) as exc:
        if args.debug:
            traceback.print_exc()
        error = as_cli_error(exc)
        print_error(error, as_json=args.json)
        return error.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
