"""The study's storage: open, fingerprint, refuse to resume another search."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from experiments.optimize.errors import OptimizeError
from sim.problems import short_repr

if TYPE_CHECKING:
    import optuna

_FORMAT = "ccsim-optimize/1"
"""Marker of a ccsim study (``study.user_attrs["ccsim"]["format"]``)."""


def _redacted(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _storage(url: str) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage for ``url``; any failure to reach it is an :class:`OptimizeError` naming the URL."""
    import optuna

    # SQLite: wait for a concurrent writer instead of failing at once. Servers: check pooled connections first.
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    )
    try:
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except Exception as exc:
            if "duplicate key" not in str(exc) and "already exists" not in str(exc):
                raise
            # Several workers started together on a new database raced to create Optuna's tables; one won.
            time.sleep(1.0)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError as exc:
        raise OptimizeError(
            f"cannot open the study storage {_redacted(url)}: its database driver is not installed ({exc}); "
            "install it, or name an installed one (PostgreSQL with psycopg 3: postgresql+psycopg://...)"
        ) from None
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OptimizeError(f"cannot open the study storage {_redacted(url)}: {reason}") from None


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    if old.get("scenario_hash") != new["scenario_hash"]:
        out.append(
            f"it was made for another scenario ({old.get('scenario')!r}, hash {str(old.get('scenario_hash'))[:12]}; "
            f"now {new['scenario']!r}, hash {new['scenario_hash'][:12]})"
        )
    if old.get("space_hash") != new["space_hash"]:
        before, after = old.get("space") or {}, new["space"]
        changed = [
            f"{key} {short_repr(before.get(key), 60)} -> {short_repr(after.get(key), 60)}"
            for key in after
            if json.dumps(before.get(key), sort_keys=True) != json.dumps(after.get(key), sort_keys=True)
        ]
        out.append(f"it was made for another space ({'; '.join(changed) or 'hash ' + new['space_hash'][:12]})")
    if old.get("mode") != new["mode"]:
        out.append(f"it is a {old.get('mode')} study; this run asks for a {new['mode']} one")
    return out


def open_study(
    storage: str, study_name: str, fingerprint: Mapping[str, Any], *, pareto: bool, seed: int
) -> optuna.Study:
    """Create the study, or load it when it exists and was made for the same scenario, space and mode.

    Args:
        storage: An Optuna storage URL (``sqlite:///path/study.db``, ``postgresql://...``).
        study_name: Name of the study in the storage.
        fingerprint: What identifies the search (``scenario_hash``, ``space_hash``, ``mode``...); stored in
            ``study.user_attrs["ccsim"]``.
        pareto: Two objectives (cost, worst target margin) instead of a constrained cost.
        seed: Seed of the sampler (TPE).

    Raises:
        OptimizeError: The storage cannot be reached, or the existing study is not a ccsim study or was made
            for another scenario, space or mode (the reasons are listed).
    """
    import optuna

    rdb = _storage(storage)
    try:
        study_id = rdb.get_study_id_from_name(study_name)
    except KeyError:
        study_id = None
    if study_id is not None:
        old = _ccsim_attrs(rdb, study_id)
        if not isinstance(old, dict) or old.get("format") != _FORMAT:
            raise OptimizeError(
                f"study {study_name!r} in {_redacted(storage)} was not made by ccsim optimize; choose another --study"
            )
        problems = _differences(old, fingerprint)
        if problems:
            raise OptimizeError(
                f"refusing to resume study {study_name!r} in {_redacted(storage)}: {'; '.join(problems)}. "
                "Use another --out (or --study) for a new search."
            )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=rdb,
        study_name=study_name,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.NopPruner(),  # the feasibility test runs in the objective (experiments.optimize.evaluate)
        directions=["minimize", "maximize"] if pareto else ["minimize"],
        load_if_exists=True,
    )
    if study_id is None:
        study.set_user_attr("ccsim", dict(fingerprint))
    return study


def _ccsim_attrs(rdb: Any, study_id: int, wait_s: float = 30.0) -> Any:
    """The ``ccsim`` fingerprint of a study, waiting for it while another worker is still creating the study.

    ``open_study`` creates a study and then stores its fingerprint: a second worker started at the same moment can
    find the study in between. A study without a fingerprint and without trials is taken to be in that state and
    re-read every 0.1 s for up to ``wait_s`` seconds; one with trials and no fingerprint was not made by ccsim.
    """
    deadline = time.monotonic() + wait_s
    while True:
        old = rdb.get_study_user_attrs(study_id).get("ccsim")
        if old is not None or rdb.get_all_trials(study_id, deepcopy=False) or time.monotonic() > deadline:
            return old
        time.sleep(0.1)
