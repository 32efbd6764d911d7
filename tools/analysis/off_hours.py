"""Off-hours schedules: non-production machines idle while their team is away, stopped at night and at
weekends (AWS Instance Scheduler, Azure auto-shutdown, Cloud Custodian's `offhours`/`onhours`).

A schedule lives on the machine, in its `off-hours` tag (`stop=20:00;start=07:00;weekends=off;
tz=Europe/Berlin`), so every replica of the service, and anyone looking at the cloud's console, sees the
same one; `off-hours=never` opts a machine out. The finding reads each candidate's hourly CPU over two
weeks and advises a schedule where the hours the schedule would stop it were idle; its saving is the
compute of the hours it ran then, as the bill charges them (a stopped machine still pays for its disks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

# The wall clock of a zone, as the simulator keeps its teams' office hours (one conversion for both).
from mock_cloud.offices import local_seconds, weekdays
from tools.analysis.recommendation import Recommendation, RiskLevel, clamp, recommend_for
from tools.analysis.settings import HOURS_PER_MONTH, OffHoursSettings
from tools.models import Instance, MetricSeries

OFF_HOURS_TAG = "off-hours"
OPTED_OUT = "never"
TIMEZONE_TAG = "timezone"  # the team's zone, where the machine carries it
HOURS_PER_WEEK = 168.0
_HOUR = 3600.0


class ScheduleError(ValueError):
    """A schedule that cannot be read: the message says which part and what is expected."""


@dataclass(frozen=True)
class OffHoursSchedule:
    """Stop at `stop`, start at `start` on the team's wall clock, and (with `weekends_off`) stay stopped
    from Friday's stop to Monday's start."""

    time_zone: str = "UTC"
    stop: time = time(20)
    start: time = time(7)
    weekends_off: bool = True

    def __post_init__(self) -> None:
        _zone(self.time_zone)
        if self.start >= self.stop:
            raise ScheduleError(f"start ({self.start:%H:%M}) must come before stop ({self.stop:%H:%M})")

    @classmethod
    def parse(cls, text: str) -> OffHoursSchedule:
        """The schedule a tag value says: `stop=20:00;start=07:00;weekends=off;tz=Europe/Berlin` (any part
        may be left out for its default)."""
        parts: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in text.split(";"))):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in ("stop", "start", "weekends", "tz"):
                raise ScheduleError(f"'{item}' is not stop=HH:MM, start=HH:MM, weekends=off|on or tz=Zone")
            parts[key.strip()] = value.strip()
        weekends = parts.get("weekends", "off")
        if weekends not in ("off", "on"):
            raise ScheduleError(f"weekends must be off or on, not '{weekends}'")
        return cls(
            time_zone=parts.get("tz", "UTC"),
            stop=_clock_time(parts.get("stop", "20:00")),
            start=_clock_time(parts.get("start", "07:00")),
            weekends_off=weekends == "off",
        )

    @property
    def tag_value(self) -> str:
        weekends = "off" if self.weekends_off else "on"
        return f"stop={self.stop:%H:%M};start={self.start:%H:%M};weekends={weekends};tz={self.time_zone}"

    @property
    def hours(self) -> str:
        """When it keeps a machine off, in words: "off 20:00-07:00 and at weekends"."""
        weekends = " and at weekends" if self.weekends_off else ""
        return f"off {self.stop:%H:%M}-{self.start:%H:%M}{weekends}"

    def describe(self) -> str:
        """In words, with its clock: "off 20:00-07:00 and at weekends, Europe/Berlin time"."""
        return f"{self.hours}, {self.time_zone} time"

    def short(self) -> str:
        """For a table's cell, the hours it is off: "20:00-07:00, weekends (Berlin)"."""
        weekends = ", weekends" if self.weekends_off else ""
        place = self.time_zone.rsplit("/", 1)[-1].replace("_", " ")
        return f"{self.stop:%H:%M}-{self.start:%H:%M}{weekends} ({place})"

    @property
    def off_hours_per_week(self) -> float:
        on_days = 5 if self.weekends_off else 7
        return HOURS_PER_WEEK - on_days * (_seconds(self.stop) - _seconds(self.start)) / _HOUR

    def running_at(self, moment: datetime) -> bool:
        local = moment.astimezone(_zone(self.time_zone))
        if self.weekends_off and local.weekday() >= 5:
            return False
        return self.start <= local.time() < self.stop

    def running_mask(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """`running_at` for many unix times at once."""
        local = local_seconds(self.time_zone, times)
        seconds = local % 86400.0
        on = (seconds >= _seconds(self.start)) & (seconds < _seconds(self.stop))
        if self.weekends_off:
            on &= weekdays(local) < 5
        return on

    def boundaries(self, after: datetime, until: datetime) -> list[tuple[datetime, bool]]:
        """(moment, running from then on) of every stop and start in (after, until], in order."""
        zone = _zone(self.time_zone)
        out = []
        day = after.astimezone(zone).date() - timedelta(days=1)
        while day <= until.astimezone(zone).date():
            if not (self.weekends_off and day.weekday() >= 5):
                for at, running in ((self.start, True), (self.stop, False)):
                    moment = datetime.combine(day, at, zone).astimezone(UTC)
                    if after < moment <= until:
                        out.append((moment, running))
            day += timedelta(days=1)
        return sorted(out)


def schedule_of(inst: Instance) -> OffHoursSchedule | None:
    """The schedule a machine's tag gives it; None when it has none, is opted out, or the tag is unreadable
    (which the enforcer reports rather than guesses at)."""
    text = inst.tags.get(OFF_HOURS_TAG)
    if text is None or text.strip() == OPTED_OUT:
        return None
    return OffHoursSchedule.parse(text)


def team_schedule(inst: Instance, settings: OffHoursSettings) -> OffHoursSchedule:
    """The schedule advised for a machine: the settings' hours, in its team's time zone (its `timezone`
    tag) or the settings' default zone."""
    zone = inst.tags.get(TIMEZONE_TAG) or settings.default_time_zone
    try:
        _zone(zone)
    except ScheduleError:
        zone = settings.default_time_zone
    return OffHoursSchedule(zone, settings.stop, settings.start, settings.weekends_off)


def candidates(instances: list[Instance], settings: OffHoursSettings) -> list[Instance]:
    """Running non-production machines without a schedule (ours, an opt-out, another scheduler's), on-demand
    or reserved: a spot machine cannot be stopped (the cloud stops or terminates it, not its owner)."""
    return [
        i
        for i in instances
        if i.state == "running"
        and i.tags.get("environment", "unknown") not in settings.production_environments
        and OFF_HOURS_TAG not in i.tags
        and not any(tag in i.tags for tag in settings.other_schedulers)
        and i.pricing_model != "spot"
    ]


def off_hours(
    instances: list[Instance], hourly: dict[str, MetricSeries], now: datetime, settings: OffHoursSettings
) -> list[Recommendation]:
    """An off-hours schedule for each candidate with an hourly series whose would-be stopped hours were
    idle (P95 CPU under the threshold), watched for long enough."""
    out = []
    lookback_start = now.timestamp() - settings.lookback_hours * _HOUR
    for inst in candidates(instances, settings):
        series = hourly.get(inst.id)
        if series is None:
            continue
        schedule = team_schedule(inst, settings)
        keep = series.timestamps >= lookback_start
        times, cpu = series.timestamps[keep], series.cpu_pct[keep].astype(np.float64)
        off = ~schedule.running_mask(times)
        # Hours it ran while the schedule would have it stopped, against all such hours of the lookback.
        expected = settings.lookback_hours * schedule.off_hours_per_week / HOURS_PER_WEEK
        observed = int(off.sum())
        if observed < settings.min_observed_fraction * expected or not (~off).any():
            continue
        off_p95 = float(np.percentile(cpu[off], 95))
        on_p95 = float(np.percentile(cpu[~off], 95))
        if off_p95 >= settings.cpu_p95_pct:
            continue
        share = observed / settings.lookback_hours  # of all hours, those it would no longer run
        monthly = inst.hourly_price * share * HOURS_PER_MONTH
        risk: RiskLevel = "low" if inst.tags.get("environment") == "development" else "medium"
        # How much of the lookback was seen (a machine stopped every weekend already is seen ~65 % of it, as
        # the idle engine counts), and how far under the threshold it stayed.
        seen = len(times) / (settings.lookback_hours * 0.6)
        confidence = clamp(seen, 0, 1) * (1 - 0.5 * off_p95 / settings.cpu_p95_pct)
        out.append(
            recommend_for(
                inst,
                kind="off_hours",
                finding="idle-off-hours",
                action="schedule-off-hours",
                current="running at all hours" if observed >= 0.95 * expected else "running part of them",
                target=schedule.tag_value,
                monthly_savings=round(monthly, 2),
                risk=risk,
                risk_score=0.2 if risk == "low" else 0.4,
                confidence=round(confidence, 3),
                reasons=[
                    f"P95 CPU {off_p95:.2f}% (< {settings.cpu_p95_pct:g}%) in the {observed} h it ran while "
                    f"the schedule would have it stopped ({schedule.describe()}), against {on_p95:.1f}% in "
                    f"working hours, over {settings.lookback_hours / 24:g} days",
                    f"{inst.tags.get('environment', 'unknown')} machine: stopped then, its compute "
                    f"({inst.hourly_price:.4f} USD/h) is saved for ~{share * HOURS_PER_WEEK:.0f} h a week; "
                    "its disks are billed still",
                ],
            )
        )
    return out


def _clock_time(text: str) -> time:
    if not re.fullmatch(r"\d{1,2}:\d{2}", text):
        raise ScheduleError(f"'{text}' is not a time of day (HH:MM)")
    hours, minutes = (int(p) for p in text.split(":"))
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"'{text}' is not a time of day (HH:MM)")
    return time(hours, minutes)


def _seconds(t: time) -> float:
    return t.hour * 3600.0 + t.minute * 60.0


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"'{name}' is not a time zone (an IANA name, e.g. Europe/Berlin)") from None
