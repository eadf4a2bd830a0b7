"""The refinement forward model and its gradients in numpy: the reference every backend matches.

For pattern m (``docs/conventions.md``)::

    psi_m = P * E_m(O)                 E_m: bilinear N x N cut at positions[m]
    a_m   = |far_field(psi_m)|          predicted amplitude, sqrt(counts)
    L     = sum_m sum_pixels h(a_m, k_m)    k_m = measured counts = amplitude**2

``h`` is the Poisson half-deviance ``a^2 - k log a^2 - (k - k log k)`` (the training loss of
every backend, per pixel) wherever ``a >= c sqrt(k)`` (c = :data:`ROBUST_FRACTION`), and its
second-order Taylor extension below that amplitude. The extension only bounds the gradient where
the model predicts far fewer photons than were measured (a flat start, a badly wrong patch):
near any fit, and at the maximum-likelihood solution, ``h`` *is* the Poisson loss.

Gradients are conjugate Wirtinger derivatives ``dL/dz*``; with ``g_psi = dL/dpsi*``::

    dL/dPsi*  = h'(a) / (2 a) * Psi                 Psi = far_field(psi)
    dL/dpsi*  = inverse_far_field(dL/dPsi*)         (the far field is unitary)
    dL/dO*    = sum_m E_m^T[ conj(P) g_psi_m ]
    dL/dP*    = sum_m conj(E_m(O)) g_psi_m
    dL/dx_m   = 2 Re sum conj(g_psi_m) P dE_m(O)/dx       (exact derivative of the bilinear cut)
"""

from __future__ import annotations

import numpy as np

from ptychopinn.refinement.problem import BatchGradients, RefinementProblem, RefinementState, window_corners

__all__ = ["ROBUST_FRACTION", "NumpyRefinementOperator", "robust_half_deviance"]

ROBUST_FRACTION: float = 0.5
"""c: below ``a = c sqrt(k)`` the per-pixel loss continues as its second-order Taylor expansion."""


def robust_half_deviance(amplitude: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel robust Poisson half-deviance ``h(a, k)`` and its derivative ``dh/da``.

    Parameters
    ----------
    amplitude : (...) float64, predicted amplitude a >= 0, sqrt(counts)
    counts : (...) float64, measured counts k >= 0

    Returns
    -------
    h, dh_da : (...) float64
    """
    a, k = np.broadcast_arrays(np.asarray(amplitude, dtype=np.float64), np.asarray(counts, dtype=np.float64))
    c = ROBUST_FRACTION
    root = np.sqrt(k)
    a0 = c * root
    inside = a >= a0  # where k == 0 every pixel is inside (a0 = 0)
    safe_a = np.where(inside & (a > 0), a, 1.0)
    log_ratio = np.log(np.where(k > 0, k, 1.0) / (safe_a * safe_a))  # log(k / a^2); 0 where k == 0
    h = a * a - k + k * log_ratio
    dh = 2 * a - 2 * k / safe_a
    if not inside.all():  # second-order Taylor extension at a0 (only where k > 0)
        out = ~inside
        ko, ro, da = k[out], root[out], a[out] - a0[out]
        d0 = 2 * c * ro - 2 * ro / c
        dd0 = 2.0 + 2.0 / (c * c)
        h[out] = ko * (c * c - 1.0 - 2.0 * np.log(c)) + d0 * da + 0.5 * dd0 * da * da
        dh[out] = d0 + dd0 * da
    return h, dh


def _fft(x: np.ndarray) -> np.ndarray:
    """Unshifted orthonormal FFT over the last two axes (the shift is applied to the counts once)."""
    return np.fft.fft2(x, norm="ortho")


def _ifft(x: np.ndarray) -> np.ndarray:
    return np.fft.ifft2(x, norm="ortho")


class NumpyRefinementOperator:
    """Core's reference operator (float64): the fallback for backends without the refinement hook.

    Parameters
    ----------
    problem : RefinementProblem
    """

    name = "numpy"

    def __init__(self, problem: RefinementProblem) -> None:
        self.problem = problem
        self._ar = np.arange(problem.N + 1)

    # -- geometry --------------------------------------------------------------------------
    def _geometry(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return window_corners(positions, self.problem.N, self.problem.canvas)

    def windows(self, obj: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(B, N + 1, N + 1) object windows whose top-left pixels are (rows, cols)."""
        r = rows[:, None] + self._ar[None, :]
        c = cols[:, None] + self._ar[None, :]
        return obj[r[:, :, None], c[:, None, :]]

    def scatter(self, values: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, real: bool = False) -> np.ndarray:
        """Sum (B, N + 1, N + 1) windows back onto the canvas (adjoint of :meth:`windows`)."""
        H, W = self.problem.canvas.shape
        r = rows[:, None] + self._ar[None, :]
        c = cols[:, None] + self._ar[None, :]
        flat = (r[:, :, None] * W + c[:, None, :]).ravel()
        re = np.bincount(flat, weights=np.real(values).ravel(), minlength=H * W).reshape(H, W)
        if real:
            return re
        im = np.bincount(flat, weights=np.imag(values).ravel(), minlength=H * W).reshape(H, W)
        return re + 1j * im

    @staticmethod
    def bilinear(win: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """E(O): (B, N, N) bilinear patches from (B, N + 1, N + 1) windows and (B, 2) (fx, fy)."""
        fx = frac[:, 0, None, None]
        fy = frac[:, 1, None, None]
        across = win[:, :, :-1] + fx * (win[:, :, 1:] - win[:, :, :-1])  # (B, N + 1, N): along x first
        return across[:, :-1] + fy * (across[:, 1:] - across[:, :-1])

    @staticmethod
    def bilinear_adjoint(g: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """E^T on windows: (B, N + 1, N + 1) from (B, N, N) patch values."""
        fx = frac[:, 0, None, None]
        fy = frac[:, 1, None, None]
        B, N, _ = g.shape
        dtype = np.result_type(g.dtype, np.float64)
        rows = np.zeros((B, N + 1, N), dtype=dtype)  # adjoint of the y step, then of the x step
        lower = fy * g
        rows[:, :-1] = g - lower
        rows[:, 1:] += lower
        out = np.zeros((B, N + 1, N + 1), dtype=dtype)
        right = fx * rows
        out[:, :, :-1] = rows - right
        out[:, :, 1:] += right
        return out

    @staticmethod
    def bilinear_derivatives(win: np.ndarray, frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dE/dx and dE/dy, (B, N, N) each (exact derivatives of the bilinear cut)."""
        fx = frac[:, 0, None, None]
        fy = frac[:, 1, None, None]
        d_x = (1 - fy) * (win[:, :-1, 1:] - win[:, :-1, :-1]) + fy * (win[:, 1:, 1:] - win[:, 1:, :-1])
        d_y = (1 - fx) * (win[:, 1:, :-1] - win[:, :-1, :-1]) + fx * (win[:, 1:, 1:] - win[:, :-1, 1:])
        return d_x, d_y

    # -- model -----------------------------------------------------------------------------
    def predicted_amplitudes(self, state: RefinementState, indices: np.ndarray, *, shifted: bool = True
                             ) -> np.ndarray:
        """(B, N, N) float64 predicted amplitudes ``|far_field(P E_m(O))|``: in the stored layout
        (``shifted``), or in the unshifted FFT layout of :meth:`counts`."""
        rows, cols, frac = self._geometry(state.positions[indices])
        patches = self.bilinear(self.windows(state.object, rows, cols), frac)
        amplitude = np.abs(_fft(state.probe * patches))
        return np.fft.fftshift(amplitude, axes=(-2, -1)) if shifted else amplitude

    def counts(self, indices: np.ndarray) -> np.ndarray:
        """(B, N, N) float64 measured counts of the patterns ``indices`` in the unshifted FFT layout
        (``ifftshift`` of amplitude**2: far_field = fftshift(fft2), so fft2 is compared with these).

        Read per batch, so the operator holds no copy of the stack (a memory map stays one).
        """
        amps = np.asarray(self.problem.amplitudes[indices], dtype=np.float64)
        return np.fft.ifftshift(amps * amps, axes=(-2, -1))

    def pattern_losses(self, state: RefinementState, indices: np.ndarray) -> np.ndarray:
        """(B,) float64 exact Poisson half-deviance per pixel of each pattern (the training loss)."""
        from scipy.special import xlogy

        from ptychopinn.physics.losses import LOG_EPS

        lam = self.predicted_amplitudes(state, indices, shifted=False) ** 2
        k = self.counts(indices)
        terms = lam - k * np.log(lam + LOG_EPS) - (k - xlogy(k, k))
        return np.asarray(terms.reshape(len(indices), -1).mean(axis=1), dtype=np.float64)

    def gradients(
        self, state: RefinementState, indices: np.ndarray, *, probe: bool = False, positions: bool = False
    ) -> BatchGradients:
        """Robust loss of the batch ``indices`` and its gradients (see the module docstring)."""
        rows, cols, frac = self._geometry(state.positions[indices])
        win = self.windows(state.object, rows, cols)
        patches = self.bilinear(win, frac)
        psi = state.probe * patches
        field = _fft(psi)
        a = np.abs(field)
        h, dh = robust_half_deviance(a, self.counts(indices))
        with np.errstate(divide="ignore", invalid="ignore"):
            phase = np.where(a > 0, field / np.where(a > 0, a, 1.0), 0.0)
        g_psi = _ifft(0.5 * dh * phase)
        g_obj = self.scatter(self.bilinear_adjoint(np.conj(state.probe) * g_psi, frac), rows, cols)
        g_probe = np.sum(np.conj(patches) * g_psi, axis=0) if probe else None
        g_pos = None
        if positions:
            d_x, d_y = self.bilinear_derivatives(win, frac)
            conj_g = np.conj(g_psi)
            g_pos = np.stack(
                [2 * np.real(np.sum(conj_g * state.probe * d_x, axis=(1, 2))),
                 2 * np.real(np.sum(conj_g * state.probe * d_y, axis=(1, 2)))],
                axis=1,
            )
        return BatchGradients(loss=float(h.sum()), object_gradient=g_obj, probe_gradient=g_probe,
                              position_gradient=g_pos)

    # -- step normalisers (core's job for every backend) -------------------------------------
    def object_illumination(self, probe: np.ndarray, positions: np.ndarray, *, chunk: int = 256) -> np.ndarray:
        """(H, W) float64 ``sum_m E_m^T |P|^2`` over the given positions (``chunk`` at a time)."""
        out = np.zeros(self.problem.canvas.shape, dtype=np.float64)
        intensity = np.abs(probe) ** 2
        for first in range(0, positions.shape[0], chunk):
            rows, cols, frac = self._geometry(positions[first : first + chunk])
            windows = self.bilinear_adjoint(np.broadcast_to(intensity, (rows.size, *probe.shape)), frac)
            out += self.scatter(windows, rows, cols, real=True)
        return out

    def probe_illumination(self, state: RefinementState, indices: np.ndarray) -> np.ndarray:
        """(N, N) float64 ``sum_m |E_m(O)|^2`` over the batch."""
        rows, cols, frac = self._geometry(state.positions[indices])
        patches = self.bilinear(self.windows(state.object, rows, cols), frac)
        return np.asarray(np.sum(np.abs(patches) ** 2, axis=0), dtype=np.float64)

    def position_curvature(self, state: RefinementState, indices: np.ndarray) -> np.ndarray:
        """(B, 2, 2) Gauss-Newton matrices ``Re <J_i, J_j>`` with ``J = P dE/d(x, y)``."""
        rows, cols, frac = self._geometry(state.positions[indices])
        d_x, d_y = self.bilinear_derivatives(self.windows(state.object, rows, cols), frac)
        j_x, j_y = state.probe * d_x, state.probe * d_y
        xx = np.sum(np.abs(j_x) ** 2, axis=(1, 2))
        yy = np.sum(np.abs(j_y) ** 2, axis=(1, 2))
        xy = np.real(np.sum(np.conj(j_x) * j_y, axis=(1, 2)))
        return np.stack([np.stack([xx, xy], axis=1), np.stack([xy, yy], axis=1)], axis=1)
