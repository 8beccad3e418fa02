"""`lifeline identity`: pseudonymous identities (canonical keys, OPRF tokens, the match rule)."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from libs.common.identity.evaluation import (
    EvalResult,
    decision_line,
    read_pairs,
    run_eval,
    summary_lines,
)
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.identity.tokens import LocalEvaluator
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import emit

# The eval command's throwaway key: generated per run, held in memory, never written anywhere.
_EVAL_KEY_VERSION = 1


def register(sub: Subparsers) -> None:
    """Add `identity` and its sub-commands to the top-level parser."""
    parser = sub.add_parser(
        "identity",
        help="pseudonymous identities: canonical keys, OPRF tokens, matching",
        description="Pseudonymous identities: canonical keys, OPRF tokens and the match rule.",
    )
    commands = parser.add_subparsers(dest="identity_command", required=True, metavar="COMMAND")
    evaluate = commands.add_parser(
        "eval",
        help="measure the matcher on labelled pairs",
        description=(
            "Tokenise both identities of every pair through the real canonicaliser and OPRF "
            "(blind, evaluate with a throwaway in-process key, finalize), apply the match rule "
            "and print recall per P* class, alert rate per N* class and throughput. Labels "
            "('class', 'same_person') are read only to report, never to decide."
        ),
    )
    evaluate.add_argument(
        "--pairs", required=True, type=Path, metavar="FILE.jsonl", help="labelled pairs"
    )
    evaluate.add_argument(
        "--out", type=Path, metavar="DECISIONS.jsonl", help='write {"id", "decision"} lines here'
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    """Run the evaluation and print aggregate figures only."""
    try:
        with args.pairs.open(encoding="utf-8") as handle:
            pairs = read_pairs(handle)
    except (OSError, UnicodeDecodeError) as exc:
        detail = getattr(exc, "strerror", None) or exc
        raise CliError(f"cannot read {args.pairs}: {detail}") from None
    if not pairs:
        raise CliError(f"{args.pairs} holds no pairs")
    with ExitStack() as stack:
        # Opened before the run, so a bad --out fails at once rather than after it.
        out = None
        if args.out is not None:
            try:
                out = stack.enter_context(args.out.open("w", encoding="utf-8"))
            except OSError as exc:
                raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        key = PrfKeyRing().add(_EVAL_KEY_VERSION, new_seed())
        result = run_eval(pairs, LocalEvaluator(key), key.version)
        if out is not None:
            out.writelines(decision_line(i, m) + "\n" for i, m in result.decisions)
    emit(args, _figures(result), lambda: "\n".join(summary_lines(result)))
    return 0


def _figures(result: EvalResult) -> dict[str, Any]:
    """The aggregate figures as JSON: per class label, then totals and speed."""
    return {
        "classes": {
            label: {
                "pairs": t.pairs,
                "strong": t.strong,
                "possible": t.possible,
                "alerts": t.alerts,
                "rate": t.rate,
            }
            for label, t in result.tallies.items()
        },
        "identities": result.identities,
        "tokens": result.tokens,
        "max_tokens": result.max_tokens,
        "seconds": round(result.seconds, 3),
        "identities_per_second": round(result.identities_per_second, 1),
    }
