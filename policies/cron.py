"""Five-field cron expressions for change-freeze windows ("0 18 * * fri" + a duration).

Only what a freeze needs: does a window that opens at a cron instant and lasts `duration` contain
`now`? Evaluated in the window's time zone, minute resolution, Vixie-cron day semantics (when both
day-of-month and day-of-week are restricted, either one matching is enough). Pure: `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_NAMES = {
    3: {
        m: i + 1
        for i, m in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
        )
    },
    4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"]
MAX_WINDOW = timedelta(days=31)


def _parse_value(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"cron {_FIELD_NAMES[index]}: {text!r} is not a number or a name")
    return int(text)


def _parse_field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"cron {_FIELD_NAMES[index]}: bad step in {part!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _parse_value(first, index), _parse_value(last, index)
        else:
            start = end = _parse_value(body, index)
            if step is not None:
                end = high
        if not (low <= start <= end <= high):
            raise ValueError(f"cron {_FIELD_NAMES[index]}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step or 1))
    if index == 4 and 7 in values:  # 7 and 0 are both Sunday
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Parse `minute hour day-of-month month day-of-week`; ValueError says which field is wrong."""
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday)")
        minutes, hours, days, months, weekdays = (_parse_field(text, i) for i, text in enumerate(fields))
        return cls(
            minutes=minutes,
            hours=hours,
            days=days,
            months=months,
            weekdays=weekdays,
            days_restricted=fields[2] != "*",
            weekdays_restricted=fields[4] != "*",
        )

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def window_containing(self, now: datetime, duration: timedelta, timezone: str) -> datetime | None:
        """The latest fire time t with t <= now < t + duration, or None: is a window open at `now`?"""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not timedelta(0) < duration <= MAX_WINDOW:
            raise ValueError(f"freeze duration must be positive and at most {MAX_WINDOW.days} days")
        zone = ZoneInfo(timezone)
        local_now = now.astimezone(zone)
        earliest = now - duration
        day = local_now.date()
        while datetime.combine(day + timedelta(days=1), datetime.min.time(), zone) > earliest:
            if self._day_matches(day):
                for hour in sorted(self.hours, reverse=True):
                    for minute in sorted(self.minutes, reverse=True):
                        fire = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                        if fire <= now:
                            return fire if fire > earliest else None
            day -= timedelta(days=1)
        return None
