"""`python -m lifeline`: the same as the `lifeline` command."""

import sys

from lifeline.cli.main import main

sys.exit(main())
