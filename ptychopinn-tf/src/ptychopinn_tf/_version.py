"""Version of the ``ptychopinn-tf`` distribution."""

__version__ = "0.1.0"
