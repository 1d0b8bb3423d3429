"""`python -m repdesk`: the same as the `repdesk` command."""

import sys

from repdesk.cli import main

sys.exit(main())
