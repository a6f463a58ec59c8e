"""Spectral point descriptors: heat kernel signature (Sun et al. 2009) and wave kernel
signature (Aubry et al. 2011).

Both read an eigenbasis ``(evals (K,), evecs (V, K))`` of :func:`~manifoldnet.geometry.spectral.eigenbasis`
(``L phi = lambda M phi``, M-orthonormal). Zero eigenvalues (one per connected component) are kept in the
HKS sum (they carry ``1 / area`` of each component) and left out of the WKS (``log 0`` has no energy).

Conventions
-----------
Automatic scales come from the non-zero eigenvalues ``lambda_min <= ... <= lambda_max`` given:
HKS times are log-spaced on ``[4 ln 10 / lambda_max, 4 ln 10 / lambda_min]`` (Sun et al.); WKS energies are
linearly spaced log-eigenvalues on ``[log lambda_min + 2 s, log lambda_max - 2 s]`` with the band width
``s = 7 (log lambda_max - log lambda_min) / n_energies`` (Aubry et al.). With ``area`` given, the basis is
first rescaled to unit area (``lambda * area``, ``phi * sqrt(area)``), which makes both descriptors, with
automatic scales or with times/energies meant for unit area, invariant to a uniform scaling of the shape.
An eigenvalue counts as zero below ``1e-8`` times the largest one given; with ``area``, below ``1e-8``
times ``4 pi`` (Weyl's first eigenvalue of the unit-area shape); and with the eigenvectors given (the
descriptors), when ``lambda_k / max_x phi_k(x)^2`` (dimensionless: ``lambda_k`` times the area of the
component for a constant eigenvector) is below ``1e-8`` times ``4 pi``. So the rounding noise of a null
space (``1e-15``, not exactly 0) counts as zero even when no other eigenvalue is given.

No non-zero eigenvalue (K eigenpairs on a mesh with K or more connected components: a triangle soup, a
CAD part in many shells): the scales fall back on Weyl's law ``lambda_j ~ 4 pi j / area``. With ``area``
given, :func:`hks_times` and :func:`wks_energies` use the first K non-zero eigenvalues a connected surface
of that area would have, ``4 pi j / area`` for ``j = 1..K`` (``4 pi j`` after the unit-area rescaling);
without it they raise a :class:`MeshError` saying so. The descriptors themselves need no scale then: every
``exp(-lambda t)`` is 1, so the HKS is ``sum_k phi_k(x)^2`` at every time (``1 / area`` of the component of
x when the K eigenvectors span its constants), exactly; and the WKS, whose band holds only the K-fold zero
eigenvalue, is its limit for ``lambda_1 = ... = lambda_K -> 0``: the plain average ``sum_k phi_k(x)^2 / K``
at every energy. Both are finite, non-negative, and scale like ``1 / area`` (invariant with ``area``).
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError

__all__ = ["heat_kernel_signature", "hks_times", "wave_kernel_signature", "wks_energies"]

_ZERO = 1e-8  # eigenvalues below this fraction of the largest count as zero


def _check_basis(evals, evecs=None) -> tuple[np.ndarray, np.ndarray | None]:
    ev = np.asarray(evals, dtype=np.float64)
    if ev.ndim != 1 or ev.size == 0:
        raise MeshError(f"evals must be a non-empty (K,) array, got shape {ev.shape}")
    if not np.isfinite(ev).all():
        raise MeshError(
            f"evals has non-finite entries (first at index {int(np.flatnonzero(~np.isfinite(ev))[0])})"
        )
    tol = 1e-8 * max(float(np.abs(ev).max()), np.finfo(float).tiny)
    if (ev < -tol).any():
        i = int(np.flatnonzero(ev < -tol)[0])
        raise MeshError(f"evals must be non-negative (a PSD Laplacian); eval {i} is {ev[i]:.3e}")
    if evecs is None:
        return ev, None
    phi = np.asarray(evecs, dtype=np.float64)
    if phi.ndim != 2 or phi.shape[1] != ev.size:
        raise MeshError(f"evecs must have shape (V, {ev.size}) to match evals, got {phi.shape}")
    if not np.isfinite(phi).all():
        raise MeshError("evecs has non-finite entries")
    return ev, phi


def _normalized(evals, evecs, area):
    if area is None:
        return evals, evecs
    if not (np.isscalar(area) and np.isfinite(area) and area > 0):
        raise MeshError(f"area must be a positive finite number, got {area!r}")
    return evals * area, (None if evecs is None else evecs * np.sqrt(area))


def _count(n) -> int:
    if int(n) != n or n < 1:
        raise MeshError(f"n must be a positive integer, got {n}")
    return int(n)


def _is_zero(evals: np.ndarray, unit_area: bool, evecs: np.ndarray | None = None) -> np.ndarray:
    """(K,) bool: the eigenvalues that count as zero (module docstring)."""
    ref = max(float(evals.max()), 4.0 * np.pi if unit_area else 0.0)
    zero = ~(evals > _ZERO * ref) if ref > 0 else np.ones(evals.size, dtype=bool)
    if evecs is not None:  # lambda_k / max phi_k^2: dimensionless, lambda A for a constant eigenvector
        peak = (evecs * evecs).max(axis=0)
        zero |= evals <= _ZERO * 4.0 * np.pi * peak
    return zero


def _scale_evals(evals: np.ndarray, zero: np.ndarray, unit_area: bool, what: str) -> np.ndarray:
    """The non-zero eigenvalues that set automatic scales, or Weyl's law on unit area when there is none."""
    if not zero.all():
        return evals[~zero]
    if not unit_area:
        raise MeshError(
            f"automatic {what} need a non-zero eigenvalue or the surface area: all {evals.size} eigenvalues "
            f"are zero (one per connected component: the mesh has at least {evals.size} components); pass "
            f"area= (Weyl's law, lambda_j ~ 4 pi j / area), give the {what} explicitly, or ask for more "
            f"eigenpairs than components"
        )
    return 4.0 * np.pi * np.arange(1, evals.size + 1)


def _times(pos: np.ndarray, n: int) -> np.ndarray:
    c = 4.0 * np.log(10.0)
    return np.geomspace(c / pos.max(), c / pos.min(), n)


def _energies(pos: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    log_ev = np.log(pos)
    lo, hi = float(log_ev.min()), float(log_ev.max())
    if hi - lo <= 0:
        return np.full(n, lo), 1.0
    sigma = 7.0 * (hi - lo) / n
    return np.linspace(lo + 2 * sigma, hi - 2 * sigma, n), sigma


def hks_times(evals, n: int = 16, *, area: float | None = None) -> np.ndarray:
    """(n,) log-spaced HKS times on ``[4 ln 10 / lambda_max, 4 ln 10 / lambda_min]`` (non-zero eigenvalues;
    Weyl's law on ``area`` when every eigenvalue is zero, module docstring)."""
    ev, _ = _check_basis(evals)
    ev, _ = _normalized(ev, None, area)
    unit = area is not None
    return _times(_scale_evals(ev, _is_zero(ev, unit), unit, "HKS times"), _count(n))


def heat_kernel_signature(
    evals, evecs, times=None, n_times: int = 16, *, area: float | None = None
) -> np.ndarray:
    """Heat kernel signature ``h_t(x) = sum_k exp(-lambda_k t) phi_k(x)^2``.

    Parameters
    ----------
    evals : (K,) float64, evecs : (V, K) float64 (M-orthonormal).
    times : (T,) positive diffusion times, or ``None`` for :func:`hks_times` with ``n_times`` entries
        (every eigenvalue zero and no ``area``: ``sum_k phi_k^2`` in each column, module docstring).
    area : total surface area; when given, the basis is rescaled to unit area first (scaled HKS).

    Returns
    -------
    (V, T) float64.
    """
    ev, phi = _check_basis(evals, evecs)
    ev, phi = _normalized(ev, phi, area)
    unit = area is not None
    zero = _is_zero(ev, unit, phi)
    ev = np.where(zero, 0.0, ev)  # rounding noise of a null space is exactly 0
    if times is None:
        if zero.all() and not unit:  # every exp(-lambda t) is 1: the same column at any time
            return np.repeat((phi * phi).sum(axis=1, keepdims=True), _count(n_times), axis=1)
        t = _times(_scale_evals(ev, zero, unit, "HKS times"), _count(n_times))
    else:
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.ndim != 1 or t.size == 0 or not (np.isfinite(t).all() and (t > 0).all()):
            raise MeshError(f"times must be a non-empty 1-D array of positive finite numbers, got {times!r}")
    weights = np.exp(-np.outer(ev, t))  # (K, T)
    return (phi * phi) @ weights


def wks_energies(evals, n: int = 16, *, area: float | None = None) -> tuple[np.ndarray, float]:
    """``(energies (n,), sigma)``: Aubry et al.'s log-eigenvalue energies and band
    width (module docstring)."""
    ev, _ = _check_basis(evals)
    ev, _ = _normalized(ev, None, area)
    unit = area is not None
    return _energies(_scale_evals(ev, _is_zero(ev, unit), unit, "WKS energies"), _count(n))


def wave_kernel_signature(
    evals,
    evecs,
    energies=None,
    n_energies: int = 16,
    sigma: float | None = None,
    *,
    area: float | None = None,
) -> np.ndarray:
    """Wave kernel signature ``W_e(x) = sum_k phi_k(x)^2 f_e(lambda_k)^2 / sum_k f_e(lambda_k)^2``.

    ``f_e(lambda)^2 = exp(-(e - log lambda)^2 / (2 sigma^2))`` over the non-zero eigenvalues; when every
    eigenvalue is zero, each column is ``sum_k phi_k^2 / K`` (the limit of a K-fold eigenvalue going to 0).

    Parameters
    ----------
    evals : (K,) float64, evecs : (V, K) float64 (M-orthonormal).
    energies : (T,) log-eigenvalue energies, or ``None`` for :func:`wks_energies` with ``n_energies`` entries.
    sigma : band width in log-eigenvalue units (default: Aubry et al.'s, from the eigenvalue range).
    area : total surface area; when given, the basis is rescaled to unit area first.

    Returns
    -------
    (V, T) float64; each column averages ``phi_k^2`` with weights summing to 1.
    """
    ev, phi = _check_basis(evals, evecs)
    ev, phi = _normalized(ev, phi, area)
    unit = area is not None
    zero = _is_zero(ev, unit, phi)
    pos = ~zero
    if pos.any() or unit:
        auto_e, auto_s = _energies(_scale_evals(ev, zero, unit, "WKS energies"), _count(n_energies))
    else:  # every eigenvalue is zero and no area: the limit below needs no energy, only their number
        auto_e, auto_s = np.zeros(_count(n_energies)), 1.0
    e = auto_e if energies is None else np.atleast_1d(np.asarray(energies, dtype=np.float64))
    if e.ndim != 1 or e.size == 0 or not np.isfinite(e).all():
        raise MeshError(f"energies must be a non-empty 1-D array of finite numbers, got {energies!r}")
    s = auto_s if sigma is None else float(sigma)
    if not (np.isfinite(s) and s > 0):
        raise MeshError(f"sigma must be a positive finite number, got {sigma!r}")
    if not pos.any():  # the K-fold zero eigenvalue is the only band: its limit is the plain average
        return np.repeat((phi * phi).mean(axis=1, keepdims=True), e.size, axis=1)
    log_ev = np.log(ev[pos])
    g = np.exp(-((e[None, :] - log_ev[:, None]) ** 2) / (2.0 * s * s))  # (K+, T)
    norm = g.sum(axis=0)
    if not (norm > 0).all():
        i = int(np.flatnonzero(~(norm > 0))[0])
        raise MeshError(f"energy {e[i]:.3g} is too far from every log-eigenvalue for band width {s:.3g}")
    return (phi[:, pos] ** 2) @ (g / norm)
