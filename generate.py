#!/usr/bin/env python3
"""Generate the compliance-monitoring CloudFormation template. Run `./generate.py --help`.

Works from a fresh clone with any python3 once `make venv` has created .venv: when the package
is not importable (e.g. the system python3), this re-runs itself with .venv/bin/python.
"""

import os
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent
VENV_PYTHON = CHECKOUT / ".venv" / "bin" / "python"
REEXEC = "COMPLIANCE_TEMPLATE_REEXEC"  # set on the re-run, so a broken .venv cannot loop
# This checkout's own package first: a copy installed with `pip install .` (not editable) finds
# functions/ and templates/ beside site-packages, where they are not, and may be another version.
sys.path.insert(0, str(CHECKOUT / "src"))

try:
    from compliance_template.generator.cli import main
except ModuleNotFoundError as missing:
    if VENV_PYTHON.exists() and not os.environ.get(REEXEC):
        os.environ[REEXEC] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    print(
        f"generate.py: error: {missing.name} is not installed for {sys.executable}: run "
        "`make venv` (creates .venv with the pinned dependencies), then ./generate.py again",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main())
