"""`python -m symgrad` runs the `symgrad` command."""

import sys

from symgrad.cli.main import main

sys.exit(main())
