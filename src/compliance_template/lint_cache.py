"""cfn-lint over templates, skipping those already found clean with the same inputs.

`make template` rewrites every template, but most runs change none of them, and cfn-lint spent
most of the target's time re-linting unchanged files. A template found clean is remembered by a
key over everything its findings depend on: the template's bytes, the cfn-lint version (its rules
and its data), the options it runs with, and this package's source, which holds our rules and
the catalog they read. Only templates without a remembered clean result are linted, in one
cfn-lint run whose output and exit code are passed through; findings are never remembered, so a
failing template fails again on every run. `make lint` and the tests lint everything, uncached.

    python -m compliance_template.lint_cache CACHE_DIR TEMPLATE... -- CFN_LINT_OPTION...
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def package_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """One digest over every source file of the package, by path and content."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def lint_key(template: bytes, options: Sequence[str], cfn_lint_version: str, source: str) -> str:
    digest = hashlib.sha256()
    for part in (cfn_lint_version, "\0".join(options), source):
        digest.update(part.encode() + b"\0")
    digest.update(template)
    return digest.hexdigest()


def cfn_lint_command(options: Sequence[str], templates: Sequence[Path]) -> list[str]:
    """cfn-lint from this interpreter's environment, as its console script runs it."""
    run = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    return [sys.executable, "-c", run, *options, "--", *map(str, templates)]


def lint(cache_dir: Path, templates: Sequence[Path], options: Sequence[str]) -> int:
    """cfn-lint's exit code over the templates not remembered as clean (0 when none is left)."""
    versions = (version("cfn-lint"), package_digest())
    keys = {path: lint_key(path.read_bytes(), options, *versions) for path in templates}
    stale = [path for path, key in keys.items() if not (cache_dir / key).is_file()]
    skipped = len(templates) - len(stale)
    if skipped:
        print(f"cfn-lint: {skipped} unchanged template(s) already clean, not linted again")
    if not stale:
        return 0
    sys.stdout.flush()
    code = subprocess.run(cfn_lint_command(options, stale), check=False).returncode
    if code == 0:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for path in stale:
            (cache_dir / keys[path]).write_text(f"{path}\n", encoding="utf-8")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args or args.index("--") < 2:
        print(
            "lint_cache: usage: python -m compliance_template.lint_cache CACHE_DIR TEMPLATE... "
            "-- CFN_LINT_OPTION...",
            file=sys.stderr,
        )
        return 2
    split = args.index("--")
    cache_dir, templates, options = (
        Path(args[0]),
        [Path(a) for a in args[1:split]],
        args[split + 1 :],
    )
    return lint(cache_dir, templates, options)


if __name__ == "__main__":
    sys.exit(main())
