"""Errors every CloudProvider adapter raises, whatever cloud is behind it."""

from __future__ import annotations


class ProviderError(Exception):
    """A cloud call that did not do what was asked. `retryable` says whether trying again may help."""

    code = "ProviderError"
    retryable = False

    def __init__(self, message: str, *, provider: str = "", cloud_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.cloud_code = cloud_code  # the cloud's own error code, when there was one

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "provider": self.provider,
            "cloud_code": self.cloud_code,
        }


class InstanceNotFoundError(ProviderError):
    code = "instance_not_found"


class ApplicationNotFoundError(ProviderError):
    code = "application_not_found"


class ResourceNotFoundError(ProviderError):
    """No such volume, snapshot or address (or no longer)."""

    code = "resource_not_found"


class IncorrectStateError(ProviderError):
    """The instance is in a state that does not allow the operation (e.g. resizing a running one)."""

    code = "incorrect_state"


class InvalidInstanceTypeError(ProviderError):
    code = "invalid_instance_type"


class InvalidRequestError(ProviderError):
    """Bad arguments: unknown provider or region, negative hours, a reused idempotency key, ..."""

    code = "invalid_request"


class ThrottledError(ProviderError):
    code = "throttled"
    retryable = True


class CapacityError(ProviderError):
    code = "insufficient_capacity"
    retryable = True


class ProviderUnavailableError(ProviderError):
    """The cloud did not answer, answered with an outage, timed out, or its circuit breaker is open."""

    code = "provider_unavailable"
    retryable = True


class UnsupportedOperationError(ProviderError):
    """The back end cannot do this (e.g. moto has no real spot price history)."""

    code = "unsupported"


# Cloud error codes (EC2's, which the simulator uses too; Azure Resource Manager's; Compute Engine's) and the
# typed error each becomes.
CLOUD_CODES: dict[str, type[ProviderError]] = {
    "InvalidInstanceID.NotFound": InstanceNotFoundError,
    "InvalidInstanceID.Malformed": InstanceNotFoundError,
    "ApplicationNotFound": ApplicationNotFoundError,
    "IncorrectInstanceState": IncorrectStateError,
    "InvalidVolume.NotFound": ResourceNotFoundError,
    "InvalidSnapshot.NotFound": ResourceNotFoundError,
    "InvalidAllocationID.NotFound": ResourceNotFoundError,
    "InvalidAddress.NotFound": ResourceNotFoundError,
    "VolumeInUse": IncorrectStateError,
    "InvalidSnapshot.InUse": IncorrectStateError,
    "IncorrectModificationState": IncorrectStateError,
    "InvalidIPAddress.InUse": IncorrectStateError,
    "NoSuchBucket": ResourceNotFoundError,
    "InvalidObjectState": IncorrectStateError,
    "ObjectNotInActiveTierError": IncorrectStateError,
    "InvalidInstanceType": InvalidInstanceTypeError,
    "InvalidParameterValue": InvalidRequestError,
    "InvalidParameterCombination": InvalidRequestError,
    "IdempotentParameterMismatch": InvalidRequestError,
    "RequestLimitExceeded": ThrottledError,
    "Throttling": ThrottledError,
    "ThrottlingException": ThrottledError,
    "InsufficientInstanceCapacity": CapacityError,
    "ServiceUnavailable": ProviderUnavailableError,
    "Unavailable": ProviderUnavailableError,
    "InternalError": ProviderUnavailableError,
    # Azure Resource Manager
    "ResourceNotFound": InstanceNotFoundError,
    "NotFound": InstanceNotFoundError,
    "ResourceGroupNotFound": InvalidRequestError,
    "OperationNotAllowed": IncorrectStateError,
    "Conflict": IncorrectStateError,
    "InvalidParameter": InvalidRequestError,
    "TooManyRequests": ThrottledError,
    "AllocationFailed": CapacityError,
    "ZonalAllocationFailed": CapacityError,
    "SkuNotAvailable": CapacityError,
    "OverconstrainedAllocationRequest": CapacityError,
    # Compute Engine
    "notFound": InstanceNotFoundError,
    "resourceNotReady": IncorrectStateError,
    "invalid": InvalidRequestError,
    "rateLimitExceeded": ThrottledError,
    "ZONE_RESOURCE_POOL_EXHAUSTED": CapacityError,
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": CapacityError,
    "backendError": ProviderUnavailableError,
}


def from_cloud_code(code: str, message: str, provider: str) -> ProviderError:
    """The typed error for a cloud error code (unknown codes become a plain, non-retryable ProviderError)."""
    return CLOUD_CODES.get(code, ProviderError)(message, provider=provider, cloud_code=code)
