"""Scan data: the ``ScanData`` container, groups, and NPZ IO (``docs/data-contract.md``)."""

from ptychopinn.data.grouped import GroupedScan
from ptychopinn.data.scan import ScanData

__all__ = ["GroupedScan", "ScanData"]
