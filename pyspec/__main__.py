"""``python -m pyspec``: the same as the ``pyspec`` console script."""

from pyspec.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports it (pyspec verify --jobs)
    raise SystemExit(main())
