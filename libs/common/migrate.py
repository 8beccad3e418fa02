"""`python -m libs.common.migrate SCRIPT_LOCATION`: a service's start-up schema upgrade, run in
a short-lived child so the service never loads Alembic (see `db.MIGRATE_IN_CHILD`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from libs.common import db


def main(script_location: str) -> None:
    """One upgrade to head on a blocking engine: the same `db.upgrade` as in process."""
    engine = db.create_sync_engine(os.environ[db.MIGRATE_URL_ENV], pool_size=1)
    try:
        with engine.begin() as conn:
            db.upgrade(conn, Path(script_location))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
