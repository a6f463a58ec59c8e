"""One-call entry points: ``show(mesh, ...)`` (window or browser) and ``screenshot(mesh, path, ...)``.

Both build the same :class:`Scene` with :func:`build_scene`, so the offscreen picture is the on-screen one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manifoldnet import MeshError

from . import features
from .convert import as_mesh
from .inputs import Field, load_array, load_labels, resolve_field
from .scene import Scene

__all__ = ["build_scene", "screenshot", "show"]


def build_scene(
    mesh,
    scalars=None,
    *,
    labels=None,
    channels=None,
    channel_names=None,
    geodesic=None,
    vectors=None,
    frames=None,
    transport=None,
    bundle=None,
    isolines: int = 0,
    cmap=None,
    clim=None,
    percentile=None,
    nan_color=None,
    n_classes=None,
    label_offset: int = 0,
    label_names=None,
    max_arrows: int | None = 400,
    title: str | None = None,
    show_edges: bool = False,
    camera: str | None = "iso",
    zoom: float = 1.0,
    **scene_kw,
) -> Scene:
    """A :class:`Scene` of one mesh with at most one surface colouring and any overlays.

    Colourings (pick one): ``scalars`` (array (V,)/(F,), or a spec like ``"hks:4"``, ``"eig:10"``,
    ``"gauss"``, a file; a multi-channel spec like ``"hks"`` becomes ``channels``), ``labels`` (array or
    file; ``label_offset`` added), ``channels`` ((V, C) array or spec: a slider browses C), ``geodesic``
    (source vertex id(s): distance colour, isolines, sources marked).
    Overlays: ``isolines`` (count, on the scalar field), ``vectors`` ((V, 3) world, (V, 2)/(V,) complex in
    the gauge ``frames``, or a file), ``frames`` (``True``, a gauge name, or (V, 3, 3): drawn as arrows),
    ``transport`` (a source vertex: the vector heat transport of its e1 vector; or ``(source, field)``).
    ``bundle``: a saved OperatorBundle whose eigenpairs/frames are used. Other keywords go to
    :class:`Scene` (``window_size``, ``off_screen``, ``testing``).
    """
    mesh = as_mesh(mesh)
    scalar_field = channel_field = None
    if scalars is not None:
        f = resolve_field(scalars, mesh, bundle)
        if f.is_channels:
            channel_field = f
        else:
            scalar_field = f
    if channels is not None:
        if channel_field is not None:
            raise MeshError(
                "give the channels once: scalars resolved to several channels and channels is set"
            )
        channel_field = resolve_field(channels, mesh, bundle)
        if channel_names is not None:
            channel_field = Field(
                channel_field.values, channel_field.title, tuple(channel_names), channel_field.ids
            )
    if labels is not None and isinstance(labels, (str, Path)):
        labels = load_labels(labels, mesh, offset=label_offset)
    elif labels is not None:
        labels = np.asarray(labels) + int(label_offset)
    chosen = [
        n
        for n, v in (
            ("scalars", scalar_field),
            ("labels", labels),
            ("channels", channel_field),
            ("geodesic", geodesic),
        )
        if v is not None
    ]
    if len(chosen) > 1:
        raise MeshError(f"one surface colouring at a time, got {' and '.join(chosen)}")

    scene = Scene(1, **scene_kw)
    gauge = None
    if frames is not None and frames is not False:
        gauge = (
            features.vertex_frames(mesh, gauge="intrinsic" if frames is True else frames, bundle=bundle)
            if (frames is True or isinstance(frames, str))
            else np.asarray(frames, dtype=np.float64)
        )

    if scalar_field is not None:
        scene.add_mesh(
            mesh,
            scalar_field.values,
            cmap=cmap,
            clim=clim,
            percentile=percentile,
            nan_color=nan_color,
            title=title or scalar_field.title,
            show_edges=show_edges,
        )
        if isolines:
            if scalar_field.values.shape[0] != mesh.n_verts:
                raise MeshError("isolines need a per-vertex scalar field")
            scene.add_isolines(mesh, scalar_field.values, n=isolines)
    elif channel_field is not None:
        values = channel_field.values if channel_field.values.ndim == 2 else channel_field.values[:, None]
        scene.add_channels(
            mesh,
            values,
            names=channel_field.names,
            ids=channel_field.ids,
            cmap=cmap,
            clim=clim,
            title=title or channel_field.title,
        )
    elif labels is not None:
        scene.add_labels(mesh, labels, n_classes=n_classes, names=label_names, show_edges=show_edges)
    elif geodesic is not None:
        scene.add_geodesic(mesh, geodesic, n_isolines=isolines or 12)
    else:
        scene.add_mesh(mesh, show_edges=show_edges)

    if gauge is not None:
        scene.add_frames(mesh, gauge, max_arrows=min(max_arrows or mesh.n_verts, 250))
    if vectors is not None:
        vec = load_array(vectors) if isinstance(vectors, (str, Path)) else vectors
        scene.add_vectors(mesh, vec, frames=gauge, max_arrows=max_arrows)
    if transport is not None:
        if isinstance(transport, tuple):
            source, field = transport
        else:
            source = int(transport)
            field = features.transported_field(mesh, source, frames=gauge)
        scene.add_transport(mesh, int(source), field, frames=gauge, max_arrows=max_arrows)
    if title and scalar_field is None and channel_field is None:
        scene.add_text(title)
    scene.camera(camera, zoom)
    return scene


def show(mesh, *, backend: str | None = None, port: int = 0, **kwargs):
    """Open ``mesh`` with its features in a window (or the browser, ``backend="trame"``); see
    :func:`build_scene` for the keywords. Picking a point prints the nearest vertex's values."""
    scene = build_scene(mesh, **kwargs)
    return scene.show(backend=backend, port=port)


def screenshot(mesh, path, *, window_size=None, **kwargs) -> np.ndarray:
    """Render ``mesh`` with its features offscreen to the PNG ``path``; returns the image (H, W, 3).
    Keywords as :func:`build_scene`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scene = build_scene(mesh, off_screen=True, window_size=window_size, **kwargs)
    return scene.screenshot(path)
