"""Where the repository's folders are; the CLIs run from a checkout of this repository."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
RUNBOOKS_DIR = PROJECT_ROOT / "docs" / "runbooks"
BUILD_DIR = PROJECT_ROOT / "build"
