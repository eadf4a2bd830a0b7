"""Version of the ``ptychopinn-torch`` distribution."""

__version__ = "0.1.0"
