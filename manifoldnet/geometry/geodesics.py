"""Geodesic distance by the heat method (Crane, Weischedel, Wardetzky 2013), prefactored and batched.

``HeatMethodSolver(mesh).distance(sources)`` and ``geodesic_distance(mesh, sources)`` side by side; many
independent solves at once with :meth:`HeatMethodSolver.distances` (block right-hand sides) and the full
matrix with :func:`all_pairs_distances`.

Algorithm: solve ``(M + t L) u = delta`` (t = ``t_coef`` times the squared mean edge length), normalize
``X = -grad u / |grad u|`` per triangle, solve the Poisson problem ``L phi = div X`` (weak form
``sum_f A_f grad(hat_i) . X_f``), shift so that the mean of ``phi`` over the sources of a component is 0.

``robust=True`` works on the intrinsic Delaunay triangulation of the mollified tufted cover
(:mod:`.intrinsic_delaunay`), exactly what potpourri3d's ``MeshHeatMethodDistanceSolver(use_robust=True)``
(geometry-central) does (same cover, mollification ``1e-5``, flips, heat time from the flipped cover's mean
edge length, source shift). With potpourri3d's ``1e-6 I`` added to our Poisson matrix the two agree to
1e-13 (bunny, face; tested); we solve the Poisson step exactly instead (grounded per component), which
moves distances by about ``4e-8 V`` relative (2e-4 on a 10k sphere, 7e-4 on the 35k bunny). Other
differences: components are handled separately (``inf`` where unreachable), duplicate sources count once,
and faces around a non-manifold edge are glued in angular order (geometry-central: arbitrary order).

Long edges (``refine``, 4 by default on the robust path): the heat method is only as fine as its triangles.
Inside a triangle, linear interpolation of the distance from a far source gives the distance to the line of
the opposite edge, not to its vertices, which underestimates by up to the triangle's size; and the heat time
(the squared mean edge length) cannot be resolved across edges many times longer than the mean. CAD
tessellations have exactly such triangles: ``octagonal_pocket`` (format edge cases) has fans of 0.18-long
slivers beside 0.01-long edges (max / mean edge length 23), and gave 0.025 where the straight line is 0.166
(exact polyhedral distance 0.178; max error 0.154 over the mesh, 0.016 with refinement). So every edge longer
than ``refine`` mean edge lengths is split at its midpoint first
(:func:`~manifoldnet.geometry.refine.split_long_edges`: the same surface, more vertices); the bound is raised
where needed so that the refined mesh stays within a few times the input's size. Meshes without such edges are
solved unchanged (bit for bit); ``refine=None`` never refines.

Setup cost (issue 19 item 3): what the solver builds once, from arrays, is as fast as potpourri3d's
(``benchmarks/geodesics.py`` section 1). A closed oriented edge-manifold input builds and flips the intrinsic
Delaunay front sheet alone (:func:`~.intrinsic_delaunay.intrinsic_delaunay_sheet`: the same triangulation at
half the work); the heat and Poisson matrices are factored by Eigen's simplicial Cholesky through libigl
(:class:`SPDFactor` ``prefer="setup"``, 1.7-3.7x faster to factor than CHOLMOD as ``cholespy`` ships it),
whose factors move to CHOLMOD once 64 right-hand sides have been solved, where CHOLMOD's faster solves repay
its factorization. ``backend="cholmod"`` keeps the previous behaviour (CHOLMOD from the start).

Never negative (issue 18 item 12): the Poisson solution is fixed only up to a constant, and it is not exactly
equal at the sources of a set (the normalized gradient is no exact gradient), so the old shift (mean over
the sources = 0, as potpourri3d's multisource) left some sources below 0 (-0.113 on ``icosphere(1)`` from
0, 5, 7). Every source of a component holding several is pinned to 0 instead (the Poisson problem with
Dirichlet values at the sources; :meth:`HeatMethodSolver._pin`), which also lowers the error against the
exact distance (mean 0.132 -> 0.101 on that sphere, 0.040 -> 0.036 on ``icosphere(3)``); one source per
component solves as before, bit for bit. Second cause, ``robust=False`` only: with negative cotan weights
``M + tL`` is no M-matrix, its heat goes negative far from the source and the gradient of those values
points back at the source (``classic/beast.obj``, a fan-triangulated quad mesh: -126 where the largest
distance is 261). Heat that is not positive gives no direction, as where no heat arrived (mean deviation
from the robust result 24% -> 13% there). What remains, a non-monotone Poisson solve next to obtuse
triangles, is set to 0 with a :class:`GeodesicWarning` that says how many and how far below.

Conventions
-----------
Distances are ``(V,)`` float64 (``(S, V)`` batched), exactly one value per input vertex: ``inf`` on every
vertex of a component that holds no source and on unreferenced vertices (``0`` if the unreferenced vertex is
itself a source). With several sources the result approximates the distance to the nearest one.
``boundary``: ``"neumann"`` (zero normal derivative, natural for the cotan Laplacian), ``"dirichlet"``
(heat zero on boundary vertices; a source on the boundary keeps the Neumann solution's value there, so
both solutions share one scale) or ``"average"`` of the two heat solutions, which
Crane et al. recommend (smoother isolines near the boundary). Closed meshes: all three coincide. Pure
Dirichlet is poor for a source on the boundary (mean error 0.13 vs 0.01 on a unit disk from a rim vertex),
and gives no direction at all on a region whose every vertex is a boundary vertex (a strip one triangle wide,
such as the three strips hanging on ``octagonal_pocket`` by single vertices): its heat is zero there. Use
``"average"`` (the default) or ``"neumann"`` on such meshes.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh
from .exact_geodesics import exact_geodesic_distance
from .factor import SPDFactor
from .inputs import mesh_input, mesh_method, validate_sources
from .intrinsic_delaunay import IntrinsicTriangulation, intrinsic_delaunay_cover, intrinsic_delaunay_sheet
from .refine import split_long_edges

__all__ = [
    "BOUNDARY_CONDITIONS",
    "REFINE",
    "GeodesicWarning",
    "HeatMethodSolver",
    "SPDFactor",
    "all_pairs_distances",
    "geodesic_distance",
    "validate_sources",
]

BOUNDARY_CONDITIONS = ("average", "neumann", "dirichlet")
# refine="auto" with robust=True: edges longer than 4 mean edge lengths are split before solving
# (HeatMethodSolver docstring)
REFINE = 4.0


def _refined(mesh: Mesh, refine: float | None) -> Mesh:
    """``mesh`` with its long edges split (:func:`~.refine.split_long_edges`), or
    ``mesh`` itself when none is.

    The length bound is ``refine`` mean edge lengths, raised where needed so that the refined mesh stays
    within a few times the input's size: at least the root mean square of the faces' longest edges (a face
    with longest edge ``l`` becomes at most about ``4 (l / bound)^2`` faces).
    """
    if refine is None or mesh.n_faces == 0:
        return mesh
    lengths = mesh.edge_lengths
    le = lengths[mesh.halfedge_edges.reshape(-1, 3)]
    longest = np.maximum(np.maximum(le[:, 0], le[:, 1]), le[:, 2])  # .max(axis=1): a slow strided reduce
    bound = max(refine * float(lengths.mean()), float(np.sqrt(np.mean(longest**2))))
    if not (bound > 0) or longest.max() <= bound:
        return mesh
    verts, faces, _ = split_long_edges(mesh.verts, mesh.faces, bound, max_faces=64 * mesh.n_faces + 10_000)
    return Mesh(verts, faces)


_HINT = "; try robust=True"


def _shifted(L: sp.csr_matrix, t: float, mass: np.ndarray) -> sp.csr_matrix:
    """``diag(mass) + t L`` (CSR) on the pattern of L, which stores its whole diagonal (one addition per
    diagonal entry instead of a sparse sum)."""
    L.sort_indices()  # in place, before A shares L's index arrays (a no-op after _assemble_symmetric)
    A = sp.csr_matrix((L.data * t, L.indices, L.indptr), shape=L.shape)
    A.has_sorted_indices = True
    rows = np.repeat(np.arange(L.shape[0]), np.diff(A.indptr))
    diag = np.flatnonzero(A.indices == rows)
    if diag.size != L.shape[0]:  # a diagonal entry missing (never from _assemble_symmetric)
        return (sp.diags(mass) + A).tocsr()
    A.data[diag] += mass
    return A


def _submatrix(A: sp.csr_matrix, idx: np.ndarray) -> sp.csr_matrix:
    """``A[idx][:, idx]`` (CSR, idx sorted unique) by one mask over A's entries instead of two fancy
    indexings (the column one is the slow one)."""
    n = A.shape[0]
    new = np.full(n, -1, dtype=np.int64)
    new[idx] = np.arange(idx.size)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    cols = new[A.indices]
    keep = (new[rows] >= 0) & (cols >= 0)
    counts = np.bincount(new[rows[keep]], minlength=idx.size)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    sub = sp.csr_matrix((A.data[keep], cols[keep], indptr), shape=(idx.size, idx.size))
    sub.has_sorted_indices = A.has_sorted_indices  # kept: idx is increasing (saves scipy a check)
    return sub


class GeodesicWarning(UserWarning):
    """A heat-method result that needed a repair (negative distances set to 0, module docstring)."""


_SCHUR = 64  # several sources: pinned through a (K, K) Schur complement up to this many, else refactored


class HeatMethodSolver:
    """Prefactored heat-method distance on one mesh.

    Parameters
    ----------
    mesh : Mesh (any triangle soup: several components, boundaries, non-manifold
        edges, unreferenced vertices).
    t_coef : heat time as a multiple of the squared mean edge length (potpourri3d's ``t_coef``).
    robust : use the intrinsic Delaunay triangulation of the mollified tufted cover (potpourri3d's
        ``use_robust``); ``False`` uses the input triangles and their cotan Laplacian.
    boundary : one of :data:`BOUNDARY_CONDITIONS` (module docstring). ``"neumann"`` reproduces potpourri3d.
    backend : sparse solver, see :class:`SPDFactor`.
    refine : split edges longer than ``refine`` mean edge lengths (module docstring) before building the
        operators; ``None`` solves on the input triangles as they are (potpourri3d's behaviour); ``"auto"``:
        :data:`REFINE` with ``robust=True``, ``None`` with ``robust=False`` (splitting slivers makes more
        obtuse triangles, whose negative cotan weights only the intrinsic Delaunay flips of the robust path
        repair).

    Attributes
    ----------
    time : float, the heat time t. triangulation : the :class:`IntrinsicTriangulation` used.
    solve_mesh : the Mesh the operators live on: ``mesh`` itself, or its refinement (the input vertices
        first, midpoints after them; distances are returned for the input vertices only).
    """

    @mesh_method
    def __init__(
        self,
        mesh: Mesh,
        t_coef: float = 1.0,
        robust: bool = True,
        boundary: str = "average",
        backend: str = "auto",
        refine: float | str | None = "auto",
    ):
        if not (np.isfinite(t_coef) and t_coef > 0):
            raise MeshError(f"t_coef must be a positive finite number, got {t_coef}")
        if boundary not in BOUNDARY_CONDITIONS:
            raise MeshError(f"unknown boundary condition {boundary!r}; expected one of {BOUNDARY_CONDITIONS}")
        if isinstance(refine, str) and refine == "auto":
            refine = REFINE if robust else None
        if refine is not None and not (
            isinstance(refine, (int, float, np.number)) and np.isfinite(refine) and refine >= 1
        ):
            raise MeshError(f"refine must be 'auto', None or a finite number >= 1, got {refine!r}")
        self.mesh = mesh
        self.t_coef = float(t_coef)
        self.robust = bool(robust)
        self.boundary = boundary
        self.refine = None if refine is None else float(refine)
        self.solve_mesh = work = _refined(mesh, self.refine)
        if robust:
            # closed oriented manifold input: the cover's front sheet directly (half the flips)
            tri = intrinsic_delaunay_sheet(work)
            if tri is None:
                tri = intrinsic_delaunay_cover(work)
                mean_len = float(tri.lengths.mean())
                tri = tri.front_sheet()
            else:
                mean_len = float(tri.lengths.mean())
        else:
            tri = IntrinsicTriangulation.from_mesh(work)
            mean_len = float(work.edge_lengths.mean())
        self.triangulation = tri
        self.time = self.t_coef * mean_len**2
        V = work.n_verts
        ref = np.asarray(work.referenced)
        L = tri.cotan_laplacian()
        A = _shifted(L, self.time, tri.vertex_masses())
        self._Gx, self._Gy = tri.scaled_gradient_xy()
        self._GxT, self._GyT = self._Gx.T, self._Gy.T  # CSC views: products as fast as a CSR copy's, no copy
        # --- heat step(s) on referenced vertices
        self._ref = np.flatnonzero(ref)
        is_b = np.zeros(V, dtype=bool)
        if work.boundary_edges.size:
            is_b[work.edges[work.boundary_edges].reshape(-1)] = True
        self._has_boundary = bool(is_b.any())
        self._heat_dirichlet = None
        self._A_ref = A if self._ref.size == V else _submatrix(A, self._ref)
        self._heat_neumann = SPDFactor(self._A_ref, backend, "heat operator", _HINT, "setup")
        if boundary in ("dirichlet", "average") and self._has_boundary:
            self._int = np.flatnonzero(ref & ~is_b)
            self._bnd = np.flatnonzero(is_b)
            A_int = A[self._int]
            self._A_IB = A_int[:, self._bnd].tocsr()
            self._A_int = A_int[:, self._int].tocsr()
            self._heat_dirichlet = (
                SPDFactor(self._A_int, backend, "heat operator", _HINT, "setup") if self._int.size else None
            )
        # --- Poisson step: ground one vertex per component (L is singular on each)
        comp = np.asarray(work.vertex_components)
        self._comp = comp
        self._n_comp = int(comp.max()) + 1
        first = np.full(self._n_comp, V, dtype=np.int64)
        np.minimum.at(first, comp, np.arange(V))
        keep = ref.copy()
        keep[first] = False
        self._first, self._L, self._backend = first, L.tocsr(), backend
        self._keep = np.flatnonzero(keep)
        self._L_keep = _submatrix(L, self._keep)
        self._poisson = (
            SPDFactor(self._L_keep, backend, "Laplacian", _HINT, "setup") if self._keep.size else None
        )

    @cached_property
    def _G(self) -> sp.csr_matrix:
        """(2F, V) :meth:`~.IntrinsicTriangulation.scaled_gradient` (for the torch heat method)."""
        return self.triangulation.scaled_gradient()

    @cached_property
    def _GT(self) -> sp.csr_matrix:
        return self._G.T.tocsr()

    # ------------------------------------------------------------------ solves
    def _heat(self, rhs: np.ndarray) -> np.ndarray:
        """(V, S) heat solution for (V, S) initial data (zero on unreferenced vertices)."""
        if self._ref.size == rhs.shape[0]:
            un = self._heat_neumann.solve(rhs)
        else:
            un = np.zeros_like(rhs)
            un[self._ref] = self._heat_neumann.solve(rhs[self._ref])
        if self.boundary == "neumann" or not self._has_boundary:
            return un
        # Dirichlet: zero on the boundary, except at boundary sources, which keep the Neumann solution's
        # value there (the same scale as u_N; pinning them to the initial 1 would mismatch by ~1/h^2)
        ud = np.zeros_like(rhs)
        ud[self._bnd] = np.where(rhs[self._bnd] != 0, un[self._bnd], 0.0)
        if self._heat_dirichlet is not None:
            ud[self._int] = self._heat_dirichlet.solve(rhs[self._int] - self._A_IB @ ud[self._bnd])
        return ud if self.boundary == "dirichlet" else 0.5 * (un + ud)

    def _phi(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(V, S) Poisson solution (grounded, unshifted) for heat (V, S), and its (V, S) right-hand side."""
        gx, gy = self._Gx @ u, self._Gy @ u
        norm = np.sqrt(gx * gx + gy * gy)  # 5x faster than np.hypot; redo where the squares may underflow
        tiny = norm < 1e-140
        if tiny.any():
            norm[tiny] = np.hypot(gx[tiny], gy[tiny])
        # X = -grad u / |grad u| times the 1/2 of the weak divergence; no direction where no heat arrived
        inv = np.divide(-0.5, norm, out=np.zeros_like(norm), where=norm > 0)
        gx *= inv
        gy *= inv
        b = self._GxT @ gx
        b += self._GyT @ gy
        return self._grounded(b), b

    def _grounded(self, b: np.ndarray) -> np.ndarray:
        """(V, S) solution of ``L phi = b`` grounded at the first vertex of each component."""
        phi = np.zeros_like(b)
        if self._poisson is not None:
            phi[self._keep] = self._poisson.solve(np.ascontiguousarray(b[self._keep]))
        return phi

    def _pin(self, phi: np.ndarray, b: np.ndarray, src: np.ndarray) -> np.ndarray:
        """(V,) Poisson solution with ``phi = 0`` at every source of a component holding several.

        ``phi`` and ``b`` are one column of :meth:`_phi`. A component with one source is returned as it
        is (the shift zeroes it). Up to :data:`_SCHUR` sources: the grounded solution plus source loads
        ``lambda`` (summing to 0 per component) and a constant per component, from the (K + C) saddle system
        with the grounded inverse's (K, K) source block. Beyond: L restricted to the non-sources, factored.
        """
        comp = self._comp[src]
        src = src[np.bincount(comp, minlength=self._n_comp)[comp] > 1]
        if src.size == 0:
            return phi
        K, V = src.size, phi.shape[0]
        if K > _SCHUR:
            # the sources ground their components; every other component keeps its grounding vertex
            other = np.ones(self._n_comp, dtype=bool)
            other[self._comp[src]] = False
            keep = np.asarray(self.solve_mesh.referenced).copy()
            keep[src] = False
            keep[self._first[other]] = False
            out = np.zeros(V)
            idx = np.flatnonzero(keep)
            fac = SPDFactor(_submatrix(self._L, idx), self._backend, "Laplacian", _HINT, "setup")
            out[idx] = fac.solve(b[idx])
            return out
        cu, inv = np.unique(self._comp[src], return_inverse=True)
        C = cu.size
        E = np.zeros((V, K))
        E[src, np.arange(K)] = 1.0
        A = np.zeros((K + C, K + C))
        A[:K, :K] = self._grounded(E)[src]
        A[np.arange(K), K + inv] = A[K + inv, np.arange(K)] = 1.0
        sol = np.linalg.solve(A, np.concatenate([-phi[src], np.zeros(C)]))
        load = b.copy()
        load[src] += sol[:K]
        out = self._grounded(load[:, None])[:, 0]
        shift = np.zeros(self._n_comp)
        shift[cu] = sol[K:]
        out += shift[self._comp]
        out[src] = 0.0  # zero to rounding by construction: exactly
        return out

    def _solve(self, source_sets: list[np.ndarray]) -> np.ndarray:
        """(V, S) distances, one column per (validated) source set."""
        V, S = self.solve_mesh.n_verts, len(source_sets)
        cols = np.repeat(np.arange(S), [len(s) for s in source_sets])
        verts = np.concatenate(source_sets)
        rhs = np.zeros((V, S))
        rhs[verts, cols] = 1.0
        u = self._heat(rhs)
        # heat is positive in exact arithmetic; where the discrete solution is not (negative cotan weights,
        # robust=False: M + tL is no M-matrix) its sign is round-off or oscillation and its gradient points
        # back at the source, which drove phi below the source's 0. Such heat gives no direction.
        np.maximum(u, 0.0, out=u)
        phi, b = self._phi(u)
        for j, s in enumerate(source_sets):
            if s.size > 1:
                phi[:, j] = self._pin(phi[:, j], b[:, j], s)
        # shift: mean over the sources of each (column, component) is 0; components without sources: inf
        key = cols * self._n_comp + self._comp[verts]
        size = S * self._n_comp
        cnt = np.bincount(key, minlength=size)
        tot = np.bincount(key, weights=phi[verts, cols], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(cnt > 0, tot / np.maximum(cnt, 1), -np.inf).reshape(S, self._n_comp)
        V = self.mesh.n_verts  # the refinement's midpoints (after the input vertices) are dropped
        d = phi[:V] - shift.T[self._comp[:V]]  # +inf without sources (it was -inf before)
        neg = d < 0
        # what the two fixes above leave: a Poisson solve that is not monotone (module docstring)
        if neg.any():
            warnings.warn(
                f"heat method: {int(neg.sum())} distances were negative (down to {float(d[neg].min()):.3g}, "
                f"largest distance {float(np.max(d, where=np.isfinite(d), initial=0.0)):.3g}) and are set "
                f"to 0: the Laplacian of this mesh has negative cotan weights near the sources"
                + ("; robust=True repairs them" if not self.robust else ""),
                GeodesicWarning,
                stacklevel=3,
            )
            d[neg] = 0.0
        # unreferenced vertices: inf unless a source
        referenced = np.asarray(self.mesh.referenced)
        unref = np.flatnonzero(~referenced)
        if unref.size:
            d[unref] = np.inf
            hit = ~referenced[verts]
            d[verts[hit], cols[hit]] = 0.0
        return d

    def distance(self, sources) -> np.ndarray:
        """(V,) float64 heat-method distance to the nearest of ``sources`` (an index or a 1D sequence)."""
        s = validate_sources(sources, self.mesh.n_verts)
        return self._solve([s])[:, 0]

    def distances(self, sources_list, chunk: int = 256) -> np.ndarray:
        """(S, V) float64: row s is :meth:`distance` of ``sources_list[s]`` (an index or a sequence).

        All right-hand sides of a chunk go through each factorization at once.
        """
        if isinstance(sources_list, (int, np.integer)) or (
            isinstance(sources_list, np.ndarray) and sources_list.ndim == 0
        ):
            raise MeshError(
                "sources_list must be a sequence of source sets (or a 1D array of source vertices)"
            )
        sets = [
            validate_sources(s, self.mesh.n_verts, f"sources_list[{i}]") for i, s in enumerate(sources_list)
        ]
        if not sets:
            raise MeshError("sources_list is empty: give at least one source set")
        chunk = max(1, int(chunk))
        out = np.empty((len(sets), self.mesh.n_verts))
        for a in range(0, len(sets), chunk):
            out[a : a + chunk] = self._solve(sets[a : a + chunk]).T
        return out


@mesh_input
def geodesic_distance(mesh: Mesh, sources, method: str = "heat", **kwargs) -> np.ndarray:
    """(V,) float64 geodesic distance from ``sources`` to every vertex.

    Parameters
    ----------
    mesh : Mesh
    sources : a vertex index or a 1D sequence of them (distance to the nearest).
    method : ``"heat"`` (:class:`HeatMethodSolver`; kwargs ``t_coef``, ``robust``, ``boundary``) or
        ``"exact"`` (MMP polyhedral distance,
        :func:`~manifoldnet.geometry.exact_geodesics.exact_geodesic_distance`).
    """
    if method == "heat":
        return HeatMethodSolver(mesh, **kwargs).distance(sources)
    if method == "exact":
        return exact_geodesic_distance(mesh, sources, **kwargs)
    raise MeshError(f"unknown geodesic method {method!r}; expected 'heat' or 'exact'")


@mesh_input
def all_pairs_distances(
    mesh: Mesh,
    dtype=np.float32,
    chunk: int = 256,
    progress: bool = True,
    max_bytes: float = 4 * 2**30,
    **solver_kwargs,
) -> np.ndarray:
    """(V, V) heat-method distances between all vertex pairs, symmetrized ``(D + D^T) / 2``, zero diagonal.

    Parameters
    ----------
    dtype : float32 (default) or float64 for the result.
    chunk : sources solved together (working memory about ``chunk * (V + 4 F) * 8`` bytes).
    progress : show a tqdm progress bar.
    max_bytes : refuse (MeshError, before any work) when the estimate exceeds this; raise it knowingly.
    solver_kwargs : passed to :class:`HeatMethodSolver`.

    ``inf`` between vertices of different components (and on unreferenced vertices).
    """
    from tqdm.auto import tqdm

    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise MeshError(f"dtype must be a floating type, got {dtype}")
    V, F = mesh.n_verts, mesh.n_faces
    chunk = max(1, min(int(chunk), V))
    result = V * V * dtype.itemsize
    work = chunk * (3 * V + 8 * F) * 8
    need = result + work
    if need > max_bytes:
        raise MeshError(
            f"all_pairs_distances on {V} vertices needs about {need / 2**30:.2f} GiB "
            f"({result / 2**30:.2f} GiB result in {dtype}, {work / 2**30:.2f} GiB working memory), "
            f"above max_bytes={max_bytes / 2**30:.2f} GiB: pass a larger max_bytes, a smaller chunk, "
            f"or compute rows with HeatMethodSolver.distances"
        )
    solver = HeatMethodSolver(mesh, **solver_kwargs)
    D = np.empty((V, V), dtype=dtype)
    with tqdm(total=V, disable=not progress, desc="all-pairs geodesics", unit="src") as bar:
        for a in range(0, V, chunk):
            b = min(a + chunk, V)
            D[a:b] = solver._solve([np.array([i]) for i in range(a, b)]).T
            bar.update(b - a)
    # symmetrize in place, block by block (no V x V temporary)
    for a in range(0, V, chunk):
        b = min(a + chunk, V)
        for c in range(a, V, chunk):
            d = min(c + chunk, V)
            m = 0.5 * (D[a:b, c:d] + D[c:d, a:b].T)
            D[a:b, c:d] = m
            D[c:d, a:b] = m.T
    np.fill_diagonal(D, 0.0)
    return D
