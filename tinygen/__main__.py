"""``python -m tinygen`` is the ``tinygen`` command."""
import sys

from tinygen.cli import main

sys.exit(main())
