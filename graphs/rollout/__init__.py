"""Approval-gated, checkpointed rollouts of spot migrations and rightsizing."""
