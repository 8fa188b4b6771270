"""`python -m insiena.report PROJECT_DIR OUT_DIR [--formats html,pdf] [--renderer auto]`"""

from insiena.report.render import main

raise SystemExit(main())
