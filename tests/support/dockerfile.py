"""Read deploy/Dockerfile (instructions, stages, RUN, COPY) and apply .dockerignore's rules."""

from __future__ import annotations

import posixpath
import re
import shlex

import yaml

from tests.support.deploy import (
    DOCKERFILE,
    ROOT,
)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "dangling line continuation"
    out = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, FROM first."""
    stages: list[list[tuple[str, str]]] = []
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, args))
    return stages


def dockerfile_args() -> dict[str, str]:
    """ARG defaults."""
    args = {}
    for instruction, rest in dockerfile_instructions():
        if instruction == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
    return args


def dockerfile_env() -> dict[str, str]:
    """ENV values of every stage."""
    env = {}
    for instruction, rest in dockerfile_instructions():
        if instruction == "ENV":
            for token in shlex.split(rest):
                key, sep, value = token.partition("=")
                assert sep, f"use ENV KEY=value: {token}"
                env[key] = value
    return env


def run_commands() -> list[list[str]]:
    """Every shell command of every RUN, split on `&&`."""
    commands = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "RUN":
            commands.extend(shlex.split(part) for part in rest.split("&&"))
    return commands


def pip_installs() -> list[list[str]]:
    """The arguments after `install` of every pip install."""
    return [
        cmd[cmd.index("install") + 1 :]
        for cmd in run_commands()
        if "install" in cmd and ("pip" in cmd or cmd[:3] == ["python", "-m", "pip"])
    ]


def exec_form(args: str) -> list[str]:
    """The argv of an exec-form (JSON list) CMD or HEALTHCHECK."""
    value = yaml.safe_load(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return [str(v) for v in value]


def copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of COPY instructions from the build context."""
    out = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "COPY" and "--from=" not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            out.append((parts[:-1], parts[-1]))
    return out


def healthcheck_script_in_image() -> str:
    """Where the image puts deploy/healthcheck.py."""
    for sources, dest in copies():
        if sources == ["deploy/healthcheck.py"]:
            return dest
    raise AssertionError("the Dockerfile does not copy deploy/healthcheck.py")


def image_uid() -> int:
    """The numeric user the final stage runs as."""
    stages = dockerfile_stages()
    users = [args for instruction, args in stages[-1] if instruction == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "use a numeric USER so runAsNonRoot can verify it"
    return int(uid)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            body = line.removeprefix("!").strip().strip("/")
            patterns.append((negated, _pattern_regex(body)))
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, regex in patterns:
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negated
    return excluded


def stage_named(name: str) -> list[tuple[str, str]]:
    """The instructions of the stage `FROM … AS <name>`."""
    for stage in dockerfile_stages():
        if stage[0][1].split()[-1] == name and " AS " in f" {stage[0][1].upper()} ":
            return stage
    raise AssertionError(f"no stage named {name}")


def stage_commands(stage: list[tuple[str, str]]) -> list[tuple[int, list[str], str]]:
    """(instruction index, argv, directory it runs in) of every shell command of a stage's
    RUNs, split on `&&`, following WORKDIR and `cd`."""
    out = []
    workdir = "/"
    for index, (instruction, rest) in enumerate(stage):
        if instruction == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
        elif instruction == "RUN":
            cwd = workdir
            for part in rest.split("&&"):
                argv = shlex.split(part)
                if argv[:1] == ["cd"]:
                    cwd = posixpath.join(cwd, argv[1])
                out.append((index, argv, cwd))
    return out


def stage_copies(stage: list[tuple[str, str]]) -> list[tuple[int, list[str], str, str]]:
    """(instruction index, sources, destination, `--from` stage or "") of a stage's COPYs, the
    destination resolved against WORKDIR."""
    out = []
    workdir = "/"
    for index, (instruction, rest) in enumerate(stage):
        if instruction == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
        elif instruction == "COPY":
            tokens = shlex.split(rest)
            source_stage = next(
                (t.removeprefix("--from=") for t in tokens if t.startswith("--from=")), ""
            )
            parts = [t for t in tokens if not t.startswith("--")]
            out.append((index, parts[:-1], posixpath.join(workdir, parts[-1]), source_stage))
    return out
