"""The CLI's conventions: exit statuses, --json on every command, --version, help, completion."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from libs.common.errors import Forbidden, Gone, InvalidInput, Unavailable
from libs.sdk import TokenRequestError
from libs.sdk.credentials import CredentialError
from lifeline.cli.exits import MEANINGS, Exit, for_batch, for_exception, for_status
from lifeline.cli.main import (
    COMMANDS,
    build_parser,
    chosen_command,
    leaf_parsers,
    main,
    package_version,
)
from lifeline.client import api_error, error_code
from lifeline.ready import cli_hint

LIFELINE = str(Path(sys.executable).parent / "lifeline")


@pytest.mark.parametrize(
    ("status", "exit_code"),
    [
        (400, Exit.REJECTED), (409, Exit.REJECTED), (413, Exit.REJECTED), (422, Exit.REJECTED),
        (401, Exit.AUTH), (403, Exit.AUTH), (404, Exit.NOT_FOUND), (410, Exit.NOT_FOUND),
        (429, Exit.RATE_LIMITED), (502, Exit.UNREACHABLE), (503, Exit.UNREACHABLE),
        (504, Exit.UNREACHABLE), (500, Exit.FAILURE),
    ],
)  # fmt: skip
def test_each_http_refusal_has_its_exit_status(status: int, exit_code: Exit) -> None:
    assert for_status(status) is exit_code
    # The same mapping whether the answer is read by the CLI or raised by raise_for_status().
    response = httpx.Response(status, request=httpx.Request("GET", "http://sharing/x"))
    assert api_error(response).exit_code is exit_code
    error = httpx.HTTPStatusError("refused", request=response.request, response=response)
    assert for_exception(error) is exit_code


def test_errors_below_the_command_map_to_one_status_each() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/")
    assert for_exception(httpx.ConnectError("refused", request=request)) is Exit.UNREACHABLE
    assert for_exception(httpx.ReadTimeout("slow", request=request)) is Exit.UNREACHABLE
    assert for_exception(TokenRequestError("unreachable")) is Exit.UNREACHABLE
    revoked = TokenRequestError("refused", http_status=400, oauth_error="invalid_client")
    assert for_exception(revoked) is Exit.AUTH
    assert for_exception(TokenRequestError("x", http_status=503)) is Exit.UNREACHABLE
    assert for_exception(TokenRequestError("x", http_status=429)) is Exit.RATE_LIMITED
    assert for_exception(InvalidInput("bad")) is Exit.REJECTED
    assert for_exception(Forbidden()) is Exit.AUTH
    assert for_exception(Gone()) is Exit.NOT_FOUND
    assert for_exception(Unavailable()) is Exit.UNREACHABLE
    assert for_exception(CredentialError("wrong passphrase")) is Exit.CONFIG
    assert for_exception(FileNotFoundError(2, "missing")) is Exit.NOT_FOUND
    assert for_exception(RuntimeError("a bug")) is Exit.FAILURE


def test_a_batch_is_all_in_partly_in_or_none_in_and_why() -> None:
    assert for_batch(delivered=3, rejected=0, failed=0) is Exit.OK
    assert for_batch(delivered=2, rejected=1, failed=0) is Exit.PARTIAL
    assert for_batch(delivered=2, rejected=0, failed=1) is Exit.PARTIAL
    assert for_batch(delivered=0, rejected=2, failed=0) is Exit.REJECTED
    assert for_batch(delivered=0, rejected=1, failed=1) is Exit.UNREACHABLE


def test_the_exit_statuses_are_documented_in_help_and_readme() -> None:
    assert {int(e) for e in MEANINGS} == {int(e) for e in Exit}
    assert len({int(e) for e in Exit}) == len(Exit)  # no two names for one status
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    help_text = build_parser().format_help()
    for code, meaning in MEANINGS.items():
        assert f"{int(code):>3}  {meaning}" in help_text
        assert f"| {int(code)} |" in readme, f"README lacks exit status {int(code)}"


@pytest.mark.parametrize("key", ["code", "error"])
def test_api_errors_are_read_in_both_body_shapes(key: str) -> None:
    # RFC 9457 problem details carry `code`; the older bodies `error`.
    body = {key: "invalid_input", "detail": "no", "fields": [{"path": "a", "reason": "b"}]}
    response = httpx.Response(422, json=body)
    error = api_error(response)
    assert error_code(body) == "invalid_input"
    assert (error.code, error.status, error.exit_code) == ("invalid_input", 422, Exit.REJECTED)
    assert error.as_json() == {
        "code": "invalid_input",
        "detail": "HTTP 422 invalid_input: no (a: b)",
        "exit": 65,
        "status": 422,
        "fields": [{"path": "a", "reason": "b"}],
    }
    assert error_code(["not", "a", "dict"]) is None


def test_every_command_declares_json() -> None:
    """A new command without its own --json fails here (and the next test shows it works)."""
    commands = [path for path, _ in leaf_parsers(build_parser())]
    assert ("report", "show") in commands and ("report", "erase") in commands
    assert ("token",) in commands and ("completion",) in commands
    missing = [
        " ".join(path)
        for path, parser in leaf_parsers(build_parser())
        if "--json" not in parser._option_string_actions
    ]
    assert not missing, f"commands without --json: {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_parses_as_in_the_full_parser_with_only_its_module_loaded(name: str) -> None:
    """The lazy parser lists every command as the full one does, and builds the chosen one whole."""
    full, lazy = build_parser(), build_parser(only=name)
    assert lazy.format_help() == full.format_help()
    ours = [p for p, _ in leaf_parsers(full) if p[0] == name]
    assert ours and ours == [p for p, _ in leaf_parsers(lazy) if p[0] == name]


def test_the_command_word_comes_after_the_global_options() -> None:
    assert chosen_command(["--json", "--debug", "report", "show", "r"]) == "report"
    assert chosen_command(["completion", "bash"]) is None  # completion needs every command
    assert chosen_command(["--version"]) is None


# What a command's parser may load beyond the SDK: `backup` reads the services' databases.
HEAVY_ALLOWED = {"backup": {"sqlalchemy"}}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_loads_only_its_own_module(name: str) -> None:
    """A command must not pay for FastAPI, SQLAlchemy and the services' settings at every start
    (about a second of CPU: a test set-up runs dozens of commands)."""
    heavy = ("fastapi", "alembic", "sqlalchemy", "services.sharing.settings")
    probe = (
        f"import sys; from lifeline.cli.main import build_parser; build_parser(only={name!r}); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(sorted(HEAVY_ALLOWED.get(name, set())))


def _dummy_argv(parser: argparse.ArgumentParser, tmp: Path) -> list[str]:
    """The fewest words the command's parser accepts: a value for every required argument."""
    required = [a for a in parser._actions if a.required or not a.option_strings]
    required += [g._group_actions[0] for g in parser._mutually_exclusive_groups if g.required]
    words: list[str] = []
    for action in required:
        if action.choices:
            value = sorted(action.choices)[0]
        elif action.type in (int, float):
            value = "1"
        else:
            value = str(tmp / "absent") if action.type is Path else "x"
        words += [action.option_strings[-1], value] if action.option_strings else [value]
    return words


def test_every_command_answers_json_even_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command with --json and no server: stdout is JSON or empty, and a failure is one
    JSON object on stderr with the exit status it ended with."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["keygen", "--out", str(tmp_path / "key.pem"), "--no-passphrase"]) == 0
    profile = tmp_path / "profile.json"
    closed = "http://127.0.0.1:1"  # nothing listens there: refused at once
    profile.write_text(json.dumps({
        "sharing_url": closed, "intake_url": closed, "alerts_url": closed,
        "client_id": "cli_x", "key_path": str(tmp_path / "key.pem"),
    }))  # fmt: skip
    monkeypatch.setenv("LIFELINE_PROFILE", str(profile))
    (tmp_path / "file").write_text("")
    capsys.readouterr()
    failures = 0
    for path, parser in leaf_parsers(build_parser()):
        if path == ("up",):  # a data directory under a file: it stops before starting anything
            argv = ["up", "--data-dir", str(tmp_path / "file" / "data")]
        else:
            argv = [*path, *_dummy_argv(parser, tmp_path)]
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        for words in ([*argv, "--json"], ["--json", *argv]):
            try:
                status = main(words)
            except SystemExit as exc:  # a usage error
                status = exc.code  # type: ignore[assignment]
            out, err = capsys.readouterr()
            if out.strip():
                json.loads(out)
            if status != 0:
                failures += 1
                error = json.loads(err.strip().splitlines()[-1])
                assert error["exit"] == status and error["code"] and error["detail"], words
    assert failures > 60  # most commands need the network: each said so in JSON


def test_lifeline_alone_prints_help_and_exits_with_the_usage_status() -> None:
    done = subprocess.run([LIFELINE], capture_output=True, text=True, timeout=30)
    assert done.returncode == Exit.USAGE == 64
    assert done.stdout.startswith("usage: lifeline") and "report" in done.stdout
    assert "Exit statuses" in done.stdout


def test_usage_errors_exit_64_and_are_json_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "show"])  # no report id
    assert exc.value.code == 64
    assert "the following arguments are required: report_id" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--json", "report", "show"])
    assert exc.value.code == 64
    error = json.loads(capsys.readouterr().err)
    assert error == {
        "code": "usage",
        "detail": "the following arguments are required: report_id",
        "exit": 64,
    }


def test_version_is_the_installed_package_version() -> None:
    done = subprocess.run([LIFELINE, "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert done.stdout.strip() == f"lifeline {package_version()}"
    assert package_version()[0].isdigit()


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh", "fish"])
def test_completion_scripts_name_every_command(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    words = ["report", "erase", "token", "completion", "watchlist"]
    if shell != "tcsh":  # shtab's tcsh scripts complete commands, not options
        words += ["--json", "--profile", "--yes"]
    for word in words:
        assert word in script, (shell, word)


def test_bash_completes_sub_commands(tmp_path: Path) -> None:
    """The generated bash script, sourced in a real bash, completes `lifeline report er`."""
    script = tmp_path / "lifeline.bash"
    made = subprocess.run([LIFELINE, "completion", "bash"], capture_output=True, text=True)
    script.write_text(made.stdout)
    probe = (
        f"source {script}; COMP_WORDS=(lifeline report er); COMP_CWORD=2; "
        "COMP_LINE='lifeline report er'; COMP_POINT=${#COMP_LINE}; "
        '_shtab_lifeline; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["erase"], done.stderr


def test_up_says_how_to_run_lifeline_unless_it_is_on_the_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    hint = cli_hint()
    assert f'  export PATH="{venv_bin}:$PATH"' in hint and "make shell" in hint[0]
    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")
    assert cli_hint() == []


def test_a_reader_that_leaves_early_gets_no_error_line() -> None:
    """`lifeline completion zsh | head -1`: the closed pipe is not an error worth a line."""
    reader = subprocess.Popen(
        [LIFELINE, "completion", "zsh"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()
    reader.stdout.close()  # like `head` leaving after its line
    err = reader.stderr.read()
    assert reader.wait(timeout=30) == 1
    assert err == b""
