"""`python -m deploy.kubernetes`: render the manifests from a values file, to a folder (one file
per part, in the order to apply them) or to standard output; `--secrets` prints instead the
Secrets the manifests expect, with fresh random values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from deploy.kubernetes import secrets
from deploy.kubernetes.render import render, to_yaml, write
from deploy.kubernetes.values import DEFAULT_VALUES, load_values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=Path, default=DEFAULT_VALUES, help="the values file (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override one value")
    parser.add_argument("--out", type=Path, help="write the files into this folder instead of printing them")
    parser.add_argument("--secrets", action="store_true", help="print the Secrets to create once, with random values")
    args = parser.parse_args(argv)
    try:
        values = load_values(args.values, args.set)
        if args.secrets:
            sys.stdout.write(to_yaml(secrets.objects(values)))
            return 0
        files = render(values)
    except (ValidationError, ValueError) as exc:
        print(f"cannot render: {exc}", file=sys.stderr)
        return 2
    if args.out:
        write(files, args.out)
        print(f"wrote {', '.join(files)} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(to_yaml([obj for objects in files.values() for obj in objects]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
