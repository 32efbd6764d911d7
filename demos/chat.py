"""A conversation with OptiInfra: `python demos/chat.py [SEED] [SIZE]`.

Asks about costs, spot candidates and a service's health, starts a spot migration of the staging
instances, approves it, asks how it went, and strays off-topic once. No model needed (set OPTIINFRA_LLM
and OLLAMA_HOST to let one route and write the answers; see `optiinfra demo chat --llm`).
"""

import sys

from interpreter import use_project_interpreter

use_project_interpreter()

from rich.console import Console

from api.chat_demo import run_chat_demo
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE

if __name__ == "__main__":
    given = sys.argv[1:3]
    seed, size = (int(a) for a in given + [str(DEFAULT_SEED), str(DEFAULT_SIZE)][len(given) :])
    run_chat_demo(seed, size, console=Console())
