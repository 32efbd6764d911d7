"""boto3's errors as the typed errors of `tools.errors`, for every AWS call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from tools.errors import ProviderUnavailableError, from_cloud_code


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise from_cloud_code(str(error.get("Code", "")), str(error.get("Message", exc)), "aws") from exc
    except NoCredentialsError as exc:
        raise ProviderUnavailableError("no AWS credentials configured", provider="aws") from exc
    except BotoCoreError as exc:
        raise ProviderUnavailableError(f"cannot reach AWS: {exc}", provider="aws") from exc
