"""``python -m chromatic.cli``: the ``chromatic`` command."""

import sys

from . import main

sys.exit(main())
