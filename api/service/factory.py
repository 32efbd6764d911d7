"""`uvicorn api.service.factory:app --factory`: the app as `optiinfra serve` runs it, from OPTIINFRA_*."""

from __future__ import annotations

from fastapi import FastAPI

from agents.llm import LlmSpec, chat_model
from api.service.app import create_app
from api.service.settings import ServiceSettings


def app() -> FastAPI:
    settings = ServiceSettings()
    spec = LlmSpec.parse(settings.llm)
    model = chat_model(spec, settings.ollama_host, settings.llm_timeout) if spec else None
    return create_app(settings, model=model)
