"""`--approval-policy FILE`: a deployment's approval policy, as JSON, read and checked before any work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from graphs.rollout.approvals import ApprovalPolicy

ApprovalPolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--approval-policy",
        help='JSON: {"rules": [{"monthly_usd": 10000, "approvers": 2, "admins": 1}], "levels": '
        '[{"role": "approver", "hours": 24}, {"role": "admin", "hours": 48}], "warn_hours": 4}',
    ),
]


def read_approval_policy(path: Path) -> ApprovalPolicy:
    """The policy in the file, or a one-line BadParameter saying what is wrong with it."""
    from pydantic import ValidationError

    from graphs.rollout.approvals import ApprovalPolicy

    try:
        return ApprovalPolicy.model_validate(json.loads(path.read_text()))
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="--approval-policy"
        ) from None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{path} is not JSON: {exc.msg} (line {exc.lineno})",
                                 param_hint="--approval-policy") from None  # fmt: skip
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "policy"
        said = first["msg"].removeprefix("Value error, ")
        raise typer.BadParameter(f"{where}: {said}", param_hint="--approval-policy") from None
