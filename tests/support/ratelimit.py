"""A strict reader of the RateLimit headers (structured-field lists, RFC 8941) for tests."""

from __future__ import annotations

import re
from collections.abc import Mapping

# One list member: an sf-string naming the policy, then integer parameters (RFC 8941 §3.1.2).
_STRING = r'"(?P<name>(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"'
_PARAMS = r"(?P<params>(?:;[a-z*][a-z0-9_.*-]*=-?[0-9]{1,15})*)"
_MEMBER = re.compile(_STRING + _PARAMS)
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


def parse_list(value: str) -> dict[str, dict[str, int]]:
    """`{"name": {param: int}}` of a list of named items; AssertionError if it is not one."""
    members: dict[str, dict[str, int]] = {}
    position = 0
    while True:
        match = _MEMBER.match(value, position)
        assert match, f"not a structured-field list member at {position}: {value!r}"
        params = dict(p.split("=") for p in match["params"].split(";")[1:])
        assert match["name"] not in members, f"policy named twice: {value!r}"
        members[match["name"]] = {k: int(v) for k, v in params.items()}
        position = match.end()
        if position == len(value):
            return members
        separator = _SEPARATOR.match(value, position)
        assert separator, f"expected `,` at {position}: {value!r}"
        position = separator.end()


def ratelimit_of(headers: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Each policy's q, w, r and t from `RateLimit-Policy` and `RateLimit`, checked to agree."""
    policies = parse_list(headers["RateLimit-Policy"])
    limits = parse_list(headers["RateLimit"])
    assert set(policies) == set(limits), (policies, limits)
    merged = {}
    for name, policy in policies.items():
        assert set(policy) == {"q", "w"} and set(limits[name]) == {"r", "t"}, (policy, limits)
        assert policy["q"] > 0 and policy["w"] > 0
        assert 0 <= limits[name]["r"] <= policy["q"] and limits[name]["t"] >= 0
        merged[name] = {**policy, **limits[name]}
    return merged
