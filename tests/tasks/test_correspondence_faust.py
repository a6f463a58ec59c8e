"""The correspondence conventions on two real FAUST shapes (skipped without the data): the ground-truth
functional map built from the ``.vts`` matches, read back as a point map, lands near the true points, and ids
paired with the wrong shape do not."""

from __future__ import annotations

import numpy as np
import torch

from manifoldnet.analysis import functional_maps as fm
from manifoldnet.analysis.metrics import geodesic_errors
from manifoldnet.data import faust_5k
from manifoldnet.nn.fmap import fmap_from_matches
from manifoldnet.tasks.correspondence import GeodesicRows
from tests.conftest import shared_data


def test_ground_truth_fmap_round_trip_on_faust():
    root = shared_data("faust_5k").parent
    ds = faust_5k(root, split="test")
    X, Y = ds[0], ds[5]  # tr_reg_080 and tr_reg_085: one person, two poses, different triangulations
    k = 30
    sx, sy = fm.spectral_shape(X.mesh, 60), fm.spectral_shape(Y.mesh, 60)
    # points of X -> vertices of Y: the map carries Y's functions to X's (source Y, target X)
    ey, ex = torch.tensor(sy.evecs[:, :k]), torch.tensor(sx.evecs[:, :k])
    C = fmap_from_matches(ey, ex, Y.corres, X.corres).numpy()
    p2p = fm.fmap_to_p2p(C, sy, sx)  # (V_X,) vertices of Y
    rows = GeodesicRows(Y.mesh, Y.corres)
    err = geodesic_errors(rows, p2p[X.corres], Y.corres, rows.area)
    assert err.mean() < 0.05  # a 30-eigenfunction map: coarse but right (a random map is ~0.5)
    # ZoomOut refines it (as at evaluation)
    _, p2p_z = fm.zoomout(C, sy, sx, 60, step=10, progress=False)
    assert geodesic_errors(rows, p2p_z[X.corres], Y.corres, rows.area).mean() < err.mean()
    # each shape's ids index its own basis: swapping them gives a far worse map
    swapped = fm.fmap_to_p2p(fmap_from_matches(ey, ex, X.corres, Y.corres).numpy(), sy, sx)
    assert geodesic_errors(rows, swapped[X.corres], Y.corres, rows.area).mean() > 3 * err.mean()
    assert np.all(err >= 0)
