"""Far-field propagation: one FFT convention for the whole project.

Convention (``docs/conventions.md``): the far field of an exit wave ``psi`` of shape
(..., N, N) is ``fftshift(fft2(psi, norm="ortho"))`` over the last two axes, so that

- the transform is unitary (Parseval: ``sum |F|^2 == sum |psi|^2``);
- the zero spatial frequency sits at pixel ``(N // 2, N // 2)`` of the pattern, as on a
  detector ("DC centred");
- the input is *not* ``ifftshift``-ed: that would only multiply the far field by a
  checkerboard phase and leaves every measured amplitude unchanged.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["far_field", "far_field_amplitude", "inverse_far_field"]


def far_field(exit_wave: npt.ArrayLike) -> np.ndarray:
    """Propagate exit waves to the far field.

    Parameters
    ----------
    exit_wave : (..., N, N) complex
        Exit waves on the object pixel grid.

    Returns
    -------
    (..., N, N) complex128 (or complex64 for complex64 input)
        Far-field wave, zero frequency at pixel (N//2, N//2), unitary normalisation.
    """
    psi = np.asarray(exit_wave)
    out = np.fft.fftshift(np.fft.fft2(psi, norm="ortho"), axes=(-2, -1))
    return out.astype(np.complex64) if psi.dtype == np.complex64 else out


def inverse_far_field(wave: npt.ArrayLike) -> np.ndarray:
    """Inverse of :func:`far_field` (``ifft2(ifftshift(F), norm="ortho")``)."""
    f = np.asarray(wave)
    out = np.fft.ifft2(np.fft.ifftshift(f, axes=(-2, -1)), norm="ortho")
    return out.astype(np.complex64) if f.dtype == np.complex64 else out


def far_field_amplitude(exit_wave: npt.ArrayLike) -> np.ndarray:
    """Diffraction amplitude ``|far_field(exit_wave)|`` (sqrt of intensity).

    Parameters
    ----------
    exit_wave : (..., N, N) complex

    Returns
    -------
    (..., N, N) float
        Amplitude in the same units as ``exit_wave`` (sqrt(counts) when the exit wave is
        in sqrt(counts) per pixel).
    """
    return np.abs(far_field(exit_wave))
