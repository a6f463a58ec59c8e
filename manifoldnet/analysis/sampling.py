"""Geodesic farthest-point sampling and geodesic Voronoi regions.

Farthest-point sampling (FPS) picks each new sample at the vertex farthest (geodesically) from the samples
so far, so ``k`` samples spread uniformly: with ``r_k`` the covering radius (largest distance from any
vertex to its nearest sample), every pair of samples is at least ``r_k`` apart. One distance solve per
sample, through a prefactored :class:`~manifoldnet.geometry.geodesics.HeatMethodSolver` (``method="heat"``)
or exact polyhedral distances (``method="exact"``, small clean meshes).

Conventions
-----------
``distances[i]`` (V,) is the distance field of ``samples[i]`` alone, as solved from that sample; the
pairwise distance of samples i < j is read as ``distances[i, samples[j]]`` (the heat method is not exactly
symmetric). Unreferenced vertices are never sampled and get label -1 and distance ``inf``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MeshError
from ..geometry.exact_geodesics import exact_geodesic_distance
from ..geometry.geodesics import HeatMethodSolver, validate_sources
from ..mesh import Mesh

__all__ = ["FarthestPointSamples", "distance_solver", "farthest_point_sampling", "geodesic_voronoi"]


@dataclass(frozen=True)
class FarthestPointSamples:
    """Result of :func:`farthest_point_sampling`.

    samples : (k,) int64 vertices in the order chosen. distances : (k, V) float64, row i the distance field
    of ``samples[i]``. radii : (k,) float64, ``radii[i]`` the distance of ``samples[i]`` to the earlier
    samples when it was chosen (``inf`` for the first). labels : (V,) int64 index (into ``samples``) of each
    vertex's nearest sample, -1 for unreferenced vertices. distance : (V,) float64 to the nearest sample.
    """

    samples: np.ndarray
    distances: np.ndarray
    radii: np.ndarray
    labels: np.ndarray
    distance: np.ndarray

    @property
    def covering_radius(self) -> float:
        """Largest distance from a (referenced) vertex to its nearest sample."""
        d = self.distance[self.labels >= 0]
        return float(d.max())

    def pairwise(self) -> np.ndarray:
        """(k, k) sample-to-sample distances, entry (i, j) read from the field of the earlier sample."""
        D = self.distances[:, self.samples]
        upper = np.triu(D, 1)
        return upper + upper.T


def distance_solver(mesh: Mesh, method: str = "heat", **kwargs):
    """A callable ``sources -> (V,) distances`` on ``mesh``: heat (prefactored once) or exact."""
    if not isinstance(mesh, Mesh):
        raise MeshError(f"expected a manifoldnet.Mesh, got {type(mesh).__name__}")
    if method == "heat":
        return HeatMethodSolver(mesh, **kwargs).distance
    if method == "exact":
        return lambda sources: exact_geodesic_distance(mesh, sources)
    raise MeshError(f"unknown geodesic method {method!r}; expected 'heat' or 'exact'")


def _solve(mesh: Mesh, method: str, solver, kwargs):
    if solver is None:
        return distance_solver(mesh, method, **kwargs)
    if hasattr(solver, "distance"):
        if getattr(solver, "mesh", mesh) is not mesh and solver.mesh.n_verts != mesh.n_verts:
            raise MeshError(f"the solver is for a mesh of {solver.mesh.n_verts} vertices, not {mesh.n_verts}")
        return solver.distance
    if callable(solver):
        return solver
    raise MeshError("solver must have a .distance(sources) method or be a callable sources -> (V,) distances")


def farthest_point_sampling(
    mesh: Mesh,
    k: int,
    *,
    start: int | None = None,
    method: str = "heat",
    solver=None,
    **solver_kwargs,
) -> FarthestPointSamples:
    """``k`` geodesic farthest-point samples of ``mesh`` (module docstring).

    Parameters
    ----------
    mesh : Mesh. k : number of samples, ``1 <= k <=`` referenced vertices.
    start : first sample; default the vertex farthest from vertex 0's component seed (one extra solve), which
        makes the result independent of the vertex order up to ties.
    method : "heat" or "exact" (ignored when ``solver`` is given). solver : a prefactored
        ``HeatMethodSolver`` (or any object with ``.distance(sources)``, or a callable) to reuse.
    solver_kwargs : passed to ``HeatMethodSolver`` (``t_coef``, ``robust``, ...).
    """
    if not isinstance(mesh, Mesh):
        raise MeshError(f"expected a manifoldnet.Mesh, got {type(mesh).__name__}")
    ref = np.asarray(mesh.referenced)
    n_ref = int(ref.sum())
    if int(k) != k or not 1 <= k <= n_ref:
        raise MeshError(f"k must be an integer in [1, {n_ref}] (referenced vertices), got {k}")
    k = int(k)
    dist_fn = _solve(mesh, method, solver, solver_kwargs)
    V = mesh.n_verts
    if start is None:
        d0 = np.asarray(dist_fn(int(np.flatnonzero(ref)[0])), dtype=np.float64)
        start = int(np.argmax(np.where(ref & np.isfinite(d0), d0, -1.0)))
    else:
        if int(start) != start or not 0 <= start < V:
            raise MeshError(f"start = {start} is not a vertex index of a mesh with {V} vertices")
        start = int(start)
        if not ref[start]:
            raise MeshError(f"start vertex {start} is unreferenced (no face uses it)")
    samples = np.empty(k, dtype=np.int64)
    radii = np.empty(k)
    rows = np.empty((k, V))
    nearest = np.full(V, np.inf)
    labels = np.full(V, -1, dtype=np.int64)
    s, r = start, np.inf
    for i in range(k):  # one solve per sample
        d = np.asarray(dist_fn(s), dtype=np.float64)
        if d.shape != (V,) or np.isnan(d).any():
            raise MeshError(f"the distance solver returned {d.shape} with NaN for source {s}")
        d = np.where(ref, d, np.inf)
        samples[i], radii[i], rows[i] = s, r, d
        closer = d < nearest
        nearest[closer] = d[closer]
        labels[closer] = i
        # next: farthest referenced vertex (another component first: inf), never an existing sample
        score = np.where(ref, nearest, -np.inf)
        score[samples[: i + 1]] = -np.inf
        s = int(np.argmax(score))
        r = float(score[s])
    labels[~ref] = -1
    return FarthestPointSamples(samples, rows, radii, labels, np.where(ref, nearest, np.inf))


def geodesic_voronoi(mesh: Mesh, sources, *, method: str = "heat", solver=None, **solver_kwargs):
    """Geodesic Voronoi regions of ``sources``: ``(labels (V,) int64, distance (V,) float64)``.

    ``labels[v]`` is the position in ``sources`` of the source nearest to v (ties: the first), -1 for
    unreferenced vertices; ``distance[v]`` the distance to it. One solve per source, batched through
    ``HeatMethodSolver.distances`` when the solver has it.
    """
    if not isinstance(mesh, Mesh):
        raise MeshError(f"expected a manifoldnet.Mesh, got {type(mesh).__name__}")
    src = np.asarray(sources).reshape(-1)
    validate_sources(src, mesh.n_verts)  # type, range, non-empty (named)
    if np.unique(src).size != src.size:
        raise MeshError("sources has repeated vertices: each Voronoi region needs its own source")
    if solver is None and method == "heat":
        solver = HeatMethodSolver(mesh, **solver_kwargs)
    if hasattr(solver, "distances"):
        D = np.asarray(solver.distances([int(s) for s in src]), dtype=np.float64)
    else:
        fn = _solve(mesh, method, solver, solver_kwargs)
        D = np.stack([np.asarray(fn(int(s)), dtype=np.float64) for s in src])
    ref = np.asarray(mesh.referenced)
    D[:, ~ref] = np.inf
    D[np.arange(src.size), src] = 0.0
    labels = np.argmin(D, axis=0).astype(np.int64)
    dist = D[labels, np.arange(mesh.n_verts)]
    labels[~ref | ~np.isfinite(dist)] = -1
    return labels, dist
