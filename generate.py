#!/usr/bin/env python3
"""Generate the compliance-monitoring CloudFormation template. Run `generate.py --help`."""

import sys

from compliance_template.cli import main

if __name__ == "__main__":
    sys.exit(main())
