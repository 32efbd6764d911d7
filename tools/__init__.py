"""Typed LangChain tools and the CloudProvider protocol with its adapters (simulator, HTTP, AWS)."""
