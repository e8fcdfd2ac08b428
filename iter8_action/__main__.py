"""`python -m iter8_action`: the `iter8` command."""

import sys

from iter8_action.cli.main import main

sys.exit(main())
