"""``python -m twyn_widgets lab``: JupyterLab on the example notebooks."""

from ._cli import main

raise SystemExit(main())
