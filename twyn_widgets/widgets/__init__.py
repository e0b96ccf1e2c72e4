"""The display layer: widgets that render the polling engine's snapshots (no polling logic)."""

from __future__ import annotations

from .board import SimulationBoard
from .launcher import SimulationLauncher
from .live import set_notify_default
from .watcher import SimulationWatcher

__all__ = ["SimulationBoard", "SimulationLauncher", "SimulationWatcher", "set_notify_default"]
