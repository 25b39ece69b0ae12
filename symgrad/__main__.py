"""`python -m symgrad` runs the `symgrad` command."""

import sys

from symgrad.cli import main

sys.exit(main())
