"""``python -m chromatic_learning.cli``: the ``chromatic-learning`` command."""

import sys

from . import main

sys.exit(main())
