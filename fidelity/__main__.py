"""``python -m fidelity``: the same as the ``fidelity`` command."""

import sys

from fidelity.cli import main

sys.exit(main())
