"""Opening hours: overnight shifts, the week's end, holidays, Gulf and non-Gulf time zones."""
from datetime import date, datetime, time, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from portal.settings.hours import HoursError, Schedule, check_holiday, check_week, parse_shifts

RIYADH = ZoneInfo("Asia/Riyadh")


def local(zone, *args):
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def schedule(week, holidays=(), zone="Asia/Riyadh"):
    full = {day: [] for day in range(7)}
    full.update({day: parse_shifts(text) for day, text in week.items()})
    return Schedule(zone, full, [SimpleNamespace(starts_on=a, ends_on=b) for a, b in holidays])


def test_no_hours_means_always_open():
    empty = schedule({})
    assert empty.is_open(datetime.now(timezone.utc)) and empty.next_change(datetime.now(timezone.utc)) is None


def test_overnight_shift_belongs_to_the_day_it_starts():
    # 2026-12-07 is a Monday (weekday 0).
    hours = schedule({0: "18:00-02:00"})
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 7, 17, 59))
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 7, 18, 0))
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 8, 1, 59))  # Tuesday night, Monday's shift
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 8, 2, 0))
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 7, 1, 0))  # Monday 01:00: Sunday had no shift
    assert hours.next_change(local("Asia/Riyadh", 2026, 12, 7, 12, 0)) == local("Asia/Riyadh", 2026, 12, 7, 18, 0)
    assert hours.next_change(local("Asia/Riyadh", 2026, 12, 7, 23, 0)) == local("Asia/Riyadh", 2026, 12, 8, 2, 0)


def test_saturday_night_runs_into_sunday_and_sunday_night_into_monday():
    hours = schedule({5: "20:00-03:00", 6: "22:00-01:00"})
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 13, 2, 30))  # Sunday 02:30, Saturday's shift
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 13, 3, 0))
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 14, 0, 30))  # Monday 00:30, Sunday's shift
    # After Monday 01:00 the next opening is the coming Saturday 20:00.
    assert hours.next_change(local("Asia/Riyadh", 2026, 12, 14, 1, 0)) == local("Asia/Riyadh", 2026, 12, 19, 20, 0)


def test_several_shifts_and_a_shift_closing_at_midnight():
    hours = schedule({0: "09:00-15:00, 18:00-24:00", 1: "00:00-01:00"})
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 7, 10, 0))
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 7, 16, 0))
    # Monday 18:00-24:00 and Tuesday 00:00-01:00 join: the change is at 01:00, not midnight.
    assert hours.next_change(local("Asia/Riyadh", 2026, 12, 7, 20, 0)) == local("Asia/Riyadh", 2026, 12, 8, 1, 0)


def test_holidays_cancel_the_shifts_starting_on_them():
    hours = schedule({day: "10:00-02:00" for day in range(7)}, holidays=[(date(2026, 12, 8), date(2026, 12, 9))])
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 8, 12, 0))
    assert hours.is_open(local("Asia/Riyadh", 2026, 12, 8, 1, 0))  # Monday's shift runs into the holiday night
    assert not hours.is_open(local("Asia/Riyadh", 2026, 12, 10, 1, 0))  # Wednesday's shift was cancelled
    assert hours.next_change(local("Asia/Riyadh", 2026, 12, 8, 12, 0)) == local("Asia/Riyadh", 2026, 12, 10, 10, 0)


@pytest.mark.parametrize("zone", ["Asia/Riyadh", "Asia/Kuwait", "Asia/Dubai", "Asia/Qatar"])
def test_gulf_zones_have_a_fixed_offset(zone):
    hours = schedule({0: "09:00-17:00"}, zone=zone)
    opening = local(zone, 2026, 12, 7, 9, 0)
    assert hours.is_open(opening) and not hours.is_open(local(zone, 2026, 12, 7, 8, 59))
    assert hours.next_change(opening) == local(zone, 2026, 12, 7, 17, 0)


def test_a_zone_with_daylight_saving_keeps_wall_clock_hours():
    # London moves its clocks on 2026-03-29 (a Sunday): the shift stays 09:00-17:00 local on both sides.
    hours = schedule({day: "09:00-17:00" for day in range(7)}, zone="Europe/London")
    assert hours.is_open(datetime(2026, 3, 28, 9, 30, tzinfo=timezone.utc))  # GMT: 09:30 local
    assert not hours.is_open(datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc))  # BST: 08:30 local
    assert hours.is_open(datetime(2026, 3, 30, 8, 30, tzinfo=timezone.utc))  # BST: 09:30 local
    assert hours.next_change(datetime(2026, 3, 30, 10, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 3, 30, 16, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["18:00-18:00", "9-17", "25:00-02:00", "10:61-11:00", "abc"])
def test_unreadable_or_empty_shifts_are_refused(text):
    with pytest.raises(HoursError):
        parse_shifts(text)


def test_parse_reads_several_shifts_and_24_00():
    assert parse_shifts("09:00-15:00, 18:00–24:00") == [(time(9), time(15)), (time(18), time(0))]


@pytest.mark.parametrize("week", [
    {0: "09:00-15:00, 14:00-18:00"},  # same day
    {0: "18:00-02:00", 1: "01:00-05:00"},  # overnight into the next day
    {6: "20:00-03:00", 0: "02:00-10:00"},  # Sunday night into Monday
])
def test_overlapping_shifts_are_refused(week):
    with pytest.raises(HoursError):
        check_week({day: parse_shifts(text) for day, text in week.items()})


def test_back_to_back_shifts_are_fine():
    check_week({0: parse_shifts("09:00-15:00, 15:00-18:00"), 1: parse_shifts("00:00-02:00")})
    check_week({0: parse_shifts("18:00-00:00"), 1: parse_shifts("00:00-02:00")})


def test_holidays_end_on_or_after_their_start():
    check_holiday(date(2026, 12, 8), date(2026, 12, 8))
    with pytest.raises(HoursError):
        check_holiday(date(2026, 12, 9), date(2026, 12, 8))
