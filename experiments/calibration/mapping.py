"""The calibration mapping (which log column is what) and reading a log into one clean frame of calls.

A mapping is a small YAML file, like a replay mapping (``docs/calibration.md`` has the full reference)::

    columns:
      arrival: arrival          # date-time the call entered the system (the IVR)
      queue_entry: vru_exit     # clock time (HH:MM:SS, same day as arrival) or date-time it reached the agents
      wait: q_time              # seconds waited in the agent queue (0 or empty when not queued)
      talk: ser_time            # talk time, seconds
      service_start: ser_start  # clock time or date-time service started (empty when not served)
      service_end: ser_exit
      server: server            # agent name
      outcome: outcome
      intent: type
      priority: priority
    outcomes: {served: [AGENT], abandoned: [HANG], ignore: [PHANTOM]}
    no_server: [NO_SERVER]
    require_any: [q_start, ser_start]
    values:
      intent: {PS: retail, IN: internet}
      priority: {"0": normal, "1": normal, "2": urgent}
    groups: {internet: [internet], bank: [retail]}

Every row of the log is either used, skipped on purpose (``outcomes.ignore``, ``drop``, ``require_any``: counted
in :attr:`CallLog.skipped`) or bad. A bad row (unparseable timestamp or clock time, negative or non-numeric
duration, an outcome or intent value the mapping does not know) is never dropped silently: with ``on_bad: refuse``
(the default) the whole log is refused with a :class:`CalibrationInputError` listing every problem and its first
rows; with ``on_bad: skip`` the bad rows are skipped and listed in :attr:`CallLog.bad` (reports print them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from experiments.scenario_errors import CalibrationInputError
from sim.config import WEEKDAYS, Weekday
from sim.units import MODEL_CONFIG, PositiveDuration, TimeOfDay

__all__ = [
    "BadRows",
    "CalibrationInputError",
    "CalibrationMapping",
    "CallLog",
    "load_mapping",
    "read_calls",
]

_FIELDS = (
    "arrival", "queue_entry", "wait", "talk", "service_start", "service_end", "server", "outcome", "intent",
    "priority", "language", "customer",
)  # fmt: skip


class MappingColumns(BaseModel):
    """Log column of each field. ``arrival``, ``wait``, ``talk``, ``outcome`` and ``intent`` are required."""

    model_config = MODEL_CONFIG
    arrival: str
    queue_entry: str | None = None
    wait: str
    talk: str
    service_start: str | None = None
    service_end: str | None = None
    server: str | None = None
    outcome: str
    intent: str
    priority: str | None = None
    language: str | None = None
    customer: str | None = None


class Outcomes(BaseModel):
    """Log values of the outcome column: served (reached an agent), abandoned (hung up), ignore (not a call)."""

    model_config = MODEL_CONFIG
    served: list[str] = Field(min_length=1)
    abandoned: list[str] = Field(min_length=1)
    ignore: list[str] = Field(default_factory=list)


DEFAULT_DAY_TYPES: dict[str, list[Weekday]] = {
    "weekday": ["mon", "tue", "wed", "thu", "fri"],
    "saturday": ["sat"],
    "sunday": ["sun"],
}


class CalibrationMapping(BaseModel):
    """What each log column means, how its values map to scenario names, and how to group days and agents.

    Attributes:
        columns: Log column of each field (:class:`MappingColumns`).
        outcomes: Outcome values (:class:`Outcomes`). A call that has a service start is served whatever its
            outcome (the Technion log has 22 calls marked hung up after reaching an agent).
        no_server: Values of the server column that mean "nobody".
        require_any: Log columns of which at least one must be non-empty for the call to count as seeking an
            agent (``[q_start, ser_start]``); other rows ended before the agent queue and are skipped, counted.
        drop: Per log column, values whose rows are skipped on purpose (counted).
        values: Per field (``intent``, ``priority``, ``language``), log value -> scenario name. Priority maps to
            ``urgent``/``normal``. A value with no entry is a bad row.
        channel: The scenario channel of every call.
        groups: Agent group -> the scenario intents its agents are meant for. Each agent in the log joins the
            group that holds most of the calls it served (ties: the first group listed); a group's skills are the
            intents its agents actually served (at least ``min_skill_share`` of its calls).
        min_skill_share: See ``groups``.
        day_types: Day type -> weekdays, for arrival profiles (default: weekday / saturday / sunday).
        interval: Length of a staffing and reporting interval (a duration string).
        presence_gap: An agent counts as on duty between two of its services at most this far apart (default
            15min); the staffing table is the agents on duty per interval (a fractional headcount).
        patience_windows: Start times of the time-of-day windows patience is fitted in (``["07:00", "17:00",
            "20:00"]``: 07-17, 17-20, 20-07), per intent and priority, where a window has enough abandons;
            empty (the default): patience by intent and priority only.
        capacity_loss: How the time agents on duty do not talk is modelled: ``availability`` (the default: fewer
            agents, ``on duty x availability``) or ``wrap_up`` (every agent on duty, each call followed by a fixed
            after-call time; the log records none, so it is fitted: see
            :func:`experiments.calibration.calibrate.refine_capacity`). With few agents on duty, rounding
            ``on duty x availability`` to whole agents loses capacity; a wrap-up does not.
        availability_by: ``none`` (the default: one availability factor per group) or ``hour``: the share of the
            on-duty agents taking calls also varies by hour of the day, estimated on the calibration window from
            the seconds when a caller was waiting (then every available agent is talking, so talking / on duty
            is the available share); see :func:`experiments.calibration.fit.availability_by_hour`. The factor per
            group is still refined by simulation; the hourly profile scales the table's agents.
        passthrough: Log columns copied into the simulated contacts frame as ``log_<column>``.
        priority_head_start: If set, the written scenario routes with the ``priority`` policy and this head
            start for urgent callers (the Technion bank gave priority 2 a 1.5-minute head start).
        on_bad: ``refuse`` (default) or ``skip`` bad rows (listed in the report either way).
    """

    model_config = MODEL_CONFIG
    columns: MappingColumns
    outcomes: Outcomes
    no_server: list[str] = Field(default_factory=list)
    require_any: list[str] = Field(default_factory=list)
    drop: dict[str, list[str]] = Field(default_factory=dict)
    values: dict[Literal["intent", "priority", "language"], dict[str, str]] = Field(default_factory=dict)
    channel: str = "voice"
    groups: dict[str, Annotated[list[str], Field(min_length=1)]] = Field(min_length=1)
    min_skill_share: float = Field(0.001, ge=0.0, lt=1.0)
    day_types: dict[str, Annotated[list[Weekday], Field(min_length=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_DAY_TYPES)
    )
    interval: PositiveDuration = 1800.0
    presence_gap: PositiveDuration = 900.0
    patience_windows: list[TimeOfDay] = Field(default_factory=list)
    capacity_loss: Literal["availability", "wrap_up"] = "availability"
    availability_by: Literal["none", "hour"] = "none"
    passthrough: list[str] = Field(default_factory=list)
    priority_head_start: PositiveDuration | None = None
    on_bad: Literal["refuse", "skip"] = "refuse"

    @model_validator(mode="after")
    def _check(self) -> CalibrationMapping:
        problems = []
        seen = [d for days in self.day_types.values() for d in days]
        missing = [d for d in WEEKDAYS if d not in seen]
        twice = sorted({d for d in seen if seen.count(d) > 1})
        if missing or twice:
            problems.append(f"day_types: every weekday exactly once; missing {missing}, listed twice {twice}")
        bad_prio = sorted(set(self.values.get("priority", {}).values()) - {"urgent", "normal"})
        if bad_prio:
            problems.append(f"values.priority: targets must be 'urgent' or 'normal', got {bad_prio}")
        intents = set(self.values.get("intent", {}).values())
        listed = [i for members in self.groups.values() for i in members]
        if intents and set(listed) - intents:
            problems.append(f"groups: unknown intents {sorted(set(listed) - intents)}; known {sorted(intents)}")
        if intents and intents - set(listed):
            problems.append(f"groups: intents in no group {sorted(intents - set(listed))}")
        if self.interval > 86400 or 86400 % self.interval:
            problems.append(f"interval: {self.interval:g}s must divide a day")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def log_columns(self) -> list[str]:
        """Every log column the mapping reads."""
        cols = [c for c in self.columns.model_dump().values() if c]
        cols += self.require_any + list(self.drop) + self.passthrough
        return list(dict.fromkeys(cols))


def load_mapping(path: str | os.PathLike[str]) -> CalibrationMapping:
    """Read and validate a mapping YAML file.

    Raises:
        CalibrationInputError: Missing file, bad YAML, or invalid fields (each named by its path).
    """
    p = Path(path)
    if not p.is_file():
        raise CalibrationInputError(f"{p}: mapping file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CalibrationInputError(f"{p}: not valid YAML: {exc}") from exc
    try:
        return CalibrationMapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']} (got {str(err.get('input'))[:80]!r})")
        raise CalibrationInputError(f"{p}: invalid calibration mapping:\n" + "\n".join(lines)) from None


@dataclass(frozen=True)
class BadRows:
    """Rows of one kind of problem: the column, what is wrong, how many, and the first few (line, value)."""

    column: str
    problem: str
    count: int
    examples: list[tuple[int, str]]

    def __str__(self) -> str:
        first = ", ".join(f"line {line}: {value[:40]!r}" for line, value in self.examples)
        return f"column {self.column!r}: {self.count} row(s) {self.problem}; first: {first}"


@dataclass
class CallLog:
    """The calls of a log, one row each, in log order, with times in seconds and names mapped.

    ``calls`` columns: ``source_row`` (0-based data row in the file), ``line`` (file line, header = 1),
    ``arrival`` (Timestamp, entry into the system), ``queue_arrival`` (Timestamp, reached the agent queue),
    ``date`` (the calendar date of ``queue_arrival``), ``intent``, ``priority`` (``urgent``/``normal``),
    ``wait_s`` (queue wait, seconds), ``talk_s`` (talk time, seconds; NaN if not served), ``served`` (bool),
    ``abandoned`` (bool), ``server`` (agent name or ``""``), ``service_start`` / ``service_end`` (Timestamps or
    NaT), ``language``, ``customer``, and the passthrough columns as ``log_<column>``.
    """

    path: Path
    calls: pd.DataFrame
    rows_read: int
    skipped: dict[str, int] = field(default_factory=dict)
    bad: list[BadRows] = field(default_factory=list)

    @property
    def bad_total(self) -> int:
        """Rows skipped as bad (``on_bad: skip``)."""
        return int(sum(b.count for b in self.bad))


def _read_frame(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise CalibrationInputError(f"{path}: log file not found")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path).astype(str).replace({"None": "", "nan": "", "NaT": ""})
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except (OSError, ValueError, EOFError) as exc:
        raise CalibrationInputError(f"{path}: cannot read the log: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CalibrationInputError(
            f"{path}: missing column(s) {missing} that the mapping names; the log has {list(frame.columns)[:30]}"
        )
    return frame[columns]


def _clock(values: pd.Series, base: pd.Series) -> pd.Series:
    """Clock times (HH:MM:SS) or date-times, as Timestamps on the day of ``base``.

    A clock time more than 12 hours before ``base`` is on the next day (the call crossed midnight).
    """
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    text = values.str.strip()
    has = text != ""
    is_clock = has & text.str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?")
    if is_clock.any():
        parts = text[is_clock].str.split(":", expand=True).astype(float).reindex(columns=[0, 1, 2]).fillna(0.0)
        valid = (parts[0] < 24) & (parts[1] < 60) & (parts[2] < 60)
        delta = pd.to_timedelta((parts[0] * 3600 + parts[1] * 60 + parts[2]).where(valid), unit="s")
        day = base[is_clock].dt.normalize()
        stamp = day + delta
        stamp = stamp.where(~(stamp < base[is_clock] - pd.Timedelta(hours=12)), stamp + pd.Timedelta(days=1))
        out[is_clock] = stamp
    other = has & ~is_clock
    if other.any():
        out[other] = pd.to_datetime(text[other], errors="coerce", format="ISO8601")
    return out


def read_calls(
    path: str | os.PathLike[str],
    mapping: CalibrationMapping,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> CallLog:
    """Read a log into a :class:`CallLog` of agent-seeking calls, checking every row.

    Args:
        path: CSV (optionally compressed) or Parquet log.
        mapping: What the columns mean.
        start: Keep calls reaching the queue at or after this time (default: all).
        end: Keep calls reaching the queue before this time (default: all).

    Raises:
        CalibrationInputError: A missing file or column, or bad rows with ``on_bad: refuse``; the message lists
            each kind of problem with its count and first lines.
    """
    p = Path(path)
    cols = mapping.columns
    raw = _read_frame(p, mapping.log_columns())
    n = len(raw)
    line = np.arange(n) + 2
    keep = np.ones(n, dtype=bool)
    skipped: dict[str, int] = {}

    def skip(mask: np.ndarray, reason: str) -> None:
        hit = mask & keep
        if hit.any():
            skipped[reason] = skipped.get(reason, 0) + int(hit.sum())
            keep[hit] = False

    outcome = raw[cols.outcome].str.strip()
    skip(outcome.isin(mapping.outcomes.ignore).to_numpy(), f"ignore {cols.outcome}={mapping.outcomes.ignore}")
    for column, values in mapping.drop.items():
        skip(raw[column].str.strip().isin(values).to_numpy(), f"drop {column}={values}")
    if mapping.require_any:
        any_set = np.zeros(n, dtype=bool)
        for column in mapping.require_any:
            any_set |= (raw[column].str.strip() != "").to_numpy()
        skip(~any_set, f"require_any {mapping.require_any}")

    bad: list[BadRows] = []
    bad_mask = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, column: str, problem: str, values: pd.Series) -> None:
        hit = mask & keep
        if hit.any():
            idx = np.flatnonzero(hit)
            bad.append(BadRows(column, problem, int(hit.sum()), [(int(line[i]), str(values.iloc[i])) for i in idx[:5]]))
            bad_mask[hit] = True

    arrival = pd.to_datetime(raw[cols.arrival].str.strip(), errors="coerce", format="ISO8601")
    flag(arrival.isna().to_numpy(), cols.arrival, "with an unparseable or empty timestamp", raw[cols.arrival])
    if cols.queue_entry:
        queue = _clock(raw[cols.queue_entry], arrival)
        bad_q = (queue.isna() & (raw[cols.queue_entry].str.strip() != "")).to_numpy() & arrival.notna().to_numpy()
        flag(bad_q, cols.queue_entry, "with an unparseable clock time or timestamp", raw[cols.queue_entry])
        queue = queue.fillna(arrival)
    else:
        queue = arrival

    def duration(column: str) -> pd.Series:
        text = raw[column].str.strip()
        values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
        flag((values.isna() & (text != "") & (text.str.lower() != "nan")).to_numpy(), column,
             "with a non-numeric duration", raw[column])
        flag((values < 0).to_numpy(), column, "with a negative duration", raw[column])
        flag(np.isinf(values.to_numpy()), column, "with an infinite duration", raw[column])
        return values

    wait = duration(cols.wait).fillna(0.0)
    talk = duration(cols.talk)
    known = mapping.outcomes.served + mapping.outcomes.abandoned
    flag((~outcome.isin(known)).to_numpy(), cols.outcome, f"with an outcome that is not in {known}", raw[cols.outcome])

    def mapped(name: str, column: str | None, default: str) -> pd.Series:
        if column is None:
            return pd.Series(default, index=raw.index)
        text = raw[column].str.strip()
        table = mapping.values.get(name)  # type: ignore[call-overload]
        if not table:
            return text
        out = text.map(table)
        flag(out.isna().to_numpy(), column, f"with a {name} value not in values.{name} {sorted(table)}", text)
        return out.fillna("")

    intent = mapped("intent", cols.intent, "")
    priority = mapped("priority", cols.priority, "normal")
    language = mapped("language", cols.language, "")

    start_t = _clock(raw[cols.service_start], arrival) if cols.service_start else pd.Series(pd.NaT, index=raw.index)
    end_t = _clock(raw[cols.service_end], arrival) if cols.service_end else pd.Series(pd.NaT, index=raw.index)
    if cols.service_start:
        flag((start_t.isna() & (raw[cols.service_start].str.strip() != "")).to_numpy() & arrival.notna().to_numpy(),
             cols.service_start, "with an unparseable clock time or timestamp", raw[cols.service_start])
    if cols.service_end:
        flag((end_t.isna() & (raw[cols.service_end].str.strip() != "")).to_numpy() & arrival.notna().to_numpy(),
             cols.service_end, "with an unparseable clock time or timestamp", raw[cols.service_end])
        # a service end before its start is a negative duration in clock form
        end_t = end_t.where(~(end_t < start_t - pd.Timedelta(seconds=2)), end_t + pd.Timedelta(days=1))

    if bad and mapping.on_bad == "refuse":
        lines = "\n".join(f"  {b}" for b in bad)
        raise CalibrationInputError(
            f"{p}: bad rows in the log (fix them, or set on_bad: skip in the mapping to skip and report them):\n"
            f"{lines}"
        )
    keep &= ~bad_mask

    served = outcome.isin(mapping.outcomes.served).to_numpy().copy()
    if cols.service_start:
        served |= start_t.notna().to_numpy()  # reached an agent, whatever the outcome says
    server = raw[cols.server].str.strip() if cols.server else pd.Series("", index=raw.index)
    server = server.where(~server.isin(mapping.no_server), "")
    calls = pd.DataFrame({
        "source_row": np.arange(n),
        "line": line,
        "arrival": arrival,
        "queue_arrival": queue,
        "intent": intent,
        "priority": priority,
        "language": language,
        "wait_s": wait.astype(float),
        "talk_s": talk.where(served & (talk > 0)).astype(float),
        "served": served,
        "abandoned": ~served,
        "server": server.where(served, ""),
        "service_start": start_t,
        "service_end": end_t,
        "customer": raw[cols.customer].str.strip() if cols.customer else "",
    })
    for column in mapping.passthrough:
        calls[f"log_{column}"] = raw[column].to_numpy()
    calls = calls[keep]
    if start is not None:
        before = calls["queue_arrival"] < start
        if before.any():
            skipped["before window"] = int(before.sum())
        calls = calls[~before]
    if end is not None:
        after = calls["queue_arrival"] >= end
        if after.any():
            skipped["after window"] = int(after.sum())
        calls = calls[~after]
    calls = calls.assign(date=calls["queue_arrival"].dt.normalize()).reset_index(drop=True)
    if bad:
        skipped["bad rows (on_bad: skip)"] = int(bad_mask.sum())
    return CallLog(path=p, calls=calls, rows_read=n, skipped=skipped, bad=bad)
