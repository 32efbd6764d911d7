"""Composition root: settings, the FastAPI app and the `optiinfra` CLI.

The only layer that reads the environment.
"""
