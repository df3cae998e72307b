"""polaraug: physically valid polarimetric datasets from labelled RGB road scenes."""

__version__ = "0.1.0"
