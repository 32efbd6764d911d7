"""How a provider call becomes a LangChain tool: typed arguments in, a typed artifact and JSON out.

The model reads the JSON content; code reads `ToolMessage.artifact`, the pydantic result. A failed cloud
call or bad arguments come back as a ToolMessage with status "error" whose content is
`{"error": <code>, "message": ..., "retryable": ...}`, so an agent can report or retry it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, Field, ValidationError

from tools.errors import ProviderError
from tools.models import CloudName, InstanceFilter

Result = BaseModel | Sequence[BaseModel]


def _content(result: Result) -> str:
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    return json.dumps([item.model_dump(mode="json") for item in result])


def _tool_error(exc: ToolException) -> str:
    return str(exc)


def _validation_error(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
    )
    return json.dumps({"error": "invalid_request", "message": problems, "retryable": False})


def provider_tool(run: Callable[..., Result], name: str, args_schema: type[BaseModel]) -> StructuredTool:
    """`run` as a tool called `name`; the model reads `args_schema`'s docstring and field descriptions."""

    def call(**kwargs: Any) -> tuple[str, Result]:
        try:
            result = run(**kwargs)
        except ProviderError as exc:
            raise ToolException(json.dumps(exc.to_dict())) from exc
        return _content(result), result

    return StructuredTool.from_function(
        call,
        name=name,
        description=(args_schema.__doc__ or name).strip(),
        args_schema=args_schema,
        response_format="content_and_artifact",
        handle_tool_error=_tool_error,
        handle_validation_error=_validation_error,
    )


class ScopeArgs(BaseModel):
    """Which instances: every given field must match."""

    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
    region: str | None = Field(None, description="Only this region, e.g. us-east-1, europe-west1, westeurope")
    application: str | None = Field(None, description="Only the instances serving this application")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags that must match, e.g. {'team': 'ml', 'environment': 'staging'}",
    )

    def instance_filter(self) -> InstanceFilter:
        return InstanceFilter(provider=self.provider, region=self.region, application=self.application,
                              tags=self.tags)  # fmt: skip
