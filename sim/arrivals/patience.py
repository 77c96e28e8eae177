"""Which ``patience_by`` rule applies to each arriving contact (by priority and local time of day)."""

from __future__ import annotations

import numpy as np

from sim.config import PatienceRule, Scenario
from sim.schema import PRIORITIES

__all__ = ["local_time_of_day_s", "rule_index"]


def local_time_of_day_s(scenario: Scenario, time_s: np.ndarray) -> np.ndarray:
    """Local wall-clock time of day (seconds after midnight, in ``[0, 86400)``) of simulation times in seconds."""
    start = scenario.start
    offset = start.hour * 3600.0 + start.minute * 60.0 + start.second + start.microsecond / 1e6
    return np.mod(np.asarray(time_s, dtype=float) + offset, 86400.0)


def rule_index(rules: list[PatienceRule], scenario: Scenario, time_s: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Index of the first rule matching each contact, ``-1`` where none does.

    Args:
        rules: The intent's ``patience_by`` rules, in order.
        scenario: The scenario (its start gives the local time of day).
        time_s: Arrival times in seconds from the scenario start.
        priority: Priority codes (``sim.schema.PRIORITIES`` order: 0 normal, 1 urgent).

    Example:
        >>> import numpy as np
        >>> from sim.config import single_queue, PatienceRule
        >>> sc = single_queue(arrival_rate_per_s=0.1, mean_handle_s=60, n_agents=2)  # starts at midnight
        >>> morning = PatienceRule.model_validate(
        ...     {"priority": "urgent", "from": "07:00", "to": "12:00", "patience": {"dist": "none"}}
        ... )
        >>> t = np.array([11 * 3600 + 59 * 60, 12 * 3600, 11 * 3600 + 59 * 60])
        >>> rule_index([morning], sc, t, np.array([1, 1, 0])).tolist()
        [0, -1, -1]
    """
    tod = local_time_of_day_s(scenario, time_s)
    which = np.full(len(tod), -1, dtype=np.int64)
    urgent = np.asarray(priority) == PRIORITIES.index("urgent")
    for k in range(len(rules) - 1, -1, -1):  # the first matching rule wins: assign the last ones first
        rule = rules[k]
        m = rule.matches_time(tod)
        if rule.priority is not None:
            m &= urgent if rule.priority == "urgent" else ~urgent
        which[m] = k
    return which
