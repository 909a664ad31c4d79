"""``python -m pyspec``: the same as the ``pyspec`` console script."""

from pyspec.cli import main

raise SystemExit(main())
