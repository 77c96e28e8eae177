""":func:`sim.metrics.target_figures`: windowed, every-interval and per-day target attainment, checked exactly on
hand-made interval frames."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from sim.config import TargetWindow
from sim.metrics import interval_attainment, target_figures

MONDAY = dt.datetime(2026, 11, 9)
H = 3600.0


def frame(rows: list[tuple[float, int, int, int]]) -> pd.DataFrame:
    """``intervals`` rows from ``(interval_start_s, answered, answered_within_20s, abandoned)``; no short abandons.

    Several rows may share an interval (segments, e.g. two channels): they are summed.
    """
    start, answered, within, abandoned = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "interval_start_s": start,
            "answered": answered,
            "answered_within_20s": within,
            "abandoned": abandoned,
            "abandoned_short": 0,
            "abandoned_within_20s": 0,
            "censored_over_20s": 0,
        }
    )


# Two days of hourly intervals. Monday 19:00-22:00 is the understaffed evening.
TWO_DAYS = frame(
    [
        (9 * H, 10, 10, 0),  # Mon 09:00: 100%
        (19 * H, 10, 9, 0),  # Mon 19:00: 90%
        (20 * H, 6, 3, 0),  # Mon 20:00: one segment ...
        (20 * H, 4, 2, 0),  # ... and another: 5 / 10 = 50%
        (21 * H, 0, 0, 0),  # Mon 21:00: nobody called: left out of the worst and the share
        (24 * H + 9 * H, 20, 20, 0),  # Tue 09:00: 100%
        (24 * H + 20 * H, 8, 6, 2),  # Tue 20:00: abandons_bad 6 / 10 = 60%
    ]
)


def figures(window: dict | None, aggregation: str = "every_interval", level: float = 0.8):
    return target_figures(
        TWO_DAYS,
        threshold_s=20.0,
        level=level,
        convention="abandons_bad",
        start=MONDAY,
        window=None if window is None else TargetWindow.model_validate(window),
        aggregation=aggregation,  # type: ignore[arg-type]
    )


def test_every_interval_in_an_evening_window():
    f = figures({"start": "19:00", "end": "22:00"})
    # Mon 19, 20, 21 and Tue 20 are in the window; Mon 21 has no contact.
    assert f.attainment == pytest.approx((9 + 5 + 6) / (10 + 10 + 10))
    assert f.worst_interval == pytest.approx(0.5)
    assert f.worst_interval_start_s == 20 * H
    assert f.n_intervals == 3
    assert f.interval_share == pytest.approx(1 / 3)
    assert f.met == 0.0
    assert f.days == {dt.date(2026, 11, 9): pytest.approx(14 / 20), dt.date(2026, 11, 10): pytest.approx(0.6)}


def test_pooled_target_meets_what_its_worst_interval_does_not():
    whole = figures(None, aggregation="pooled", level=0.75)
    assert whole.attainment == pytest.approx(50 / 60)  # counts summed over the intervals, then divided
    assert whole.met == 1.0
    every = figures(None, aggregation="every_interval", level=0.75)
    assert every.attainment == whole.attainment  # the pooled figure is the same; met is decided differently
    assert every.worst_interval == pytest.approx(0.5)
    assert every.interval_share == pytest.approx(3 / 5)  # Mon 09, Mon 19, Tue 09 of the 5 with contacts
    assert every.met == 0.0
    # Without a window the days are calendar dates, each pooled.
    assert every.days == {dt.date(2026, 11, 9): pytest.approx(24 / 30), dt.date(2026, 11, 10): pytest.approx(26 / 30)}


def test_dates_and_days_select_the_window_day():
    tuesday = figures({"dates": ["2026-11-10"], "start": "19:00", "end": "22:00"})
    assert tuesday.attainment == pytest.approx(0.6)
    assert tuesday.worst_interval_start_s == 24 * H + 20 * H
    assert list(tuesday.days) == [dt.date(2026, 11, 10)]
    assert figures({"days": ["mon"]}).attainment == pytest.approx(24 / 30)


def test_every_interval_meeting_the_level_is_met_and_equality_counts():
    # Mon 19:00 is 9/10: exactly the level.
    f = figures({"dates": ["2026-11-09"], "start": "19:00", "end": "20:00"}, level=0.9)
    assert (f.worst_interval, f.interval_share, f.met) == (pytest.approx(0.9), 1.0, 1.0)


def test_wrapping_window_reports_under_the_day_it_opened():
    f = figures({"start": "20:00", "end": "10:00"}, aggregation="pooled")
    # Mon 09 belongs to Sunday's window (it opened before the run); Mon 20, 21 (empty) and Tue 09 to Monday's;
    # Tue 20 to Tuesday's.
    assert f.days == {
        dt.date(2026, 11, 8): pytest.approx(1.0),
        dt.date(2026, 11, 9): pytest.approx(25 / 30),
        dt.date(2026, 11, 10): pytest.approx(0.6),
    }


def test_no_contacts_gives_nan_not_met_or_missed():
    f = figures({"dates": ["2026-11-09"], "start": "21:00", "end": "22:00"})
    assert math.isnan(f.attainment)
    assert math.isnan(f.worst_interval)
    assert math.isnan(f.worst_interval_start_s)
    assert math.isnan(f.interval_share)
    assert math.isnan(f.met)
    assert f.n_intervals == 0
    assert math.isnan(f.days[dt.date(2026, 11, 9)])
    empty = target_figures(None, threshold_s=20.0, level=0.8, convention="abandons_bad", start=MONDAY)
    assert math.isnan(empty.attainment)
    assert empty.days == {}


def test_interval_attainment_sums_the_segments_of_an_interval():
    sl = interval_attainment(TWO_DAYS, 20.0, "abandons_bad")
    assert list(sl.index) == [9 * H, 19 * H, 20 * H, 21 * H, 33 * H, 44 * H]
    assert sl.loc[20 * H] == pytest.approx(0.5)
    assert math.isnan(sl.loc[21 * H])
    assert sl.loc[44 * H] == pytest.approx(0.6)
    # The convention matters: ignoring the Tuesday evening abandons gives 6 / 8.
    assert interval_attainment(TWO_DAYS, 20.0, "ignore_abandons").loc[44 * H] == pytest.approx(6 / 8)
