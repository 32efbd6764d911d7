"""The query parameters that name a part of the fleet, read by one rule for every cloud route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.service.problems import Problem
from tools.tag_filters import TagFilterError, parse_tag_filters

Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]
Region = Annotated[str | None, Query(max_length=64)]
Application = Annotated[str | None, Query(max_length=128)]
Tags = Annotated[list[str], Query(description="key=value; repeat to require several")]


def tags_of(given: list[str]) -> dict[str, str]:
    try:
        return parse_tag_filters(given)
    except TagFilterError as exc:
        raise Problem(422, f"tag: {exc}") from None
