"""The specialist agents (cost, performance, resource, application), the request router, the LLM factory."""
