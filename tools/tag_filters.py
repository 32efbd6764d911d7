"""`key=value` tag filters as people type them, read by one rule for every way in (HTTP, CLI, chat)."""

from __future__ import annotations


class TagFilterError(ValueError):
    """A tag filter that is not `key=value` with both sides non-blank."""


def parse_tag_filters(given: list[str] | None) -> dict[str, str]:
    """`["team=ml", "env = prod"]` → `{"team": "ml", "env": "prod"}`; a malformed one is named back."""
    tags = {}
    for text in given or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise TagFilterError(f"'{text[:64]}': expected key=value")
        tags[key.strip()] = value.strip()
    return tags
