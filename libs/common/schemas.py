"""What every request body of every service shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of request bodies: an unknown field is refused (422), never silently ignored."""

    model_config = ConfigDict(extra="forbid")
