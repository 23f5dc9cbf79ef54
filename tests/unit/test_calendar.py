from datetime import UTC, date, datetime

import pandas as pd

from tickcast.data.calendar import trading_calendar

CAL = trading_calendar()


def test_next_session_skips_weekends_and_holidays() -> None:
    assert CAL.next_session(date(2017, 9, 1)) == date(
        2017, 9, 5
    )  # Friday -> Tuesday after Labor Day
    assert CAL.next_session(date(2017, 7, 3)) == date(2017, 7, 5)  # Independence Day
    assert CAL.next_session(date(2017, 1, 7)) == date(2017, 1, 9)  # from a Saturday
    assert CAL.next_session(date(2016, 12, 23)) == date(2016, 12, 27)


def test_previous_session() -> None:
    assert CAL.previous_session(date(2017, 9, 5)) == date(2017, 9, 1)
    assert CAL.previous_session(date(2018, 1, 2)) == date(2017, 12, 29)
    assert CAL.previous_session(date(2017, 1, 8)) == date(2017, 1, 6)


def test_sessions_between_is_inclusive_and_skips_closures() -> None:
    sessions = CAL.sessions_between(date(2012, 10, 26), date(2012, 11, 2))
    # Hurricane Sandy closed the NYSE on 29 and 30 October 2012.
    assert sessions == [
        date(2012, 10, 26),
        date(2012, 10, 31),
        date(2012, 11, 1),
        date(2012, 11, 2),
    ]
    assert CAL.sessions_between(date(2017, 1, 7), date(2017, 1, 8)) == []


def test_is_session_and_mask() -> None:
    assert CAL.is_session(date(2017, 1, 3))
    assert not CAL.is_session(date(2017, 1, 2))  # New Year observed
    mask = CAL.sessions_mask(pd.Series(pd.to_datetime(["2017-01-03", "2017-01-07", "2017-12-25"])))
    assert mask.tolist() == [True, False, False]


def test_latest_completed_session_waits_for_the_close() -> None:
    before_close = datetime(2017, 9, 5, 19, 0, tzinfo=UTC)  # 15:00 New York
    after_close = datetime(2017, 9, 5, 20, 30, tzinfo=UTC)  # 16:30 New York
    assert CAL.latest_completed_session(before_close) == date(2017, 9, 1)
    assert CAL.latest_completed_session(after_close) == date(2017, 9, 5)
    assert CAL.latest_completed_session(datetime(2017, 9, 9, 12, tzinfo=UTC)) == date(2017, 9, 8)
