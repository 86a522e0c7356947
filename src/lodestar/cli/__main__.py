"""``python -m lodestar.cli``: the same as the ``lodestar`` command."""

from __future__ import annotations

import sys

from lodestar.cli import main

sys.exit(main())
