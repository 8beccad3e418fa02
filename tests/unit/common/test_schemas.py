"""The request-body base every service shares."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.common.schemas import Strict


class Body(Strict):
    """A request body."""

    label: str


def test_a_misspelt_field_is_refused_not_ignored() -> None:
    assert Body.model_validate({"label": "client 12"}).label == "client 12"
    with pytest.raises(ValidationError, match="lable"):
        Body.model_validate({"label": "client 12", "lable": "typo"})
