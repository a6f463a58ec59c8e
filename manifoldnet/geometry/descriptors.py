"""Spectral point descriptors: heat kernel signature (Sun et al. 2009) and wave kernel signature (Aubry et al. 2011).

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


def _nonzero(evals: np.ndarray) -> np.ndarray:
    pos = evals[evals > _ZERO * evals.max()] if evals.max() > 0 else evals[:0]
    if pos.size == 0:
        raise MeshError("automatic scales need at least one non-zero eigenvalue (all evals are zero)")
    return pos


def hks_times(evals, n: int = 16, *, area: float | None = None) -> np.ndarray:
    """(n,) log-spaced HKS times on ``[4 ln 10 / lambda_max, 4 ln 10 / lambda_min]`` (non-zero eigenvalues)."""
    ev, _ = _check_basis(evals)
    ev, _ = _normalized(ev, None, area)
    if int(n) != n or n < 1:
        raise MeshError(f"n must be a positive integer, got {n}")
    pos = _nonzero(ev)
    c = 4.0 * np.log(10.0)
    return np.geomspace(c / pos.max(), c / pos.min(), int(n))


def heat_kernel_signature(
    evals, evecs, times=None, n_times: int = 16, *, area: float | None = None
) -> np.ndarray:
    """Heat kernel signature ``h_t(x) = sum_k exp(-lambda_k t) phi_k(x)^2``.

    Parameters
    ----------
    evals : (K,) float64, evecs : (V, K) float64 (M-orthonormal).
    times : (T,) positive diffusion times, or ``None`` for :func:`hks_times` with ``n_times`` entries.
    area : total surface area; when given, the basis is rescaled to unit area first (scaled HKS).

    Returns
    -------
    (V, T) float64.
    """
    ev, phi = _check_basis(evals, evecs)
    ev, phi = _normalized(ev, phi, area)
    if times is None:
        t = hks_times(ev, n_times)
    else:
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.ndim != 1 or t.size == 0 or not (np.isfinite(t).all() and (t > 0).all()):
            raise MeshError(f"times must be a non-empty 1-D array of positive finite numbers, got {times!r}")
    weights = np.exp(-np.outer(np.maximum(ev, 0.0), t))  # (K, T)
    return (phi * phi) @ weights


def wks_energies(evals, n: int = 16, *, area: float | None = None) -> tuple[np.ndarray, float]:
    """``(energies (n,), sigma)``: Aubry et al.'s log-eigenvalue energies and band width (module docstring)."""
    ev, _ = _check_basis(evals)
    ev, _ = _normalized(ev, None, area)
    if int(n) != n or n < 1:
        raise MeshError(f"n must be a positive integer, got {n}")
    log_ev = np.log(_nonzero(ev))
    lo, hi = float(log_ev.min()), float(log_ev.max())
    if hi - lo <= 0:
        return np.full(int(n), lo), 1.0
    sigma = 7.0 * (hi - lo) / n
    return np.linspace(lo + 2 * sigma, hi - 2 * sigma, int(n)), sigma


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

    ``f_e(lambda)^2 = exp(-(e - log lambda)^2 / (2 sigma^2))`` over the non-zero eigenvalues.

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
    pos = ev > _ZERO * ev.max() if ev.max() > 0 else np.zeros(ev.size, dtype=bool)
    if not pos.any():
        raise MeshError("the WKS needs at least one non-zero eigenvalue (all evals are zero)")
    auto_e, auto_s = wks_energies(ev, n_energies)
    e = auto_e if energies is None else np.atleast_1d(np.asarray(energies, dtype=np.float64))
    if e.ndim != 1 or e.size == 0 or not np.isfinite(e).all():
        raise MeshError(f"energies must be a non-empty 1-D array of finite numbers, got {energies!r}")
    s = auto_s if sigma is None else float(sigma)
    if not (np.isfinite(s) and s > 0):
        raise MeshError(f"sigma must be a positive finite number, got {sigma!r}")
    log_ev = np.log(ev[pos])
    g = np.exp(-((e[None, :] - log_ev[:, None]) ** 2) / (2.0 * s * s))  # (K+, T)
    norm = g.sum(axis=0)
    if not (norm > 0).all():
        i = int(np.flatnonzero(~(norm > 0))[0])
        raise MeshError(f"energy {e[i]:.3g} is too far from every log-eigenvalue for band width {s:.3g}")
    return (phi[:, pos] ** 2) @ (g / norm)
