"""Resizing the way every cloud allows it: stop, change the type, start again."""

from __future__ import annotations

from collections.abc import Callable

from tools.errors import IncorrectStateError, InvalidInstanceTypeError
from tools.models import Instance
from tools.provider import CloudProvider


def resize_by_restart(
    cloud: CloudProvider,
    instance_id: str,
    instance_type: str,
    idempotency_key: str,
    change_type: Callable[[str], None],
) -> Instance:
    """Stop, `change_type(key)` on the stopped instance, start; the instance runs afterwards.

    An unknown or unavailable type is refused before anything is stopped. Each step has its own key
    derived from `idempotency_key`, so a retry after a crash repeats no step that already happened.
    """
    current = cloud.get_instance(instance_id)
    if instance_type not in {t.name for t in cloud.instance_types(current.provider, current.region)}:
        raise InvalidInstanceTypeError(
            f"'{instance_type}' is not offered in {current.provider} {current.region}", provider=cloud.name
        )
    if current.instance_type != instance_type:
        cloud.stop(instance_id, f"{idempotency_key}/stop")
        if cloud.wait_until_stable(instance_id).state != "stopped":
            raise IncorrectStateError(f"{instance_id} did not stop", provider=cloud.name)
        change_type(f"{idempotency_key}/resize")
    cloud.start(instance_id, f"{idempotency_key}/start")
    return cloud.wait_until_stable(instance_id)
