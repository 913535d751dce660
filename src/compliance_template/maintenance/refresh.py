"""`python -m compliance_template.maintenance.refresh --checkout DIR [--write]`: re-read AWS's
sample packs from a checkout of awslabs/aws-config-rules and report what changed.

Exit 0 when the packs give the recorded frameworks, 1 when they differ (so a scheduled job can
notice drift), 2 on bad input (one line, no traceback). The managed-rule findings (rules the
catalog lacks, rules no pack uses, undocumented inputs, the age of the facts) are reported but
do not change the exit code: they are managed_rules.json's state, which `--write` never touches,
so they would stay after the frameworks are brought up to date. docs/catalog.md explains the
report.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from . import frameworks_data, rule_facts
from .drift import Frameworks, framework_changes
from .packs import PACK_SUFFIXES, PACKS_FOLDER, PackError, read_folder

EXIT_SAME, EXIT_CHANGED, EXIT_BAD_INPUT = 0, 1, 2
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


class InputError(ValueError):
    """Bad input: the message is the one line printed."""


def main(argv: Sequence[str] | None = None, today: date | None = None) -> int:
    arguments = _parser().parse_args(argv)
    today = today or date.today()
    try:
        read, notes = _read_checkout(arguments.checkout)
        source = _source(arguments) if arguments.write else None
        recorded = _recorded(arguments.frameworks)
        rules = rule_facts.load_rules(arguments.managed_rules)
    except (InputError, PackError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    changes = framework_changes(recorded, read)
    _print_report(changes, notes, read, rules, today)
    if source is not None:
        commit, committed_on = source
        document = frameworks_data.frameworks_document(
            read, commit, committed_on, today.isoformat()
        )
        print(f"wrote {frameworks_data.write(document, arguments.frameworks)}")
    return EXIT_CHANGED if changes else EXIT_SAME


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.maintenance.refresh", description=__doc__
    )
    parser.add_argument(
        "--checkout", type=Path, required=True, help=f"a checkout holding {PACKS_FOLDER}/"
    )
    parser.add_argument("--write", action="store_true", help="rewrite the frameworks file")
    parser.add_argument("--commit", help="the checkout's commit (default: git log -1)")
    parser.add_argument("--committed-on", help="its date, YYYY-MM-DD (default: git log -1)")
    parser.add_argument("--frameworks", type=Path, default=frameworks_data.FRAMEWORKS_FILE)
    parser.add_argument("--managed-rules", type=Path, default=rule_facts.MANAGED_RULES_FILE)
    return parser


def _read_checkout(checkout: Path) -> tuple[Frameworks, list[str]]:
    if not checkout.is_dir():
        raise InputError(f"--checkout {checkout}: no such directory")
    folder = checkout / PACKS_FOLDER
    if not folder.is_dir():
        raise InputError(f"--checkout {checkout}: no {PACKS_FOLDER}/ folder in it")
    frameworks, notes = read_folder(folder)
    if not frameworks:
        # An empty folder would otherwise remove every framework on --write.
        raise InputError(f"{folder}: no packs ({' or '.join(PACK_SUFFIXES)} files)")
    return frameworks, notes


def _recorded(path: Path) -> Frameworks:
    if not path.exists():
        return {}  # the first run: every framework is added
    try:
        frameworks: Frameworks = frameworks_data.load(path)["frameworks"]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"--frameworks {path}: not a frameworks file ({error})") from None
    return frameworks


def _source(arguments: argparse.Namespace) -> tuple[str, str]:
    """The commit and its date: given, or the checkout's last commit."""
    commit, committed_on = arguments.commit, arguments.committed_on
    if (commit is None) != (committed_on is None):
        raise InputError("give both --commit SHA and --committed-on YYYY-MM-DD, or neither")
    if commit is None:
        commit, committed_on = _last_commit(arguments.checkout)
    if not _COMMIT.match(commit):
        raise InputError(f"--commit {commit!r}: expected 7 to 40 lower-case hex digits")
    try:
        date.fromisoformat(committed_on)
    except ValueError:
        raise InputError(f"--committed-on {committed_on!r}: expected YYYY-MM-DD") from None
    return commit, committed_on


def _last_commit(checkout: Path) -> tuple[str, str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        done = None
    if done is None or done.returncode != 0 or not done.stdout.strip():
        raise InputError(
            f"--checkout {checkout} is not a git checkout: give --commit SHA and"
            " --committed-on YYYY-MM-DD for --write"
        )
    commit, committed_on = done.stdout.split()
    return commit, committed_on


def _print_report(
    changes: list[str],
    notes: list[str],
    read: Frameworks,
    rules: dict,
    today: date,
) -> None:
    sections = (
        ("Packs", [f"note: {note}" for note in notes]),
        ("Frameworks", changes or ["no change"]),
        (
            "Managed rules",
            rule_facts.missing_rules(read, rules)
            + rule_facts.unused_rules(read, rules)
            + rule_facts.undocumented_inputs(read, rules),
        ),
        ("How old the facts are", rule_facts.facts_age(rules, today)),
    )
    for title, lines in sections:
        if lines:
            print(f"## {title}")
            print("\n".join(lines))
    print(f"{len(changes)} framework changes; {len(read)} frameworks in the checkout")


if __name__ == "__main__":
    sys.exit(main())
