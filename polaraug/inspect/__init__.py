"""``polaraug inspect``: Stokes, DoLP, AoLP of one capture, the first thing to run on a new camera.

- :mod:`.report`: maps, pictures and the summary of a capture (:func:`inspect_capture`);
- :mod:`.example`: the built-in synthetic capture;
- :mod:`.run`: the whole command as one call (:func:`inspect_file`).
"""

from .example import write_example
from .report import FLOAT_FORMATS, InspectSummary, inspect_capture
from .run import inspect_file

__all__ = ["FLOAT_FORMATS", "InspectSummary", "inspect_capture", "inspect_file", "write_example"]
