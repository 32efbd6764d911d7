"""Typed simulator errors, named after the clouds' own error codes."""

from __future__ import annotations


class SimulatorError(Exception):
    """A refused cloud operation: `code` is the cloud-style error code, `status` the HTTP status."""

    code = "SimulatorError"
    status = 400
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str | bool]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


class InstanceNotFound(SimulatorError):
    code = "InvalidInstanceID.NotFound"
    status = 404


class ApplicationNotFound(SimulatorError):
    code = "ApplicationNotFound"
    status = 404


class IncorrectInstanceState(SimulatorError):
    code = "IncorrectInstanceState"
    status = 409


class InvalidInstanceType(SimulatorError):
    code = "InvalidInstanceType"
    status = 422


class InvalidParameterValue(SimulatorError):
    code = "InvalidParameterValue"
    status = 422


class IdempotentParameterMismatch(SimulatorError):
    """The idempotency token was already used for a different request (as EC2's error of that name)."""

    code = "IdempotentParameterMismatch"
    status = 409


class RequestLimitExceeded(SimulatorError):
    code = "RequestLimitExceeded"
    status = 429
    retryable = True


class InsufficientInstanceCapacity(SimulatorError):
    code = "InsufficientInstanceCapacity"
    status = 503
    retryable = True


class ServiceUnavailable(SimulatorError):
    code = "ServiceUnavailable"
    status = 503
    retryable = True


class ResourceNotFound(SimulatorError):
    """An unknown volume, snapshot or address (EC2's InvalidVolume.NotFound and its kin)."""

    status = 404

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IncorrectResourceState(SimulatorError):
    """A volume, snapshot or address in the wrong state for the call (in use, being modified, deleted)."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
