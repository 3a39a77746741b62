"""``python -m pgzoo``: the zoo's command line (same as the ``pgzoo`` console script)."""

import sys

from pgzoo.zoo.cli import main

sys.exit(main())
