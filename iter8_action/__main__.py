"""`python -m iter8_action`: the `iter8` command."""

import sys

from iter8_action.cli import main

sys.exit(main())
