"""Exporting: reads of every report the caller may see, in pages, rendered in one format."""

from __future__ import annotations

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.errors import InvalidInput
from services.sharing.vault.domain import Search
from services.sharing.vault.exports.formats import EXPORTERS
from services.sharing.vault.exports.formats.base import Export, ExportedReport, Exporter, exported
from services.sharing.vault.service import ReadService

PAGE = 200
MAX_REPORTS = 5_000


def exporter(fmt: str) -> Exporter:
    """The exporter of a format name (422 naming the formats there are)."""
    found = EXPORTERS.get(fmt)
    if found is None:
        raise InvalidInput(
            f"unknown export format {fmt!r}",
            fields=[{"path": "format", "reason": f"one of {', '.join(EXPORTERS)}"}],
        )
    return found


async def export_reports(
    reads: ReadService,
    principal: Principal,
    search: Search,
    fmt: str,
    *,
    limit: int = MAX_REPORTS,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[Exporter, bytes]:
    """Up to `limit` reports the caller may read, oldest update first, as `fmt`.

    Each page is a read like any other: decided by policy, decrypted, and in the read log and
    the audit chain (as `export:<format>`) before anything is rendered.
    """
    chosen = exporter(fmt)
    reports: list[ExportedReport] = []
    position: tuple[int, str] | None = None
    while len(reports) < limit:
        page = await reads.search(
            principal, search, position, min(PAGE, limit - len(reports)), via=f"export:{fmt}"
        )
        # Erased reports (tombstones) and unreadable ones carry no content to export.
        reports += [exported(v, reads.catalogue) for v in page["reports"] if "report" in v]
        position = page["position"]
        if not page["has_more"]:
            break
    return chosen, chosen.render(Export(reports, reads.catalogue, clock.now()))
