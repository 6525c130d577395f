"""``python -m meshcare.sim``: the ``meshcare sim`` subcommand on its own."""

from __future__ import annotations

import argparse
import sys

from ..errors import MeshcareError
from .cli import HELP, add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="meshcare sim", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except MeshcareError as exc:
        print(f"meshcare sim: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
