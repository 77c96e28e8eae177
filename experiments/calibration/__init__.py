"""Calibrating a scenario from a real call log, and backtesting it against the log.

* :mod:`experiments.calibration.mapping`: the mapping (which column is what) and reading a log, bad rows reported.
* :mod:`experiments.calibration.fit`: arrival profiles, handle times, censored patience, staffing.
* :mod:`experiments.calibration.calibrate`: ``ccsim calibrate`` (scenario, replay log, report, figures).
* :mod:`experiments.calibration.backtest`: ``ccsim backtest`` (errors next to their noise floor).
* :mod:`experiments.calibration.plots`: the figures.

See ``docs/calibration.md``. Only the light mapping module is imported here; the others load scipy and matplotlib.
"""

from experiments.calibration.mapping import CalibrationInputError, CalibrationMapping, load_mapping, read_calls

__all__ = ["CalibrationInputError", "CalibrationMapping", "load_mapping", "read_calls"]
