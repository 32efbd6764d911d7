"""The HTTP service (`optiinfra serve`): chat, workflow triggers and approvals, cloud views, under /api/v1."""
