"""What the example scripts share: their command line (a mesh file or a generated shape, ``--out PNG``)
and writing their picture. Imported by the scripts as ``_common`` (Python puts a script's own folder first
on ``sys.path``)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["example_parser", "load_or_generate", "save_picture"]


def example_parser(
    doc: str, picture: str, *, mesh: str | None = "a generated shape", n_verts: int | None = 2000
) -> argparse.ArgumentParser:
    """The scripts' common arguments: ``MESH`` (optional; default ``mesh``), ``--n-verts`` (size of the
    generated shape; left out when ``n_verts`` is None) and ``--out`` (default
    ``out/examples/<picture>.png``; '' for no picture). ``doc``: the script's docstring (its first line
    is the description)."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if mesh is not None:
        ap.add_argument("mesh", nargs="?", help=f"mesh file (default: {mesh})")
    if n_verts is not None:
        ap.add_argument("--n-verts", type=int, default=n_verts, help="size of the generated shape")
    ap.add_argument("--out", default=f"out/examples/{picture}.png", help="picture (PNG); '' for none")
    return ap


def load_or_generate(path, family: str, seed: int, n_verts: int):
    """``(mesh, shape)``: the mesh file ``path`` (``shape`` None), or a generated shape of ``family``
    (:func:`manifoldnet.data.generated.generate_shape`: its mesh, part labels and parameters)."""
    if path:
        from manifoldnet import load_mesh

        return load_mesh(path), None
    from manifoldnet.data.generated import generate_shape

    shape = generate_shape(family, seed=seed, n_verts=n_verts)
    return shape.mesh, shape


def save_picture(scene, path, camera="iso", palette: int | None = None) -> Path:
    """Point ``scene``'s camera (``camera``; None keeps it), render it offscreen to the PNG ``path``
    (folders made as needed) and say where it is. ``palette``: store at most that many colours (a
    fraction of the bytes, e.g. for pictures committed to the repository)."""
    path = Path(path)
    if camera is not None:
        scene.camera(camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = scene.screenshot(path)
    if palette:
        from PIL import Image

        quantized = Image.fromarray(img).quantize(colors=palette, method=Image.Quantize.MEDIANCUT)
        quantized.save(path, optimize=True)
    print(f"picture: {path}")
    return path
