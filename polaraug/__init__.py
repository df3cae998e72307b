"""polaraug: physically valid polarimetric datasets from labelled RGB road scenes."""

import os

__version__ = "0.1.0"

# The thread count the user asked for, read before anything imports ultralytics: its import sets the variable to 1
# when it is unset (see polaraug.engine.device.cpu_threads).
OMP_NUM_THREADS_AT_IMPORT = os.environ.get("OMP_NUM_THREADS")
