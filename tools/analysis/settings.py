"""Every threshold the engines use, named, with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal

from tools.analysis.tolerance import ChangeGuard

HOURS_PER_MONTH = 730.0
HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class RightsizingSettings:
    """AWS Compute Optimizer's method: a lookback of hourly utilisation, a percentile, and headroom."""

    lookback_hours: int = 14 * 24  # Compute Optimizer's default lookback is 14 days
    percentile: float = 95.0  # P95 by default; Compute Optimizer offers P90, P95 and P99.5
    headroom: float = 0.20  # capacity kept above the percentile (Compute Optimizer's default headroom)
    min_observed_hours: int = 30  # Compute Optimizer needs 30 hours of metrics before recommending
    under_provisioned_pct: float = 90.0  # at or above this percentile of CPU or memory: too small
    min_savings_fraction: float = 0.05  # a cheaper type saving less than this is not worth a restart
    peak_percentile: float = 99.5  # what the risk score looks at: the busiest hours after the change

    def __post_init__(self) -> None:
        if self.percentile not in (90.0, 95.0, 99.5):
            raise ValueError(f"percentile must be 90, 95 or 99.5, got {self.percentile}")
        if not 0 <= self.headroom < 1:
            raise ValueError(f"headroom must be in [0, 1), got {self.headroom}")


@dataclass(frozen=True)
class IdleSettings:
    """Azure Advisor flags VMs with P95 CPU under 3 % and little network over 7 days; GCP's idle-VM
    recommender looks at low CPU and network over its observation window. Both are combined here."""

    lookback_hours: int = 7 * 24
    cpu_p95_pct: float = 3.0
    network_mean_mbps: float = 0.1  # ~12 kB/s: heartbeats and agents, no real traffic
    # Of the lookback, for a machine that existed through all of it: watched long enough (one stopped every
    # weekend runs 65 % of the week, and is as idle on the days it runs).
    min_observed_fraction: float = 0.6
    terminate_environments: tuple[str, ...] = ("development", "staging", "sandbox")  # elsewhere: stop


@dataclass(frozen=True)
class SpotSettings:
    """How risky a spot move is; whether it may happen at all is the shared guard's call (tolerance.py)."""

    # Interruption band → risk level, as AWS's Spot Instance Advisor colours them.
    band_risk: dict[str, Literal["low", "medium", "high"]] = field(
        default_factory=lambda: {
            "<5%": "low",
            "5-10%": "low",
            "10-15%": "medium",
            "15-20%": "medium",
            ">20%": "high",
        }
    )
    band_monthly_rate: dict[str, float] = field(
        default_factory=lambda: {"<5%": 0.025, "5-10%": 0.075, "10-15%": 0.125, "15-20%": 0.175, ">20%": 0.25}
    )


@dataclass(frozen=True)
class ReservedSettings:
    """Commit only to what runs steadily: on for at least 30 days and nearly every hour of the lookback."""

    min_age_days: float = 30.0
    min_uptime_fraction: float = 0.95  # of the rightsizing lookback's hours


@dataclass(frozen=True)
class StorageSettings:
    """The thresholds, each as the tools that find this waste use it."""

    # AWS Trusted Advisor's "Underutilized Amazon EBS Volumes" looks at the last 7 days; a volume detached
    # for less may be between two machines of a redeploy.
    unattached_days: float = 7.0
    # A backup kept longer than the retention is old; of a volume that still exists, the newest few are kept
    # whatever their age (a restore needs a recent one).
    snapshot_retention_days: float = 90.0
    keep_latest_snapshots: int = 4
    # How long a deleted volume's final snapshot is kept, so that a person can still make it again.
    cooling_off_days: float = 30.0
    # An address idle for a day is not between two deployments.
    idle_address_days: float = 1.0
    # Compute Optimizer's headroom, on the workload's p99 IOPS and throughput, when sizing a new volume type.
    iops_headroom: float = 0.20
    min_monthly_savings: float = 0.50  # below this a change is not worth a person's attention
    # A bucket's reads are known after a month of them; a class move must pay its one-off cost back soon.
    bucket_min_age_days: float = 30.0
    bucket_payback_months: float = 3.0


@dataclass(frozen=True)
class OffHoursSettings:
    """The schedule advised (AWS Instance Scheduler's and Cloud Custodian's usual office hours: stop at
    20:00, start at 07:00, weekends off, in the team's zone) and when a machine is idle off hours."""

    stop: time = time(20)
    start: time = time(7)
    weekends_off: bool = True
    default_time_zone: str = "UTC"  # for a machine without a `timezone` tag
    production_environments: tuple[str, ...] = ("production",)  # never scheduled
    # Tags of other schedulers (the simulator's weekend one, AWS Instance Scheduler's): a machine one of them
    # keeps is left to it, since two schedulers on one machine undo each other's stops and starts.
    other_schedulers: tuple[str, ...] = ("schedule", "Schedule")
    lookback_hours: int = 14 * 24  # two weeks: two of every weekday and weekend
    cpu_p95_pct: float = 5.0  # of the hours it would be stopped: agents and daemons, nobody at work
    # Of the hours the schedule would stop it, seen running: a machine already stopped every weekend runs
    # about half of them (the nights), and saves that half.
    min_observed_fraction: float = 0.4


@dataclass(frozen=True)
class PrioritySettings:
    """score = monthly savings × confidence / (1 + risk_weight × risk score) / effort.

    Effort is the work and disruption a change takes: a reservation or a stop is a click, a resize a
    restart, a spot migration a replacement and a new failure mode.
    """

    risk_weight: float = 2.0
    effort: dict[str, float] = field(
        default_factory=lambda: {
            "idle": 1.0, "reserved": 1.0, "rightsize": 2.0, "spot": 3.0, "off_hours": 1.0,
            # a click each; a type change is online
            "unattached_volume": 1.0, "volume_type": 1.0, "old_snapshot": 1.0, "idle_address": 1.0,
            "bucket_tier": 1.0,
        }
    )  # fmt: skip


@dataclass(frozen=True)
class AnalysisSettings:
    # The reviewers' thresholds: a recommendation the engines make is one the reviewers would approve.
    guard: ChangeGuard = field(default_factory=ChangeGuard)
    rightsizing: RightsizingSettings = field(default_factory=RightsizingSettings)
    idle: IdleSettings = field(default_factory=IdleSettings)
    spot: SpotSettings = field(default_factory=SpotSettings)
    reserved: ReservedSettings = field(default_factory=ReservedSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    off_hours: OffHoursSettings = field(default_factory=OffHoursSettings)
    priority: PrioritySettings = field(default_factory=PrioritySettings)
