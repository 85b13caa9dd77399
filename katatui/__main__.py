from __future__ import annotations

import sys

from katatui.cli import main

sys.exit(main())
