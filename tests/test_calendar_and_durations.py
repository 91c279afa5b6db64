from __future__ import annotations

from datetime import date, datetime

import pytest

from groupdesk.core.durations import parse_duration
from groupdesk.core.workcal import LOCAL_TZ, add_working_days, is_working_day


@pytest.mark.parametrize("text,seconds,wd", [("5m", 300, 0), ("1h30m", 5400, 0), ("2d", 172800, 0),
                                              ("30s", 30, 0), ("5wd", 0, 5), (" 45 m ", 2700, 0)])
def test_durations_parse(text, seconds, wd):
    span = parse_duration(text)
    assert (span.seconds, span.working_days) == (seconds, wd)


@pytest.mark.parametrize("text", ["5 minutes", "", "m5", "0m", "1wd2h", "-5m", "5x"])
def test_bad_durations_say_what_is_accepted(text):
    with pytest.raises(ValueError, match="30s, 5m|longer than zero|mixes working days"):
        parse_duration(text)


def test_chinese_calendar_with_make_up_workdays():
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert not is_working_day(date(2026, 2, 17))  # Spring Festival
    assert is_working_day(date(2026, 2, 14))  # a Saturday made a workday (调休)
    assert is_working_day(date(2026, 9, 20))  # a Sunday made a workday
    assert not is_working_day(date(2026, 11, 22))  # an ordinary Sunday
    assert is_working_day(date(2026, 11, 23))


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_five_working_days_across_the_national_day_holiday():
    # Requested on Tuesday 29 Sep 2026: 30 Sep is a workday, 1-7 Oct are off, Sat 10 Oct is a make-up workday.
    due = add_working_days(local(2026, 9, 29, 16, 30), 5)
    assert due == local(2026, 10, 12, 16, 30)


def test_one_working_day_after_friday_is_monday_and_keeps_the_time():
    assert add_working_days(local(2026, 11, 27, 9, 15), 1) == local(2026, 11, 30, 9, 15)


def test_make_up_saturday_counts():
    # Friday 13 Feb 2026 -> Saturday 14 Feb is a workday
    assert add_working_days(local(2026, 2, 13, 10, 0), 1) == local(2026, 2, 14, 10, 0)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 5, 10), 1)


def test_the_starts_calendar_snapshot_counts_as_the_calendar_does_and_hands_back_past_its_years():
    from groupdesk.core.workcal import snapshot
    from groupdesk.core.workdays import WorkdayCalendar, add_on

    calendar = WorkdayCalendar.model_validate_json(snapshot(2026).model_dump_json())  # as the workflow reads it
    for start, days in [(local(2026, 9, 29, 16, 30), 5), (local(2026, 2, 13, 10, 0), 1),
                        (local(2026, 11, 27, 9, 15), 1), (local(2027, 1, 28, 8, 0), 20)]:
        assert add_on(calendar, start, days) == add_working_days(start, days)
    assert add_on(calendar, local(2027, 12, 30, 9, 0), 5) is None  # leaves 2027: the activity counts it
    assert add_on(None, local(2026, 3, 2, 9, 0), 1) is None  # a start without a snapshot
