"""What Lifeline's processes leave unloaded: third-party parts no process ever calls."""

from __future__ import annotations

import sys
import types


def skip_httpx_cli() -> None:
    """Keep httpx's command-line client (click, rich, pygments) out of this process.

    `import httpx` imports it for `httpx.main`, which no Lifeline process calls: ~6 MB
    resident in each of them. A placeholder for `httpx._main` makes that import fail, and
    httpx falls back, as it does when the CLI extras are missing. Only this process is
    affected (the `httpx` command runs in its own); a no-op once httpx is loaded.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))
