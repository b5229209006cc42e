"""`python -m serving.server ...` = `albert-tf serve ...`."""

import sys

from albert_tf.cli import quiet_tensorflow

quiet_tensorflow()

from .command import main  # noqa: E402

sys.exit(main())
