"""NPZ scan files: :func:`read_scan` and :func:`write_scan` (``docs/data-contract.md``).

Never unpickles (``allow_pickle`` is never set). Files are written atomically (temporary
file in the target directory, then ``os.replace``) and byte-for-byte deterministically
(fixed zip timestamps, members stored uncompressed so that :func:`read_scan` can
memory-map the diffraction stack).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ptychopinn._atomic import atomic_write
from ptychopinn.data.scan import ScanData
from ptychopinn.data.validate import IntegerCountsPolicy, validate_scan_arrays
from ptychopinn.errors import ResourceLimitError, ScanDataError

__all__ = ["SCAN_KEYS", "read_npz_arrays", "read_scan", "write_npz", "write_scan"]

SCAN_KEYS: tuple[str, ...] = ("diffraction", "diff3d", "xcoords", "ycoords", "probeGuess", "objectGuess", "scan_index")
"""Keys :func:`read_scan` reads; any other key in the file is ignored (never loaded)."""

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _memmap_member(path: Path, zf: zipfile.ZipFile, member: str) -> np.ndarray | None:
    """Memory-map an uncompressed ``.npy`` member of a zip file after checking its CRC, or None when impossible.

    The zip's integrity rules apply as on the ordinary path (zipfile checks them there): an
    encrypted member, a local header that disagrees with the central directory, an array that
    does not fill the member exactly, or a CRC-32 mismatch is a :class:`ScanDataError`.
    """
    info = zf.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    where = f"{path}: member {member}"
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ScanDataError(f"{where}: local zip header missing or damaged (the archive is corrupt)")
        flags = int.from_bytes(local[6:8], "little")
        name_len = int.from_bytes(local[26:28], "little")
        extra_len = int.from_bytes(local[28:30], "little")
        if fh.read(name_len).decode("utf-8", "replace") != member:
            raise ScanDataError(f"{where}: the local header names another member (the archive is corrupt)")
        data_start = info.header_offset + 30 + name_len + extra_len
        fh.seek(data_start)
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            return None
        offset = fh.tell()
        if dtype.hasobject or fortran:
            return None
        if (flags | info.flag_bits) & 0x1:
            raise ScanDataError(f"{where}: is encrypted; PtychoPINN reads only unencrypted NPZ files")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if offset - data_start + nbytes != info.file_size or data_start + info.compress_size > path.stat().st_size:
            raise ScanDataError(
                f"{where}: the array header declares {tuple(shape)} {dtype} ({nbytes} bytes), which does not fill "
                f"the member's {info.file_size} bytes (the file is corrupt or was edited)"
            )
        _check_crc(fh, data_start, info.compress_size, info.CRC, where=where)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="C")


def _check_crc(fh: Any, start: int, size: int, expected: int, *, where: str) -> None:
    """Stream ``size`` bytes from ``start`` and compare their CRC-32 with the zip directory's."""
    fh.seek(start)
    crc, left = 0, size
    while left > 0:
        block = fh.read(min(left, 16 << 20))
        if not block:
            raise ScanDataError(f"{where}: truncated ({size - left} of {size} bytes present)")
        crc = zlib.crc32(block, crc)
        left -= len(block)
    if crc != expected:
        raise ScanDataError(
            f"{where}: CRC-32 mismatch (expected {expected:08x}, found {crc:08x}): the file is corrupt; "
            "refusing to read it"
        )


def _check_declared_shape(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """The ``.npy`` header's shape x itemsize must fill the member exactly (checked before any allocation)."""
    try:
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                return  # numpy reports the version itself
            header = fh.tell()
    except Exception:
        return  # the read below reports the specific problem
    if dtype.hasobject:
        return
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if header + nbytes != info.file_size:
        raise ScanDataError(
            f"{p}: key '{name}': the array header declares shape {tuple(shape)} {dtype} ({nbytes} bytes), but the "
            f"member holds {info.file_size - header} bytes of data (the file is corrupt or was edited)"
        )


def _check_member_sizes(p: Path, zf: zipfile.ZipFile, names: list[str]) -> None:
    """Refuse encrypted members and members that would inflate beyond the memory limit (before inflating)."""
    from ptychopinn._safety import format_bytes, memory_limit_bytes

    limit = memory_limit_bytes()
    for name in names:
        try:
            info = zf.getinfo(name + ".npy")
        except KeyError:
            continue
        if info.flag_bits & 0x1:
            raise ScanDataError(f"{p}: key '{name}': member is encrypted; PtychoPINN reads only unencrypted NPZ files")
        _check_declared_shape(p, zf, info, name)
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > limit:
            raise ResourceLimitError(
                f"{p}: key '{name}': the compressed member inflates to {format_bytes(info.file_size)} "
                f"(from {format_bytes(info.compress_size)}); more than the {format_bytes(limit)} allowed. "
                "Store it uncompressed (numpy.savez, not savez_compressed) and read it with --mmap"
            )


def read_npz_arrays(
    path: str | os.PathLike[str], keys: tuple[str, ...] | None = None, *, mmap: bool = False
) -> dict[str, np.ndarray]:
    """Read the arrays ``keys`` (default: all) of an NPZ file without unpickling.

    Parameters
    ----------
    path : path-like
    keys : tuple of str, optional
        Keys to load; keys missing from the file are skipped.
    mmap : bool
        Memory-map uncompressed members (read-only); compressed members are loaded.

    Raises
    ------
    ScanDataError
        The file does not exist, is not an NPZ archive, or a member is corrupt or holds
        Python objects (which would need unpickling).
    """
    from ptychopinn._safety import regular_file_problem

    p = Path(path)
    if not p.exists():
        raise ScanDataError(f"{p}: no such file")
    if p.is_dir():
        raise ScanDataError(f"{p}: is a directory, expected an .npz scan file")
    problem = regular_file_problem(p)
    if problem:
        raise ScanDataError(f"{p}: {problem}; expected an .npz scan file")
    if not zipfile.is_zipfile(p):
        raise ScanDataError(
            f"{p}: not an NPZ archive, or a truncated one (expected a zip of .npy arrays written by numpy.savez or "
            "ptychopinn.data.npz.write_scan)"
        )
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(p) as zf, np.load(p, allow_pickle=False) as npz:
            names = list(npz.files)
            listed = zf.namelist()
            if len(listed) != len(set(listed)):
                twice = sorted({n for n in listed if listed.count(n) > 1})
                raise ScanDataError(
                    f"{p}: the archive holds member(s) {', '.join(twice)} more than once (which one is meant is "
                    "ambiguous: the file was edited or crafted)"
                )
            wanted = names if keys is None else [k for k in keys if k in names]
            _check_member_sizes(p, zf, wanted)
            for key in wanted:
                arr = None
                if mmap:
                    try:
                        arr = _memmap_member(p, zf, key + ".npy")
                    except ScanDataError:
                        raise
                    except (KeyError, ValueError, OSError):
                        arr = None
                if arr is None:
                    try:
                        arr = npz[key]
                    except ValueError as exc:
                        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                            raise ScanDataError(
                                f"{p}: key '{key}': holds Python objects (dtype object), which would need "
                                "unpickling; PtychoPINN never unpickles. Store a numeric array instead"
                            ) from None
                        raise ScanDataError(f"{p}: key '{key}': cannot be read ({exc})") from None
                    except (OSError, EOFError, zipfile.BadZipFile, Exception) as exc:
                        raise ScanDataError(f"{p}: key '{key}': member is corrupt or truncated ({exc})") from None
                out[key] = arr
    except (ScanDataError, ResourceLimitError):
        raise
    except Exception as exc:
        raise ScanDataError(f"{p}: cannot be opened as an NPZ archive ({type(exc).__name__}: {exc})") from None
    return out


def read_scan(
    path: str | os.PathLike[str],
    *,
    mmap: bool = False,
    integer_counts: IntegerCountsPolicy = "reject",
) -> ScanData:
    """Read and validate a scan NPZ file.

    Parameters
    ----------
    path : path-like
        NPZ file with ``diffraction`` (or legacy ``diff3d``) (M, N, N) amplitudes
        sqrt(counts), ``xcoords``/``ycoords`` (M,) object pixels, ``probeGuess`` (N, N)
        complex, optional ``objectGuess`` (H, W) complex and ``scan_index`` (M,).
    mmap : bool
        Memory-map the diffraction stack (read-only) when it is stored uncompressed as
        float32/float64; memory then grows with the batch a consumer reads, not the scan.
    integer_counts : {"reject", "sqrt"}
        Policy for integer diffraction data (photon counts): reject with a hint
        (default) or take the square root explicitly.

    Returns
    -------
    ScanData
        With ``source`` set to the path. Legacy (N, N, M) stacks are transposed with a
        :class:`~ptychopinn.data.validate.ScanDataWarning`.

    Raises
    ------
    ScanDataError
        Any violation of the data contract; the message names the file, the key, the
        expected and the found shape/dtype.
    """
    _refuse_ptychodus_export(path)
    arrays = read_npz_arrays(path, SCAN_KEYS, mmap=mmap)
    return validate_scan_arrays(arrays, source=str(path), integer_counts=integer_counts)


def _refuse_ptychodus_export(path: str | os.PathLike[str]) -> None:
    """Refuse Ptychodus's PtychoPINN export, whose units and pixel convention differ from the contract.

    Such a file stores counts (not amplitudes) under ``diff3d``, positions with the pixel
    centre at (N-1)/2, probe modes and ``bad_pixels``; reading it as a contract file would
    silently square the signal and shift every position by half a pixel.
    """
    from ptychopinn._safety import regular_file_problem

    if regular_file_problem(path):
        return  # read_npz_arrays reports the specific problem
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n[:-4] for n in zf.namelist() if n.endswith(".npy")}
    except Exception:  # BadZipFile, NotImplementedError (unknown zip version), OSError...
        return  # read_npz_arrays reports the specific problem
    if "bad_pixels" in names and "diff3d" in names and "diffraction" not in names:
        raise ScanDataError(
            f"{path}: looks like Ptychodus's PtychoPINN training-data export (counts under 'diff3d', "
            "'bad_pixels', positions with the pixel centre at (N-1)/2), not a PtychoPINN scan file; read it "
            "with ptychopinn.data.ptychodus_import.read_ptychodus_training_data, which converts counts, "
            "positions and probe modes, then save it with ptychopinn.write_scan"
        )


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` as an uncompressed NPZ file, atomically and deterministically.

    Refuses object arrays (they would need pickling to read back).
    """
    p = Path(path)
    for key, value in arrays.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise ScanDataError(f"{p}: invalid array key {key!r}")
        if np.asarray(value).dtype.hasobject:
            raise ScanDataError(f"{p}: key '{key}': object arrays cannot be written (they need pickling)")
    from ptychopinn._safety import check_output_target

    check_output_target(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(p) as fh, zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as member:
                arr = np.asarray(value)  # keeps 0-d arrays 0-d (ascontiguousarray would not)
                if not arr.flags.c_contiguous:
                    arr = arr.copy(order="C")
                np.lib.format.write_array(member, arr, allow_pickle=False)
    return p


def write_scan(path: str | os.PathLike[str], scan: ScanData, *, extra: Mapping[str, Any] | None = None) -> Path:
    """Write a scan as an NPZ file that :func:`read_scan` reads back identically.

    Parameters
    ----------
    path : path-like
        Target file (written atomically: a temporary file in the same directory, then
        ``os.replace``; no half-written file is ever left at ``path``).
    scan : ScanData
    extra : mapping of str to array, optional
        Additional numeric arrays (e.g. simulation parameters); must not reuse a scan key.

    Returns
    -------
    Path
        ``path``.
    """
    arrays: dict[str, np.ndarray] = {
        "diffraction": np.asarray(scan.diffraction, dtype=np.float32),
        "xcoords": np.asarray(scan.xcoords, dtype=np.float64),
        "ycoords": np.asarray(scan.ycoords, dtype=np.float64),
        "probeGuess": np.asarray(scan.probe, dtype=np.complex64),
    }
    if scan.object is not None:
        arrays["objectGuess"] = np.asarray(scan.object, dtype=np.complex64)
    if scan.scan_index is not None:
        arrays["scan_index"] = np.asarray(scan.scan_index, dtype=np.int64)
    for key, value in (extra or {}).items():
        if key in SCAN_KEYS:
            raise ScanDataError(f"{path}: extra key '{key}' collides with a scan key")
        arrays[key] = np.asarray(value)
    return write_npz(path, arrays)
