"""Regenerate the README's viewer screenshots (docs/images/*.png) from shapes the project generates itself.

    .venv/bin/python examples/screenshots.py [OUT_DIR] [--only NAME ...] [--size W H]

OUT_DIR defaults to ``docs/images``. One picture per view of ``manifoldnet_viewer``, each drawn with the
same call a user would write (``mv.screenshot`` / ``mv.build_scene`` / ``mv.correspondence_scene``),
640x480 (pictures of several views 960x420), stored as 256-colour PNGs (well under 100 KB each).
Deterministic: the shapes come from fixed seeds. Headless: no display needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import manifoldnet_viewer as mv
import numpy as np
from _common import render_pictures, save_picture
from scipy.spatial import cKDTree

from manifoldnet import shapes
from manifoldnet.data.generated import generate_shape

PALETTE = 256  # colours per PNG: a few tens of KB instead of a few hundred


def wide(size) -> tuple[int, int]:
    """The size of a picture of several views side by side: 1.5 times as wide, 7/8 as high."""
    return int(1.5 * size[0]), int(0.875 * size[1])


def star(n_verts: int = 4000, seed: int = 2):
    """A generated "star" (a body with five limbs) with its part labels."""
    return generate_shape("star", seed=seed, n_verts=n_verts)


def hks(out: Path, size) -> str:
    mesh = star().mesh
    scene = mv.build_scene(mesh, scalars="hks:3", off_screen=True, window_size=size)
    save_picture(scene, out, palette=PALETTE)
    return "heat kernel signature, scale 3 of 16 (hks:3)"


def eigenfunctions(out: Path, size) -> str:
    mesh = star().mesh
    scene = mv.build_scene(mesh, channels="eig:1-12", off_screen=True, window_size=size)
    scene.set_channel(6)  # what dragging the slider to 6 does
    save_picture(scene, out, palette=PALETTE)
    return "eigenfunctions 1-12 with a slider (at 6): signed, so a diverging map centred at 0"


def curvature(out: Path, size) -> str:
    mesh = star().mesh
    scene = mv.build_scene(mesh, scalars="mean", percentile=1, off_screen=True, window_size=size)
    save_picture(scene, out, palette=PALETTE)
    return "mean curvature (percentile 1: the colour range ignores the 1% extremes at each end)"


def geodesic(out: Path, size) -> str:
    mesh = shapes.torus(R=1.0, r=0.4, n_major=96, n_minor=48)
    sources = [0, 2400]
    scene = mv.build_scene(mesh, geodesic=sources, isolines=16, off_screen=True, window_size=size)
    save_picture(scene, out, camera=(0.5, -0.3, 1.0), palette=PALETTE)
    return f"geodesic distance from vertices {sources} of a torus, isolines, sources marked"


def labels(out: Path, size) -> str:
    shape = star()
    names = {0: "body", **{k: f"limb {k}" for k in range(1, 6)}}
    scene = mv.build_scene(
        shape.mesh, labels=shape.labels, label_names=names, off_screen=True, window_size=size
    )
    save_picture(scene, out, palette=PALETTE)
    return "part labels with a legend (names given)"


def transport(out: Path, size) -> str:
    from manifoldnet_viewer import features

    mesh = shapes.ellipsoid(1.0, 0.8, 0.6, subdivisions=4)
    source = int(np.argmax(mesh.verts @ np.array([0.3, -0.5, 0.8])))
    frames = features.vertex_frames(mesh, "intrinsic")
    field = features.transported_field(mesh, source, 1.0 + 0.0j, frames=frames)
    scene = mv.Scene(2, off_screen=True, window_size=wide(size), link_views=True)
    scene.add_mesh(mesh)
    scene.add_frames(mesh, frames)
    scene.add_text("intrinsic gauge frames: e1 red, e2 green")
    scene.view(1)
    scene.add_mesh(mesh)
    scene.add_transport(mesh, source, field, frames=frames)
    scene.add_text("e1 at the red vertex, transported (vector heat)")
    save_picture(scene, out, camera=mesh.verts[source], palette=PALETTE)
    return f"frames | transport from vertex {source} of an ellipsoid"


def correspondence(out: Path, size) -> str:
    source, target = star(3000, seed=3), star(3600, seed=4)
    truth = cKDTree(target.params).query(source.params)[1]  # same parameter point: same surface point
    # a naive map to show what an error looks like: the nearest target vertex in space
    naive = cKDTree(target.mesh.verts).query(source.mesh.verts)[1]
    scene = mv.correspondence_scene(
        source.mesh, target.mesh, naive, true_map=truth, off_screen=True, window_size=wide(size)
    )
    save_picture(scene, out, palette=PALETTE)
    return "target | source coloured through a nearest-point map | its geodesic error"


PICTURES = {
    "hks": hks,
    "eigenfunctions": eigenfunctions,
    "curvature": curvature,
    "geodesic": geodesic,
    "labels": labels,
    "transport": transport,
    "correspondence": correspondence,
}


def main(argv=None) -> int:
    return render_pictures(__doc__, PICTURES, "docs/images", (640, 480), argv)


if __name__ == "__main__":
    sys.exit(main())
