"""deploy/Dockerfile builds a hash-pinned, non-root image; .dockerignore keeps the context clean."""

from __future__ import annotations

import re

from tests.support.deploy import (
    DOCKERFILE,
    HEALTHZ,
    PROCESSES,
    PYTHON_BASE,
    ROOT,
    SECRET_WORDS,
    SERVICES,
    assert_env_names,
    assert_importable_service,
    default_port,
    module_of,
    prefix_of,
)
from tests.support.dockerfile import (
    copies,
    dockerfile_args,
    dockerfile_env,
    dockerfile_instructions,
    dockerfile_stages,
    dockerignored,
    exec_form,
    healthcheck_script_in_image,
    image_uid,
    pip_installs,
)


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    args = dockerfile_args()
    for stage in stages:
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m[1]], image)
        assert PYTHON_BASE.match(image), image


def test_dockerfile_installs_only_hash_pinned_dependencies() -> None:
    installs = pip_installs()
    deps = [i for i in installs if "-r" in i]
    assert len(deps) == 1, installs
    assert {"--require-hashes", "--no-deps"} <= set(deps[0])
    assert deps[0][deps[0].index("-r") + 1] == "constraints.txt"
    project = [i for i in installs if "." in i]
    assert len(project) == 1 and "--no-deps" in project[0], installs
    assert installs.index(deps[0]) < installs.index(project[0])
    for install in installs:
        assert "--no-deps" in install, f"unpinned dependencies could slip in: {install}"
        for flag in ("-i", "--index-url", "--extra-index-url", "--trusted-host", "--find-links"):
            assert not any(a == flag or a.startswith(flag + "=") for a in install), flag
    assert "://" not in DOCKERFILE.read_text(), "the Dockerfile names no outside address"
    copied = {src for sources, _ in copies() for src in sources}
    assert {"constraints.txt", "pyproject.toml", "libs", "services", "lifeline"} <= copied


def test_constraints_pin_every_package_with_a_hash() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "constraints.txt").read_text())
    pins = [b for b in blocks if re.match(r"^[A-Za-z0-9][\w.-]*(\[[\w,]+\])?==", b)]
    assert len(pins) > 10
    for block in pins:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_dockerfile_runs_a_service_as_non_root() -> None:
    assert image_uid() != 0
    assert re.search(rf"useradd\b[^&]*--uid {image_uid()}\b", DOCKERFILE.read_text())
    final = dict(dockerfile_stages()[-1])
    cmd = exec_form(final["CMD"])
    assert module_of(cmd) in {f"services.{s}" for s in SERVICES}
    assert_importable_service(module_of(cmd), module_of(cmd).removeprefix("services."))
    exposed = {int(p.split("/")[0]) for p in final["EXPOSE"].split()}
    assert exposed == {default_port(s) for s in PROCESSES}, "the services' and the console's"


def test_dockerfile_healthcheck_hits_healthz(app_paths: dict[str, set[str]]) -> None:
    final = dict(dockerfile_stages()[-1])
    check = final["HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--interval" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", healthcheck_script_in_image()]
    assert argv[2:] == [HEALTHZ], "the image cannot know its service: the script finds it"
    assert all(HEALTHZ in paths for paths in app_paths.values())


def test_dockerfile_env_is_settings_and_no_secret() -> None:
    for name, _ in dockerfile_instructions():
        assert name != "ADD", "use COPY"
    env = dockerfile_env()
    for name in env:
        assert not SECRET_WORDS.search(name), f"{name}: secrets are given at run time"
        if name.startswith("LIFELINE_"):
            owner = next((s for s in PROCESSES if name.startswith(prefix_of(s))), None)
            assert owner, name
            assert_env_names(owner, {name: env[name]}, "Dockerfile")
    for arg in dockerfile_args():
        assert not SECRET_WORDS.search(arg), f"ARG {arg} would be baked into the image"


def test_dockerignore_keeps_the_context_small_and_clean() -> None:
    for path in (".git", ".git/config", ".venv", ".venv/bin/python", "data", "data/intake.db"):
        assert dockerignored(path), path
    for path in ("deploy/.env", "libs/common/__pycache__/web.cpython-311.pyc", "x/intake.db"):
        assert dockerignored(path), path
    needed = [src for sources, _ in copies() for src in sources]
    needed += [
        "libs/common/settings.py",
        "services/intake/__main__.py",
        "services/sharing/migrations/versions/0001_initial.py",
        "services/alerts/migrations/script.py.mako",
    ]
    for path in needed:
        assert (ROOT / path).exists(), f"COPY {path}: no such file"
        assert not dockerignored(path), f"{path} is needed but .dockerignore drops it"
