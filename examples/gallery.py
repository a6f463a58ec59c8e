"""Render the viewer's gallery to PNGs (headless; no display needed).

    .venv/bin/python examples/gallery.py [OUT_DIR] [--only NAME ...] [--size W H]

OUT_DIR defaults to ``out/gallery`` (git-ignored). Pictures:

- ``hks_bunny.png``         heat kernel signature (one scale) on the Stanford bunny
- ``eig10_sphere.png``      eigenfunction 10 of the Laplacian on a sphere, its nodal lines (zero isoline)
- ``geodesic_torus.png``    geodesic distance from one vertex of a torus, with isolines
- ``frames_transport.png``  intrinsic gauge frames | a vector transported from one vertex (vector heat)
- ``rna_labels.png``        an RNA surface with its 260-class segmentation labels
- ``faust_correspondence.png``  FAUST ground-truth colour transfer, a naive map's transfer, its error

The real-data pictures read ``$MANIFOLDNET_DATA`` (default ``../shared/data``) and are skipped with a
message when it is absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import manifoldnet_viewer as mv
import numpy as np
from _common import render_pictures

from manifoldnet import load_mesh, shapes
from manifoldnet.paths import data_root


def hks_bunny(out: Path, size) -> str:
    from manifoldnet.operators import OperatorCache

    path = data_root() / "classic" / "stanford-bunny.obj"
    if not path.exists():
        return f"skipped: {path} not found"
    mesh = load_mesh(path)
    # 128 eigenpairs through the operator cache (about a minute the first time, instant afterwards)
    bundle = OperatorCache().get(mesh, fields=("eigenbasis",), k=128)
    hks = mv.resolve_field("hks", mesh, bundle).values  # (V, 16), diffusion times log-spaced, small first
    with np.errstate(divide="ignore"):
        log_hks = np.log(hks[:, 1])  # HKS spans decades: colour its log (0 at unreferenced vertices -> NaN)
    log_hks[~np.isfinite(log_hks)] = np.nan
    mv.screenshot(
        mesh,
        out,
        scalars=log_hks,
        window_size=size,
        camera="xy",
        zoom=1.1,
        cmap="inferno",
        percentile=1,
        title="log HKS",
    )
    return f"{mesh.n_verts} vertices, {int(np.isnan(log_hks).sum())} without HKS (unreferenced)"


def eig10_sphere(out: Path, size) -> str:
    mesh = shapes.icosphere(4)
    # eigenfunction 10 lies in the 7-dimensional l = 3 eigenspace (indices 9..15): compute it once and
    # use the same array for the colour and the nodal lines
    phi = mv.resolve_field("eig:10", mesh).values
    lim = float(np.abs(phi).max())
    scene = mv.build_scene(
        mesh,
        scalars=phi,
        cmap="RdBu_r",
        clim=(-lim, lim),
        window_size=size,
        off_screen=True,
        title="eigenfunction 10",
        camera="iso",
        zoom=1.0,
    )
    scene.add_isolines(mesh, phi, levels=[0.0], line_width=3)  # nodal lines
    scene.screenshot(out)
    return f"{mesh.n_verts} vertices"


def geodesic_torus(out: Path, size) -> str:
    mesh = shapes.torus(R=1.0, r=0.4, n_major=96, n_minor=48)
    mv.screenshot(mesh, out, geodesic=[0], isolines=16, window_size=size, camera=(0.5, -0.3, 1.0), zoom=1.05)
    return f"{mesh.n_verts} vertices, source 0"


def frames_transport(out: Path, size) -> str:
    from manifoldnet_viewer import features

    mesh = shapes.icosphere(4)
    source = int(np.argmax(mesh.verts @ np.array([0.3, -0.4, 0.87])))
    frames = features.vertex_frames(mesh, "intrinsic")
    field = features.transported_field(mesh, source, 1.0 + 0.0j, frames=frames)
    scene = mv.Scene(2, off_screen=True, window_size=(2 * size[0], size[1]), link_views=False)
    scene.add_mesh(mesh)
    scene.add_frames(mesh, frames, max_arrows=300)
    scene.add_text("intrinsic gauge frames: e1 red, e2 green")
    scene.view(1)
    scene.add_mesh(mesh)
    scene.add_transport(mesh, source, field, frames=frames, max_arrows=500)
    scene.add_text("e1 at the red vertex, transported (vector heat)")
    scene.camera(mesh.verts[source], zoom=1.25)
    scene.screenshot(out)
    return f"{mesh.n_verts} vertices, source {source}"


def rna_labels(out: Path, size) -> str:
    from manifoldnet.data.datasets import RNA_CLASSES, rna

    try:
        data = rna(split="test")
    except FileNotFoundError as exc:
        return f"skipped: {exc}"
    sample = data[0]
    mv.screenshot(
        sample.mesh,
        out,
        labels=sample.labels,
        n_classes=RNA_CLASSES,
        window_size=size,
        title=f"rna {sample.name}",
        zoom=1.2,
    )
    present = np.unique(sample.labels[sample.labels >= 0]).size
    return f"{sample.name}: {sample.mesh.n_verts} vertices, {present} of {RNA_CLASSES} classes present"


def faust_correspondence(out: Path, size) -> str:
    from scipy.spatial import cKDTree

    from manifoldnet.data.datasets import faust_5k

    try:
        data = faust_5k(split=None)
    except FileNotFoundError as exc:
        return f"skipped: {exc}"
    src, tgt = data[1], data[0]  # tr_reg_001 -> tr_reg_000: same person, another pose
    true = mv.map_from_pairs(src.corres, tgt.corres, src.mesh.n_verts, tgt.mesh.n_verts)
    # a naive map to show what an error looks like: nearest target vertex in space (after centring)
    a = src.mesh.verts - src.mesh.verts.mean(axis=0)
    b = tgt.mesh.verts - tgt.mesh.verts.mean(axis=0)
    naive = cKDTree(b).query(a)[1].astype(np.int64)
    err = mv.correspondence_error(tgt.mesh, naive, true, metric="geodesic")
    scene = mv.Scene(4, off_screen=True, window_size=(2 * size[0], size[1]), link_views=False)
    colors = mv.xyz_colors(tgt.mesh.verts)
    scene.add_colors(tgt.mesh, colors)
    scene.add_text(f"target {tgt.name}")
    scene.view(1)
    scene.add_colors(src.mesh, mv.transfer_colors(colors, true))
    scene.add_text("ground truth")
    scene.view(2)
    scene.add_colors(src.mesh, mv.transfer_colors(colors, naive))
    scene.add_text("nearest point")
    scene.view(3)
    scene.add_mesh(src.mesh, err, cmap="YlOrRd", clim=(0, 0.5), nan_color="lightgrey", title="error")
    scene.add_text(f"its error (mean {np.nanmean(err):.3f})")
    scene.camera("xy", zoom=1.5)
    scene.screenshot(out)
    return (
        f"{src.name} -> {tgt.name}: {int((true >= 0).sum())} ground-truth pairs; nearest-point map "
        f"mean geodesic error {np.nanmean(err):.3f} (units of sqrt(area))"
    )


PICTURES = {
    "hks_bunny": hks_bunny,
    "eig10_sphere": eig10_sphere,
    "geodesic_torus": geodesic_torus,
    "frames_transport": frames_transport,
    "rna_labels": rna_labels,
    "faust_correspondence": faust_correspondence,
}


def main(argv=None) -> int:
    return render_pictures(__doc__, PICTURES, "out/gallery", (800, 700), argv)


if __name__ == "__main__":
    sys.exit(main())
