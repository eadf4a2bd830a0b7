"""``python -m ptychopinn``: the same command line as the ``ptychopinn`` console script."""

from ptychopinn.cli.main import main

raise SystemExit(main())
