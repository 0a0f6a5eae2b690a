"""`python -m netdsl.cli`."""

import sys

from netdsl.cli import main

sys.exit(main())
