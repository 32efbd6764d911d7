"""Run a demo with the project's own interpreter, whichever `python` the user typed.

`python demos/spot_migration.py` with the system Python cannot import OptiInfra's dependencies; the
README's install puts them in `.venv`. Rather than fail on an import, a demo re-runs itself with
`.venv`'s interpreter when that exists, and otherwise says in one line how to install. This module uses
the standard library only: it runs before anything else is importable.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_VENV = ROOT / ".venv"
PROJECT_PYTHON = PROJECT_VENV / "bin" / "python"


def use_project_interpreter() -> None:
    """Return if OptiInfra is importable here; else re-exec under `.venv`, or exit with how to install."""
    if importlib.util.find_spec("api") is not None and importlib.util.find_spec("langgraph") is not None:
        return
    # sys.prefix, not the executable: a venv's python is a symlink to the very interpreter it came from.
    if PROJECT_PYTHON.exists() and Path(sys.prefix).resolve() != PROJECT_VENV.resolve():
        os.execv(PROJECT_PYTHON, [str(PROJECT_PYTHON), *sys.argv])
    sys.exit(
        "OptiInfra is not installed for this Python: run `python3 -m venv .venv && "
        ".venv/bin/pip install -e .` in the repository first"
    )
