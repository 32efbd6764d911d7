"""The agents that review a rollout, by name."""

from __future__ import annotations

from agents import application, performance, resource
from agents.review import AgentName, Reviewer

REVIEWERS: dict[AgentName, Reviewer] = {
    "performance": performance.review,
    "resource": resource.review,
    "application": application.review,
}
