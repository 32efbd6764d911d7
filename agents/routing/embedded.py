"""The embedded router: the request's embedding against example requests per route, no server needed.

A route's score is the mean cosine similarity of its `k` nearest examples (one lucky neighbour should not
win alone). The best route wins; when even its score is below `threshold`, the request is about nothing
the assistant knows and goes to `general`. Confidence is the winner's share of a softmax over route
scores: near 1 when one route stands out, lower when two are close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.routing.cues import cue_bonus
from agents.routing.encoder import SentenceEncoder, Vectors
from agents.routing.exemplars import EXEMPLARS
from agents.routing.models import ROUTES, Route, RouteName
from agents.routing.params import extract_params


@dataclass(frozen=True)
class RouterSettings:
    neighbours: int = 3
    threshold: float = 0.35  # below this best score, the request matches no route: `general`
    temperature: float = 0.05  # of the softmax that turns scores into a confidence


class EmbeddedRouter:
    uses_model = False

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        exemplars: dict[RouteName, tuple[str, ...]] | None = None,
        settings: RouterSettings | None = None,
    ) -> None:
        self.encoder = encoder or SentenceEncoder()
        self.settings = settings or RouterSettings()
        examples = exemplars or EXEMPLARS
        self._texts = [text for route in ROUTES for text in examples.get(route, ())]
        self._labels = np.array([ROUTES.index(r) for r in ROUTES for _ in examples.get(r, ())])
        self._vectors: Vectors | None = None

    def _examples(self) -> Vectors:
        if self._vectors is None:
            self._vectors = self.encoder.encode(self._texts)
        return self._vectors

    def warm(self) -> None:
        """Load the model and embed the examples now rather than on the first request."""
        self._examples()

    def scores(self, vectors: Vectors) -> np.ndarray:
        """(requests × routes): mean similarity of each route's nearest examples."""
        sims = vectors @ self._examples().T
        out = np.full((len(vectors), len(ROUTES)), -1.0, dtype=np.float32)
        for r in range(len(ROUTES)):
            members = sims[:, self._labels == r]
            if members.shape[1] == 0:
                continue
            k = min(self.settings.neighbours, members.shape[1])
            out[:, r] = np.sort(members, axis=1)[:, -k:].mean(axis=1)
        return out

    def route(self, text: str) -> Route:
        return self.route_many([text])[0]

    async def aroute(self, text: str) -> Route:
        # onnxruntime lets go of the GIL: in a thread, a request being encoded does not stall the loop.
        return await asyncio.to_thread(self.route, text)

    def route_many(self, texts: Sequence[str]) -> list[Route]:
        return [route for route, _ in self.judge_many(texts)]

    def judge(self, text: str) -> tuple[Route, dict[RouteName, float]]:
        """The route, and every route's share of the scores (what a model's answer is measured by)."""
        return self.judge_many([text])[0]

    def judge_many(self, texts: Sequence[str]) -> list[tuple[Route, dict[RouteName, float]]]:
        scores = self.scores(self.encoder.encode(texts)) if texts else np.empty((0, len(ROUTES)))
        return [self._decide(text, row) for text, row in zip(texts, scores, strict=True)]

    def _decide(self, text: str, scores: np.ndarray) -> tuple[Route, dict[RouteName, float]]:
        scores = scores.copy()
        for name, bonus in cue_bonus(text).items():
            scores[ROUTES.index(name)] += bonus
        best = int(scores.argmax())
        weights = np.exp((scores - scores[best]) / self.settings.temperature)
        shares = weights / weights.sum()
        route: RouteName = ROUTES[best]
        confidence = float(shares[best])
        if not text.strip() or scores[best] < self.settings.threshold:
            route, confidence = "general", 1.0 - max(0.0, float(scores[best]))
        decided = Route(
            route=route, params=extract_params(text), confidence=round(confidence, 3), source="embedded"
        )
        return decided, {name: float(share) for name, share in zip(ROUTES, shares, strict=True)}
