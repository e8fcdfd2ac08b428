"""The GitHub Action's container entrypoint: run the CI job and exit with its code."""

import sys

from iter8_action.cli.job import main

sys.exit(main())
