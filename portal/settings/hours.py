"""Opening hours and holidays: is the restaurant open now, and when does that change?

Shifts are wall-clock times in the company's time zone. A shift whose closing time is not after its
opening time (18:00–02:00) runs past midnight and belongs to the day it starts, so a holiday on that
day cancels it, while the shift of the evening before a holiday still runs into the holiday's night.
A company without any shift is always open (nothing was set up, so nothing is claimed).
"""
import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import HolidayClosure, OpeningShift

DAY = 24 * 60
WEEK = 7 * DAY
SEARCH_DAYS = 400  # a holiday may close a month; a year and a bit covers every sensible setup
_SHIFT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class HoursError(ValueError):
    """Opening hours or a holiday that cannot be saved; the message is for the user."""


def parse_shifts(text):
    """'09:00-15:00, 18:00-02:00' → [(time(9), time(15)), (time(18), time(2))]; raises HoursError."""
    shifts = []
    for part in [piece for piece in re.split(r"[,;\n]", text or "") if piece.strip()]:
        match = _SHIFT.match(part)
        if not match:
            raise HoursError(_("“%(shift)s” is not a shift: write it like 09:00-15:00.", shift=part.strip()))
        h1, m1, h2, m2 = (int(value) for value in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise HoursError(_("“%(shift)s” has a time that does not exist.", shift=part.strip()))
        opens, closes = time(h1, m1), time(0, 0) if h2 == 24 else time(h2, m2)
        if opens == closes:
            raise HoursError(_("“%(shift)s” ends when it starts.", shift=part.strip()))
        shifts.append((opens, closes))
    return shifts


def _minutes(value):
    return value.hour * 60 + value.minute


def _week_span(weekday, opens, closes):
    """The shift as [start, end) minutes of the week (Monday 00:00 = 0); an overnight end passes midnight."""
    start, end = weekday * DAY + _minutes(opens), weekday * DAY + _minutes(closes)
    if end <= start:
        end += DAY
    return start, end


def check_week(week):
    """Refuse overlapping shifts: `week` maps weekday (0 = Monday) to [(opens, closes)]; raises HoursError.

    Overnight shifts are checked against the next day too, and Sunday's against Monday's.
    """
    spans = [(_week_span(day, opens, closes), day) for day, shifts in week.items() for opens, closes in shifts]
    for index, ((start, end), day) in enumerate(spans):
        for (other_start, other_end), _other_day in spans[index + 1:]:
            for shift in (-WEEK, 0, WEEK):
                if start < other_end + shift and other_start + shift < end:
                    raise HoursError(_("Shifts overlap on %(day)s.", day=weekday_name(day)))


def weekday_name(weekday):
    """The day's name in the page's language (0 = Monday)."""
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
            _("Sunday")][weekday]


def load_week(company_id):
    """The company's shifts as {weekday: [(opens, closes)…]} sorted by opening time."""
    week = {day: [] for day in range(7)}
    rows = db.session.scalars(select(OpeningShift).where(OpeningShift.company_id == company_id)
                              .order_by(OpeningShift.weekday, OpeningShift.opens_at))
    for row in rows:
        week[row.weekday].append((row.opens_at, row.closes_at))
    return week


def load_holidays(company_id):
    """The company's closures, earliest first."""
    return db.session.scalars(select(HolidayClosure).where(HolidayClosure.company_id == company_id)
                              .order_by(HolidayClosure.starts_on, HolidayClosure.id)).all()


class Schedule:
    """A company's week and holidays, answering in UTC instants (comparisons of aware times by the clock)."""

    def __init__(self, zone, week, holidays):
        self.zone = ZoneInfo(zone)
        self.week = week
        self.holidays = [(holiday.starts_on, holiday.ends_on) for holiday in holidays]

    @classmethod
    def of(cls, company):
        return cls(company.timezone, load_week(company.id), load_holidays(company.id))

    @property
    def configured(self):
        return any(self.week.values())

    def closed_on(self, day):
        return any(start <= day <= end for start, end in self.holidays)

    def shifts_starting(self, day):
        """The UTC [start, end) of the shifts that start on the local date `day`."""
        if self.closed_on(day):
            return []
        spans = []
        for opens, closes in self.week.get(day.weekday(), []):
            end_day = day + timedelta(days=1) if _minutes(closes) <= _minutes(opens) else day
            spans.append((datetime.combine(day, opens, self.zone).astimezone(timezone.utc),
                          datetime.combine(end_day, closes, self.zone).astimezone(timezone.utc)))
        return sorted(spans)

    def spans_from(self, day):
        """Merged open spans of the shifts starting on `day` and after (a generator, SEARCH_DAYS long)."""
        current = None
        for offset in range(SEARCH_DAYS):
            for start, end in self.shifts_starting(day + timedelta(days=offset)):
                if current and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current:
                    yield current
                current = (start, end)
        if current:
            yield current

    def _spans_around(self, at):
        local_day = at.astimezone(self.zone).date()
        return self.spans_from(local_day - timedelta(days=1))

    def is_open(self, at):
        if not self.configured:
            return True
        for start, end in self._spans_around(at):
            if start <= at < end:
                return True
            if start > at:
                return False
        return False

    def next_change(self, at):
        """When the open/closed state after `at` changes (UTC), or None (always open / never opens)."""
        if not self.configured:
            return None
        for start, end in self._spans_around(at):
            if start <= at < end:
                return end
            if start > at:
                return start
        return None


def _now(at):
    return at or datetime.now(timezone.utc)


def is_open(company, at=None):
    """Whether `company` is within its opening hours at `at` (default now); no hours set up → open."""
    return Schedule.of(company).is_open(_now(at))


def next_change(company, at=None):
    """The next instant (UTC) its open/closed state changes after `at`, or None."""
    return Schedule.of(company).next_change(_now(at))


def opening_state(company, at=None):
    """(is_open, next_change) for the board's indicator, or None when no hours are set up."""
    schedule = Schedule.of(company)
    if not schedule.configured:
        return None
    at = _now(at)
    return schedule.is_open(at), schedule.next_change(at)


def board_opening(company, at=None):
    """What the order board shows: {"open", "opens_at", "soon"}, or None when no hours are set up."""
    state = opening_state(company, at)
    if state is None:
        return None
    is_open_now, change = state
    now = _now(at)
    return {"open": is_open_now, "opens_at": None if is_open_now else change,
            "soon": change is not None and change - now < timedelta(hours=20)}


def check_holiday(starts_on, ends_on):
    """Refuse a closure that ends before it starts; raises HoursError."""
    if starts_on is None or ends_on is None:
        raise HoursError(_("Give the first and the last day of the closure."))
    if ends_on < starts_on:
        raise HoursError(_("The closure cannot end before it starts."))


def format_shifts(shifts):
    """[(time(9), time(15))] → '09:00-15:00' (what the form shows)."""
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in shifts)


def today_in(zone):
    return datetime.now(ZoneInfo(zone)).date()

