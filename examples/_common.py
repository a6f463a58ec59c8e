"""What the example scripts share: their command line (a mesh file or a generated shape, ``--out PNG``)
and writing their picture. Imported by the scripts as ``_common`` (Python puts a script's own folder first
on ``sys.path``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

__all__ = ["example_parser", "load_or_generate", "render_pictures", "save_picture"]


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


def render_pictures(doc: str, pictures: dict, out: str, size: tuple[int, int], argv=None) -> int:
    """The command line of a script that renders a set of named pictures: ``[OUT_DIR] [--only NAME ...]
    [--size W H]``. Each ``pictures[name](path, (w, h))`` writes ``OUT_DIR/name.png`` and returns a note;
    prints one line a picture (name, seconds, size on disk, note)."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("out", nargs="?", default=out, help=f"output folder (default {out})")
    ap.add_argument("--only", nargs="+", choices=sorted(pictures), help="render only these")
    ap.add_argument("--size", nargs=2, type=int, default=size, metavar=("W", "H"), help="picture size")
    args = ap.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in args.only or pictures:
        t = time.perf_counter()
        path = folder / f"{name}.png"
        note = pictures[name](path, tuple(args.size))
        kb = f"{path.stat().st_size / 1024:6.1f} KB" if path.exists() else "      - KB"
        print(f"{name:22s} {time.perf_counter() - t:6.1f} s {kb}  {note}")
    return 0
