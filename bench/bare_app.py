"""The baseline: a bare FastAPI endpoint that validates the same report body and does nothing else."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from libs.common.reports import ReportIn

app = FastAPI()


@app.post("/v1/reports", status_code=202)
async def accept(report: ReportIn) -> dict[str, str]:
    """Validate and answer: the floor under any real submission path."""
    return {"report_id": report.client_report_id, "status": "received"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )
