"""Human service hours: weekly hours from settings, Finnish public holidays from `holidays`."""

from __future__ import annotations

import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo

import holidays

from liveagent import copy
from liveagent.settings import ServiceHours


class ServiceCalendar:
    def __init__(self, hours: ServiceHours, always_open: bool = False) -> None:
        self._hours = hours
        self._always_open = always_open
        self._zone = ZoneInfo(hours.timezone)
        self._holidays = holidays.country_holidays("FI")

    def _local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self._zone)

    def _open_day(self, day: dt.date) -> bool:
        return day.weekday() in self._hours.weekdays and day not in self._holidays

    def is_open(self, now: dt.datetime) -> bool:
        if self._always_open:
            return True
        local = self._local(now)
        return self._open_day(local.date()) and self._hours.opens <= local.time() < self._hours.closes

    def next_open(self, now: dt.datetime) -> Optional[dt.datetime]:
        """When service next opens (local time), None if it is open now."""
        if self.is_open(now):
            return None
        local = self._local(now)
        for days in range(0, 15):
            day = local.date() + dt.timedelta(days=days)
            start = dt.datetime.combine(day, self._hours.opens, tzinfo=self._zone)
            if self._open_day(day) and start > local:
                return start
        return None

    def describe_next_open(self, now: dt.datetime) -> str:
        """Finnish: "maanantaina 24.11. klo 8.00"."""
        opens = self.next_open(now)
        if opens is None:
            return ""
        return f"{copy.weekday_name(opens.weekday())} {opens.day}.{opens.month}. klo {opens.hour}.{opens.minute:02d}"

    def describe_hours(self) -> str:
        hours = self._hours
        return copy.text(
            "opening_hours",
            opens=f"{hours.opens.hour}.{hours.opens.minute:02d}",
            closes=f"{hours.closes.hour}.{hours.closes.minute:02d}",
        )
