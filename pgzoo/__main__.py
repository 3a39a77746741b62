"""``python -m pgzoo``: the zoo's command line (same as the ``pgzoo`` console script)."""

import sys

from pgzoo.zoo.cli import main

if __name__ == "__main__":  # importing this module (a config naming it, say) must not run the command line
    sys.exit(main())
