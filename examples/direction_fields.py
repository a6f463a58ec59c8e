"""Smoothest direction fields (n = 1 vector field, n = 4 cross field), their singularities, and parallel
transport of a vector along a shortest edge path.

    .venv/bin/python examples/direction_fields.py [MESH] [--out out/examples/direction_fields.png]

Without MESH an ellipsoid is used. Prints the singularities (their indices sum to n * chi: Poincaré-Hopf),
and the holonomy of a closed path (transport once around it) next to the connection curvature it encloses.
The picture: left the smoothest vector field with its singularities (red), and a vector transported along
a path (blue arrows); right the smoothest cross field with its singularities.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from _common import example_parser, save_picture

from manifoldnet import shapes
from manifoldnet.analysis import (
    power_to_directions,
    shortest_edge_path,
    singularity_indices,
    smoothest_direction_field,
    transport_along_path,
)
from manifoldnet.geometry.frames import vertex_frames
from manifoldnet.geometry.transport import connection_face_curvature


def main(argv=None) -> int:
    ap = example_parser(__doc__, "direction_fields", mesh="an ellipsoid", n_verts=None)
    ap.add_argument("--subdivisions", type=int, default=4, help="ellipsoid resolution (default mesh)")
    args = ap.parse_args(argv)
    if args.mesh:
        from manifoldnet import load_mesh

        mesh = load_mesh(args.mesh)
    else:
        mesh = shapes.ellipsoid(1.0, 0.7, 0.5, subdivisions=args.subdivisions)
    chi = mesh.euler_characteristic
    print(f"mesh: {mesh.n_verts} vertices, {mesh.n_faces} faces, Euler characteristic {chi}")
    frames = vertex_frames(mesh, "intrinsic")  # the gauge the fields are expressed in
    fields = {}
    for n in (1, 4):
        u, energy = smoothest_direction_field(mesh, n, frames=frames)
        idx = singularity_indices(mesh, u, n, frames=frames)
        sing = np.flatnonzero(idx)
        fields[n] = (u, idx, sing)
        print(
            f"n = {n}: energy {energy:.4g}; {sing.size} singular faces, indices (x 1/{n}) "
            f"{idx[sing].tolist()}; sum = {idx.sum()} / {n} = {idx.sum() / n:g} (chi = {chi})"
        )

    # transport along a shortest edge path between two far-apart vertices, and around a closed loop
    a = int(np.argmin(mesh.verts[:, 0]))
    b = int(np.argmax(mesh.verts[:, 0]))
    path = shortest_edge_path(mesh, a, b)
    z = transport_along_path(mesh, path, 1.0 + 0.0j, frames=frames)
    print(
        f"transported e1 of vertex {a} along a {path.size}-vertex edge path to vertex {b}: {z[-1]:.4f} "
        "(in b's gauge)"
    )
    c = int(np.argmax(mesh.verts[:, 1]))
    loop = np.r_[path, shortest_edge_path(mesh, b, c)[1:], shortest_edge_path(mesh, c, a)[1:]]
    zl = transport_along_path(mesh, loop)
    hol = float(np.angle(zl[-1]))
    print(
        f"closed loop of {loop.size - 1} edges: holonomy {hol:.4f} rad; total curvature "
        f"{connection_face_curvature(mesh).sum():.4f} = 2 pi chi = {2 * np.pi * chi:.4f}"
    )

    if args.out:
        import manifoldnet_viewer as mv

        scene = mv.Scene(2, off_screen=True, window_size=(1400, 650), link_views=True)
        centroids = mesh.verts[mesh.faces].mean(axis=1)
        u1, _, s1 = fields[1]
        scene.add_mesh(mesh, color="white")
        scene.add_vectors(mesh, u1, frames=frames, max_arrows=500)
        scene.add_points(centroids[s1], color="red", size=16)
        step = max(1, path.size // 12)
        h = float(mesh.edge_lengths.mean())
        scene.add_points(mesh.verts[path], color="blue", size=6)
        scene.add_vectors(
            mesh,
            z[::step],
            frames=frames[path[::step]],
            at=path[::step],
            color="blue",
            max_arrows=None,
            length=5 * h,
        )
        scene.add_text("n = 1: field, singular (red), transport (blue)")
        scene.view(1)
        u4, _, s4 = fields[4]
        dirs = power_to_directions(u4, 4)
        scene.add_mesh(mesh, color="white")
        keep = np.arange(0, mesh.n_verts, max(1, mesh.n_verts // 300))
        for k in range(4):
            scene.add_vectors(
                mesh,
                dirs[keep, k],
                frames=frames[keep],
                at=keep,
                max_arrows=None,
                color="black",
                length=2 * h,
            )
        scene.add_points(centroids[s4], color="red", size=16)
        scene.add_text(f"n = 4: cross field, {s4.size} singularities (1/4)")
        save_picture(scene, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
