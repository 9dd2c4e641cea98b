"""``python -m dreamengine`` runs the command-line interface."""

from dreamengine.cli import main

raise SystemExit(main())
