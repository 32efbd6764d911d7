"""Commitments: instances on demand that have run steadily for a month are cheaper reserved."""

from __future__ import annotations

import numpy as np

from tools.analysis.recommendation import Recommendation, recommend_for
from tools.analysis.settings import HOURS_PER_MONTH, HOURS_PER_YEAR, ReservedSettings
from tools.analysis.snapshot import FleetSnapshot


def reserved(
    snapshot: FleetSnapshot,
    settings: ReservedSettings | None = None,
    lookback_hours: int = 336,
    exclude: frozenset[str] = frozenset(),
) -> list[Recommendation]:
    """Reservations for steady on-demand instances, except those in `exclude` (to be changed first)."""
    settings = settings or ReservedSettings()
    uptime = snapshot.observed_hours / lookback_hours
    steady = (snapshot.age_days >= settings.min_age_days) & (uptime >= settings.min_uptime_fraction)
    on_demand, reserved_price = snapshot.on_demand.tolist(), snapshot.reserved.tolist()
    ages, uptimes = snapshot.age_days.tolist(), uptime.tolist()
    out = []
    for row in np.flatnonzero(steady).tolist():
        inst = snapshot.instances[row]
        if inst.pricing_model != "on-demand" or inst.id in exclude:
            continue
        saving = on_demand[row] - reserved_price[row]
        confidence = float(min(uptimes[row], 1.0) * min(ages[row] / 90.0, 1.0))
        out.append(
            recommend_for(
                inst,
                kind="reserved",
                finding="steady-on-demand",
                action="purchase-reservation",
                current="on-demand",
                target="reserved",
                monthly_savings=round(saving * HOURS_PER_MONTH * min(uptimes[row], 1.0), 2),
                risk="low",
                risk_score=0.1,  # financial only: a one-year commitment to capacity that has run for a month
                confidence=round(confidence, 3),
                reasons=[
                    f"running {ages[row]:.0f} days, up {min(uptimes[row], 1.0):.0%} of the last "
                    f"{lookback_hours} h",
                    f"1-year reservation {reserved_price[row]:.4f} USD/h against "
                    f"{on_demand[row]:.4f} on demand: {saving * HOURS_PER_YEAR:,.0f} USD a year",
                ],
            )
        )
    return out
