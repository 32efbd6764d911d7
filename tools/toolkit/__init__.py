"""LangChain tools, grouped by the agent that owns them: cost, performance, resource, application."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.tools import BaseTool

from tools.analysis.settings import AnalysisSettings
from tools.provider import CloudProvider
from tools.toolkit.application import application_tools
from tools.toolkit.cost import cost_tools
from tools.toolkit.performance import performance_tools
from tools.toolkit.resource import resource_tools


@dataclass(frozen=True)
class Toolkit:
    cost: list[BaseTool]
    performance: list[BaseTool]
    resource: list[BaseTool]
    application: list[BaseTool]

    def for_agent(self, agent: str) -> list[BaseTool]:
        groups = {"cost": self.cost, "performance": self.performance, "resource": self.resource,
                  "application": self.application}  # fmt: skip
        if agent not in groups:
            raise KeyError(f"unknown agent '{agent}'; expected one of: {', '.join(groups)}")
        return groups[agent]

    def all(self) -> list[BaseTool]:
        return [*self.cost, *self.performance, *self.resource, *self.application]


def build_toolkit(provider: CloudProvider, settings: AnalysisSettings | None = None) -> Toolkit:
    settings = settings or AnalysisSettings()
    return Toolkit(
        cost=cost_tools(provider, settings),
        performance=performance_tools(provider, settings),
        resource=resource_tools(provider, settings),
        application=application_tools(provider, settings),
    )
