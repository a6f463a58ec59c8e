"""``manifoldnet cache info|clean [--cache DIR]``: what the operator cache holds, and tidying it.

``info`` prints the folder, its entries and their bytes, and the temporaries of killed writers (stale:
older than an hour) with their bytes. ``clean`` removes the stale temporaries (every write into the cache
does that too); ``clean --all`` also removes every entry, leaving other files in the folder alone.
"""

from __future__ import annotations

import argparse
import json

from ..operators.cache import OperatorCache


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=("info", "clean"), help="info: counts and bytes; clean: remove stale temporaries"
    )
    parser.add_argument(
        "--cache", default=None, help="cache folder (default $MANIFOLDNET_CACHE or ~/.cache/manifoldnet)"
    )
    parser.add_argument(
        "--all", action="store_true", help="clean: remove every entry too (empties the cache)"
    )
    parser.add_argument("--json", action="store_true", help="info: one JSON object")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    cache = OperatorCache(args.cache)
    if args.action == "clean":
        removed = cache.clean(everything=args.all)
        what = "stale temporaries and entries" if args.all else "stale temporaries"
        print(f"{cache.root}: removed {removed} files ({what})")
        return 0
    info = cache.info()
    if args.json:
        print(json.dumps({**info.__dict__, "root": str(info.root)}))
        return 0
    print(f"cache:                {info.root}{'' if cache.root.is_dir() else ' (does not exist yet)'}")
    print(f"entries:              {info.entries} ({_mb(info.entry_bytes)})")
    print(
        f"stale temporaries:    {info.stale_temporaries} ({_mb(info.stale_bytes)}; `manifoldnet cache clean` "
        "removes them)"
    )
    print(f"writes in progress:   {info.live_temporaries}")
    return 0
