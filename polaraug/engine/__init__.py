"""What every training stage shares: device choice, torchrun set-up and teardown, resumable logs, and one
training loop with callbacks (in the spirit of ultralytics' trainer). A stage brings only its step
function and its hooks."""

from .device import pick_device
from .distributed import DistContext, setup_distributed
from .logs import ResumableCsv, open_tensorboard
from .trainer import EVENTS, Schedule, StepInfo, TrainLoop, TrainResult

__all__ = ["EVENTS", "DistContext", "ResumableCsv", "Schedule", "StepInfo", "TrainLoop", "TrainResult",
           "open_tensorboard", "pick_device", "setup_distributed"]
