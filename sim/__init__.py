"""ccsim engine and domain model: scenarios, random streams, the SimPy contact center, and its output frames."""

from sim.config import Scenario
from sim.engine import ContactCenter, RoutingError, run
from sim.result import RunResult
from sim.streams import Streams

__all__ = ["ContactCenter", "RoutingError", "RunResult", "Scenario", "Streams", "run"]
