"""LangGraph graphs: the chat supervisor, the rollout workflows, their state and the checkpointer factory."""
