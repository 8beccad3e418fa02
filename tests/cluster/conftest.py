"""The cluster tier runs only against a PostgreSQL server (its replicas share one)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import PG_ENV, PG_SKIP_REASON
from tests.support.databases import PgScratch


@pytest.fixture
def cluster_pg() -> Iterator[PgScratch]:
    """The server the replicas' databases are made on (fresh ones for each run)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    scratch = PgScratch(url, ahead=0)
    yield scratch
    scratch.close()
