"""`python -m serving.server ...` = `albert-tf serve ...`."""

import sys

from .command import main

sys.exit(main())
