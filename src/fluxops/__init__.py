"""Flux Operations Center: an open operations center for electric distribution utilities."""

__version__ = "0.1.0"
