"""Regenerate the bundled meshes (``meshes/*.obj``) and ``meshes/MANIFEST.tsv``.

Usage: ``python meshes/generate.py [FOLDER]``. The OBJ files are not committed (see ``meshes/README.md``).
"""

from __future__ import annotations

import sys

from manifoldnet.bundled import write_bundled

if __name__ == "__main__":
    rows = write_bundled(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"wrote {len(rows)} meshes and MANIFEST.tsv")
