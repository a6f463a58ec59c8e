"""Vector heat method (Sharp, Soliman, Crane 2019) through potpourri3d, converted to our gauges.

:class:`VectorHeatSolver` transports tangent vectors from source vertices to every vertex and computes the
log map of a vertex, with every tangent quantity (input and output) expressed in OUR vertex gauges
(DESIGN.md section 3; :func:`~manifoldnet.geometry.logmap.gauge_offsets`), not in potpourri3d's frames.

Gauge conversion. potpourri3d measures tangent angles intrinsically (rescaled corner angles) from its own
reference half-edge at each vertex, whose direction is its tangent basis X (``get_tangent_frames()``).
We find, per vertex, the neighbour j whose projected direction is that X (angle 0 in potpourri3d's frame)
and read its angle ``delta_v = theta_vj`` in our gauge from the one-ring log map; then
``z_ours = exp(1j delta_v) z_pp`` at interior vertices (both sides rescale corner angles to sum to 2 pi).
At a boundary vertex geometry-central rescales the fan's angles to sum to pi (the outside of the fan gets
the other pi) while ours are unscaled: there the angle ``psi`` from the reference edge maps piecewise
linearly, ``psi * Theta / pi`` inside the fan and ``Theta + (psi - pi) (2 pi - Theta) / pi`` outside.
This inverts geometry-central's vertex tangent space exactly; what remains at boundary vertices is that
potpourri3d's connection itself uses the rescaled fans, so a vector transported across a flat disk arrives
at a boundary vertex turned by about 1.5 degrees (median; up to 3 degrees where it runs along the
boundary; 60-gon disk).

Input rules. potpourri3d's vector heat solver asserts (aborts the process) on non-manifold or unoriented
input and on unreferenced vertices, so :func:`check_vector_heat_input` rejects those first with a
:class:`MeshError`. Vertices of components without a source get ``0`` vectors (transport) and ``inf``
radius (log map).

Log-map radius. potpourri3d's log map radius is not a trustworthy distance: it collapses to ~0 at the
antipode of a sphere (icosphere(2), vertex 3 from vertex 0: ``1e-15`` instead of ``pi``), since near the cut
locus the averaged transported vectors cancel, and it is 50-90% off on folded triangles. The heat-method
distance (:class:`~manifoldnet.geometry.geodesics.HeatMethodSolver`, robust intrinsic Delaunay cover) is
accurate everywhere to O(h) but not exact on flat patches (1.4e-2 on a 10-ring unit disk where potpourri3d is
exact to 3e-4). :meth:`VectorHeatSolver.logmap` therefore keeps potpourri3d's radius where it agrees with the
heat distance ``d`` within one mean edge length h and takes ``d`` everywhere else, so the radius is always
within h of the heat distance (unit icosphere(4): within 1.2 h of the great-circle distance everywhere,
3.112 at the antipode). The ANGLE is potpourri3d's: near the cut locus (the antipode of a sphere) the
direction to the source is inherently ill-defined, and the angle there is arbitrary.

Quality check (of the ANGLES: the radius is the heat distance's wherever potpourri3d's disagrees). Over
the interior vertices away from the cut locus (the nearest half of the reached vertices, beyond one mean
edge length) :meth:`VectorHeatSolver.logmap_error` counts those whose potpourri3d radius is more than
``tol * d + h`` from ``d``. Up to ``max_bad`` of them, the map is trusted. Beyond, its angles are compared
with those of potpourri3d's ``"AffineAdaptive"`` strategy (:meth:`VectorHeatSolver.logmap_angle_error`);
only when they differ by more than ``angle_tol`` at more than ``max_bad`` of the vertices does
:meth:`VectorHeatSolver.logmap` raise (``check="raise"``), warn (``"warn"``) or go on (``"off"``). The radius
alone was a poor proxy: it refused 42 of 62 ordinary real meshes (classic, tutorial, 10 FAUST, 10 RNA;
issue 18 item 11), most with angles within a median 0.002-0.019 rad of AffineAdaptive's; the angle
verification refuses 6 (AffineLocal and AffineAdaptive disagree there) and the folded sphere of the tests,
and warns about 6 RNA meshes where AffineAdaptive fails (near-degenerate triangles: unverifiable).
Cut loci are not only at the far end: behind a hole the shortest paths split, and there (and at boundary
vertices, left out of the check) potpourri3d's radius collapses too (icosphere(2) with 3 holes: 2 boundary
vertices at r < 0.03 for d = 0.5 and 1.06, 2 interior ones behind a hole at 0.70 for 1.28;
their angles are unreliable).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh, require_manifold
from .elements import vertex_angle_sums
from .geodesics import HeatMethodSolver
from .inputs import mesh_input, mesh_method, validate_sources
from .logmap import one_ring_logmap

_TWO_PI = 2.0 * np.pi
LOGMAP_STRATEGIES = ("AffineLocal", "AffineAdaptive", "VectorHeat")

__all__ = ["VectorHeatSolver", "check_vector_heat_input", "vector_heat_logmap", "vector_heat_transport"]


@mesh_input
def check_vector_heat_input(mesh: Mesh) -> Mesh:
    """Raise :class:`MeshError` on what potpourri3d's vector heat solver cannot take
    (named), else return mesh."""
    if mesh.unreferenced_verts.size:
        v = int(mesh.unreferenced_verts[0])
        raise MeshError(
            f"vector heat needs every vertex in a face: vertex {v} is unreferenced "
            f"({mesh.unreferenced_verts.size} such vertices); remove them (manifoldnet.clean)"
        )
    require_manifold(mesh, "vector heat", "potpourri3d's solver would abort the process")
    zero = np.flatnonzero(mesh.edge_lengths == 0)
    if zero.size:  # potpourri3d's cotangents become NaN there (RuntimeError checkFinite at solve time)
        e = mesh.edges[zero[0]].tolist()
        raise MeshError(
            f"vector heat needs distinct vertex positions: edge {e} has zero length ({zero.size} such "
            "edges); weld the coincident vertices first"
        )
    zero = mesh.zero_area_faces
    if zero.size:  # its cotangents are 0/0: potpourri3d's solve raised RuntimeError "checkFinite() failure"
        f = int(zero[0])
        raise MeshError(
            f"vector heat needs triangles of non-zero area: face {f} {mesh.faces[f].tolist()} has zero area "
            f"({zero.size} such faces; area <= 1e-14 x mean squared edge length); manifoldnet.clean drops "
            "them, or use the heat method (HeatMethodSolver), which repairs them intrinsically"
        )
    if not mesh.is_oriented:
        raise MeshError(
            f"vector heat needs consistently oriented faces ({mesh.faces_to_flip.size} faces to flip; "
            "manifoldnet.clean orients them)"
        )
    return mesh


def _solver_call(what: str, fn, *args):
    """``fn(*args)`` with potpourri3d's RuntimeError (a non-finite matrix the input check did not foresee:
    near-degenerate triangles) as a MeshError that says what failed."""
    try:
        return fn(*args)
    except RuntimeError as exc:
        raise MeshError(
            f"vector heat {what} failed in potpourri3d ({str(exc)[:120]}): near-degenerate triangles? "
            "manifoldnet.clean, or the heat method (HeatMethodSolver)"
        ) from exc


class VectorHeatSolver:
    """Prefactored vector heat method on one manifold, oriented mesh, in our gauges.

    Parameters
    ----------
    mesh : Mesh (manifold, oriented, no unreferenced vertices; see :func:`check_vector_heat_input`).
    frames : our gauge: None / "intrinsic", a gauge name, or (V, 3, 3) frames (as in
        :func:`~manifoldnet.geometry.logmap.one_ring_logmap`).
    t_coef : potpourri3d's heat time coefficient.
    """

    @mesh_method
    def __init__(self, mesh: Mesh, frames=None, t_coef: float = 1.0):
        import potpourri3d as pp3d

        mesh = check_vector_heat_input(mesh)
        if not (np.isfinite(t_coef) and t_coef > 0):
            raise MeshError(f"t_coef must be a positive finite number, got {t_coef}")
        self.mesh = mesh
        self.t_coef = float(t_coef)
        V = mesh.n_verts
        # potpourri3d's tolerances are absolute (a sphere scaled by 1e20 gave a log map off at 69% of its
        # vertices): it runs at unit size, scaled by a power of two (exact), and radii are scaled back
        v = np.asarray(mesh.verts, dtype=np.float64)
        extent = float(np.ptp(v, axis=0).max()) if V else 1.0
        self._exp2 = int(np.frexp(extent)[1]) if extent > 0 else 0
        self._pp = _solver_call(
            "building the solver",
            pp3d.MeshVectorHeatSolver,
            np.ldexp(v, -self._exp2),
            np.asarray(mesh.faces),
            t_coef,
        )
        X, Y, _ = self._pp.get_tangent_frames()
        ei, _, theta = one_ring_logmap(mesh, frames)
        i, j = ei
        d = mesh.verts[j] - mesh.verts[i]
        ang = np.abs(np.arctan2(np.einsum("ij,ij->i", d, Y[i]), np.einsum("ij,ij->i", d, X[i])))
        o = np.lexsort((ang, i))
        first = np.r_[True, i[o][1:] != i[o][:-1]]
        pick = o[first]
        self.gauge_shift = np.zeros(V)
        self.gauge_shift[i[pick]] = theta[pick]
        """(V,) ``delta_v``: our angle of potpourri3d's X axis (``z_ours = exp(1j delta) z_pp``)."""
        # boundary vertices: geometry-central maps the fan (angle sum Theta, ours unscaled) to [0, pi] and the
        # outside to [pi, 2 pi]; interior vertices: no change (this piecewise map is
        # the identity when Theta=pi)
        self._theta = np.full(V, np.pi)
        if mesh.boundary_edges.size:
            b = np.unique(mesh.edges[mesh.boundary_edges])
            self._theta[b] = np.clip(vertex_angle_sums(mesh)[b], 1e-9, _TWO_PI - 1e-9)
        self._comp = np.asarray(mesh.vertex_components)
        self._heat = None

    def _to_ours(self, zp: np.ndarray, at: np.ndarray | slice = slice(None)) -> np.ndarray:
        psi = np.mod(np.angle(zp), _TWO_PI)
        th = self._theta[at]
        rel = np.where(psi <= np.pi, psi * th / np.pi, th + (psi - np.pi) * (_TWO_PI - th) / np.pi)
        return np.abs(zp) * np.exp(1j * (rel + self.gauge_shift[at]))

    def _to_pp(self, z: np.ndarray, at: np.ndarray) -> np.ndarray:
        phi = np.mod(np.angle(z) - self.gauge_shift[at], _TWO_PI)
        th = self._theta[at]
        psi = np.where(phi <= th, phi * np.pi / th, np.pi + (phi - th) * np.pi / (_TWO_PI - th))
        return np.abs(z) * np.exp(1j * psi)

    def _reached(self, src: np.ndarray) -> np.ndarray:
        return np.isin(self._comp, self._comp[src])

    def transport(self, sources, vectors) -> np.ndarray:
        """(V,) complex128: tangent vectors at ``sources`` (K,) given as complex (K,) or real (K, 2) in our
        gauge, transported along shortest geodesics (vector heat method) to every vertex, in our gauge."""
        src = np.asarray(sources).reshape(-1)
        checked = validate_sources(src, self.mesh.n_verts)
        if checked.size != src.size:
            raise MeshError("sources must not repeat a vertex")
        z = np.asarray(vectors)
        if z.dtype.kind != "c":
            z = np.asarray(z, dtype=np.float64)
            if z.shape != (src.size, 2):
                raise MeshError(
                    f"vectors must be complex (K,) or real (K, 2) for K={src.size} sources, got {z.shape}"
                )
            z = z[:, 0] + 1j * z[:, 1]
        z = z.reshape(-1)
        if z.shape != (src.size,) or not np.isfinite(z).all():
            raise MeshError(f"vectors must be {src.size} finite tangent vectors, got shape {z.shape}")
        zp = self._to_pp(z, src)
        out = _solver_call(
            "transport",
            self._pp.transport_tangent_vectors,
            src.astype(np.int64),
            np.stack([zp.real, zp.imag], 1),
        )
        w = self._to_ours(out[:, 0] + 1j * out[:, 1])
        w[~self._reached(src)] = 0.0
        return w

    def logmap(
        self,
        source: int,
        check: str = "raise",
        tol: float = 0.15,
        max_bad: float = 0.05,
        strategy: str = "AffineLocal",
        angle_tol: float = 0.2,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log map of vertex ``source``: ``(r (V,), theta (V,))``, polar coordinates in ``source``'s gauge.

        ``r`` is a geodesic distance: potpourri3d's radius where it lies within h (the mean edge length) of
        the heat-method distance ``d``, ``d`` elsewhere (module docstring); so ``r`` is always within h of
        ``d``, checked or not. ``theta`` is potpourri3d's angle in our gauge, in [0, 2 pi); arbitrary near the
        cut locus. On components the source cannot reach: ``r = inf`` and ``theta = 0``.

        ``check`` (``"raise"``, ``"warn"`` or ``"off"``) guards the ANGLES over the checked vertices
        (interior, beyond h, the nearest half of the reached ones; :meth:`logmap_error`). It passes when
        potpourri3d's own radius agrees with ``d`` (within ``tol * d + h``) at all but ``max_bad`` of them,
        or else when the angles agree with those of ``"AffineAdaptive"`` (computed then: one more solve)
        within ``angle_tol`` radians at all but ``max_bad`` of them. So what passes without a warning has
        angles from a map whose radii are right, or verified against the robust strategy; nothing is promised
        near the cut locus (the far half). Where AffineAdaptive itself fails (near-degenerate triangles: most
        RNA meshes), the angles cannot be verified: a ``RuntimeWarning`` says so and the map is returned.
        Measured on 62 real meshes (issue 18 item 11, ``tests/geometry/test_vector_heat_real.py``): the
        radius alone refused 42, whose angles mostly agree with AffineAdaptive's to a median 0.002-0.019
        rad; now 6 are refused (their angles differ from AffineAdaptive's by over 0.2 rad at over 5% of
        the checked vertices) and 6 warned about (unverifiable).
        ``strategy``: potpourri3d's log-map strategy, one of :data:`LOGMAP_STRATEGIES` (``"AffineAdaptive"``
        is more robust on folded triangles and slower: 0.8 s against 0.03 s per source on 20k vertices once
        factored).
        """
        if strategy not in LOGMAP_STRATEGIES:
            raise MeshError(f"unknown log-map strategy {strategy!r}; expected one of {LOGMAP_STRATEGIES}")
        if check not in ("raise", "warn", "off"):
            raise MeshError(f"check must be 'raise', 'warn' or 'off', got {check!r}")
        ok = np.isfinite(tol) and tol >= 0 and np.isfinite(angle_tol) and angle_tol >= 0
        if not (ok and 0 <= max_bad <= 1):
            raise MeshError(
                f"tol and angle_tol must be >= 0 and max_bad in [0, 1], got tol={tol}, "
                f"angle_tol={angle_tol}, max_bad={max_bad}"
            )
        src = validate_sources(source, self.mesh.n_verts, "source")
        if src.size != 1:
            raise MeshError("logmap takes one source vertex")
        s = int(src[0])
        r, theta = self._raw_logmap(s, strategy)
        far = ~self._reached(src)
        frac = self.logmap_error(s, r, tol) if check != "off" else 0.0  # potpourri3d's own radius
        d = self.heat_distance(s)
        r = np.where(
            self._off_band(r, d, 0.0), np.maximum(d, 0.0), r
        )  # keep potpourri3d's radius only within h of d
        r[s] = 0.0
        r[far], theta[far] = np.inf, 0.0
        if check != "off" and frac > max_bad:
            why = (
                f"its radius disagrees with the heat-method distance at {100 * frac:.1f}% of the vertices "
                f"away from the cut locus (> max_bad {100 * max_bad:.1f}%)"
            )
            if strategy != "AffineAdaptive":  # the angles may still be right: verify them
                try:
                    bad = self.logmap_angle_error(s, theta, "AffineAdaptive", angle_tol)
                except MeshError as exc:  # AffineAdaptive fails (NaN cotangents): unverified, not shown wrong
                    warnings.warn(
                        f"log map of vertex {s}: {why}, and its angles could not be verified ({exc})",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    return r, theta
                if bad <= max_bad:
                    return r, theta
                why += (
                    f", and its angles differ from AffineAdaptive's by more than {angle_tol:.2g} rad at "
                    f"{100 * bad:.1f}%"
                )
            msg = (
                f"log map of vertex {s}: {why}; folded or degenerate triangles? its angles are suspect; "
                f"clean the mesh, try strategy='AffineAdaptive', or check='warn' / 'off'"
            )
            if check == "raise":
                raise MeshError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return r, theta

    def _raw_logmap(self, s: int, strategy: str) -> tuple[np.ndarray, np.ndarray]:
        """potpourri3d's (radius, angle in our gauge) for source ``s``."""
        lm = np.ldexp(_solver_call("log map", self._pp.compute_log_map, s, strategy), self._exp2)
        z = self._to_ours(lm[:, 0] + 1j * lm[:, 1], np.full(len(lm), s))
        r, theta = np.abs(z), np.mod(np.angle(z), _TWO_PI)
        theta[theta >= _TWO_PI] = 0.0  # np.mod(-1e-17, 2 pi) rounds to 2 pi
        reached = self._reached(np.array([s]))
        if not (np.isfinite(r[reached]).all() and np.isfinite(theta[reached]).all()):
            raise MeshError(f"potpourri3d's log map of vertex {s} has non-finite values")
        return r, theta

    def logmap_angle_error(
        self, source: int, theta: np.ndarray, strategy: str = "AffineAdaptive", angle_tol: float = 0.2
    ) -> float:
        """Fraction of the checked vertices (those of :meth:`logmap_error`) where the angles ``theta`` (V,)
        differ from potpourri3d's ``strategy`` log map by more than ``angle_tol`` radians."""
        ok = self._checked(source)
        if not ok.any():
            return 0.0
        ref = self._raw_logmap(int(source), strategy)[1]
        diff = np.angle(np.exp(1j * (np.asarray(theta, dtype=np.float64)[ok] - ref[ok])))
        return float((np.abs(diff) > angle_tol).mean())

    def heat_distance(self, source: int) -> np.ndarray:
        """(V,) heat-method distance from ``source`` (robust, ``boundary="average"``;
        inf off its component)."""
        if self._heat is None:
            self._heat = HeatMethodSolver(self.mesh, boundary="average")
        return self._heat.distance(source)

    def _off_band(self, r: np.ndarray, d: np.ndarray, tol: float) -> np.ndarray:
        h = float(self.mesh.edge_lengths.mean())
        fin = np.isfinite(d)
        return fin & ~(np.abs(r - np.where(fin, d, 0.0)) <= tol * np.where(fin, d, 0.0) + h)

    def _checked(self, source: int) -> np.ndarray:
        """(V,) bool: interior vertices of the nearest half of the reached ones, beyond one edge length."""
        d = self.heat_distance(source)
        h = float(self.mesh.edge_lengths.mean())
        fin = np.isfinite(d)
        return fin & (d > h) & (d <= np.percentile(d[fin], 50)) & (self._theta == np.pi)

    def logmap_error(self, source: int, r: np.ndarray, tol: float = 0.15) -> float:
        """Fraction of the interior vertices away from the cut locus (the nearest half of the reached
        vertices, beyond one mean edge length h) where ``|r - d| > tol * d + h``, d the heat-method distance;
        r (V,) radii. Boundary vertices are left out: potpourri3d's radius can collapse
        there (module docstring)."""
        d = self.heat_distance(source)
        ok = self._checked(source)
        if not ok.any():
            return 0.0
        return float(self._off_band(np.asarray(r, dtype=np.float64), d, tol)[ok].mean())


@mesh_input
def vector_heat_transport(mesh: Mesh, sources, vectors, frames=None) -> np.ndarray:
    """One-off :meth:`VectorHeatSolver.transport`."""
    return VectorHeatSolver(mesh, frames).transport(sources, vectors)


@mesh_input
def vector_heat_logmap(
    mesh: Mesh, source: int, frames=None, check: str = "raise", strategy: str = "AffineLocal"
) -> tuple[np.ndarray, np.ndarray]:
    """One-off :meth:`VectorHeatSolver.logmap` (radius: a geodesic distance; ``check``: what it guarantees
    about the angles, see there)."""
    return VectorHeatSolver(mesh, frames).logmap(source, check=check, strategy=strategy)
