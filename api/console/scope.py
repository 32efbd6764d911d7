"""The part of the fleet a page is filtered to, read from its query or form by one rule (as the API's and
the command line's filters are): cloud, region, application, team, environment and `key=value` tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query

from api.console.sessions import Form
from mock_cloud.clouds import PROVIDERS
from tools.models import InstanceFilter
from tools.tag_filters import TagFilterError, parse_tag_filters


class ScopeError(ValueError):
    """A filter that names nothing the fleet can have: said on the page, nothing else done."""


@dataclass(frozen=True)
class Filters:
    """A page's filters as given; an empty field (a form's blank input) filters nothing."""

    provider: str = ""
    region: str = ""
    application: str = ""
    team: str = ""
    environment: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def posted(cls, form: Form) -> Filters:
        """The filters a form carries (its hidden fields, or a create form's inputs)."""
        return cls(form.get("provider"), form.get("region"), form.get("application"), form.get("team"),
                   form.get("environment"), tuple(form.all("tag")))  # fmt: skip

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(t for t in self.tags if t.strip()))

    def scope(self) -> InstanceFilter:
        if self.provider and self.provider not in PROVIDERS:
            raise ScopeError(f"unknown cloud '{self.provider[:40]}': one of {', '.join(PROVIDERS)}")
        try:
            tags = parse_tag_filters(list(self.tags))
        except TagFilterError as exc:
            raise ScopeError(f"tag {exc}") from None
        tags |= {k: v for k, v in (("team", self.team), ("environment", self.environment)) if v}
        return InstanceFilter(provider=self.provider or None, region=self.region or None,
                              application=self.application or None, tags=tags)  # fmt: skip

    def query(self, **more: str | int) -> str:
        """These filters (and `more`) as a query string, for links that keep them."""
        pairs = [(k, v) for k, v in self.__dict__.items() if k != "tags" and v]
        pairs += [("tag", t) for t in self.tags] + [
            (k, str(v)) for k, v in more.items() if v not in ("", None)
        ]
        return urlencode(pairs)

    @property
    def any(self) -> bool:
        return any(v for v in self.__dict__.values())


def _queried(
    provider: Annotated[str, Query(max_length=16)] = "",
    region: Annotated[str, Query(max_length=64)] = "",
    application: Annotated[str, Query(max_length=128)] = "",
    team: Annotated[str, Query(max_length=128)] = "",
    environment: Annotated[str, Query(max_length=64)] = "",
    tag: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
) -> Filters:
    return Filters(provider, region, application, team, environment, tuple(tag))


# The filters a page's query names (a list page's dependency).
FiltersDep = Annotated[Filters, Depends(_queried)]
