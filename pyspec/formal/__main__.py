"""``python -m pyspec.formal lock | check | fragment | show NAME``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "lock":
        from pyspec.formal.lock import write_lock

        prints = write_lock()
        print(f"locked {len(prints)} Lean statements in pyspec/claims.py")
        return 0
    if command == "check":
        from pyspec.claims import LEAN_FINGERPRINTS
        from pyspec.formal.lock import stale

        changed = stale(LEAN_FINGERPRINTS)
        for name, (old, new) in changed.items():
            print(f"{name}: locked {old}, now {new}")
        return 1 if changed else 0
    if command == "fragment":
        from pyspec.formal.syntax import FRAGMENT

        print("\n".join(FRAGMENT))
        return 0
    if command == "show" and len(args) > 1:
        from pyspec.formal.extract import declaration

        print(declaration(args[1]).statement)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
