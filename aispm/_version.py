"""The installed version of aispm."""

__version__ = "0.1.0"
