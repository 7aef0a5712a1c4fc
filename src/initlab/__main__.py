"""``python -m initlab`` is the ``initlab`` command."""

import sys

from initlab.cli import main

sys.exit(main())
