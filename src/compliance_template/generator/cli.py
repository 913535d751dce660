"""Command line: read settings, build the template, write it. `generate.py` calls `main`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from troposphere import Template

from ..errors import SettingsError
from ..output import FORMATS, render, resolve, write_atomically
from ..paths import BUILD_DIR, FUNCTIONS_DIR, PROJECT_ROOT, TEMPLATES_DIR
from .catalog import CATALOG
from .conformance_pack import build_conformance_pack
from .exemptions import expired
from .frameworks import frameworks
from .limits import build_within_limits
from .organization import build_central_template, build_member_template
from .runbooks import write_runbooks
from .settings import Settings, load_settings
from .template import build_template

DEFAULT_OUT = TEMPLATES_DIR / "compliance-monitoring.json"
EXIT_USAGE = 2
KINDS: dict[str, Callable[[Settings], Template]] = {
    "stack": build_template,
    "org-member": build_member_template,
    "org-central": build_central_template,
    "conformance-pack": build_conformance_pack,
    "org-conformance-pack": lambda settings: build_conformance_pack(settings, organization=True),
}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Generate the compliance-monitoring CloudFormation template.",
        epilog="Deploy-time values are CloudFormation parameters; the settings file chooses the "
        "rules and the parameters' defaults. See README.md.",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        help="JSON settings file (frameworks, rules, remediate, digest, rule_parameters, "
        "parameter_defaults, tags, exemptions, exemption_max_days); "
        "default: the built-in defaults",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"where to write the template; - for standard output. Default: the committed "
        f"template of the kind without --settings ({DEFAULT_OUT.relative_to(PROJECT_ROOT)}, "
        f"templates/<kind>.json); with --settings FILE, "
        f"{BUILD_DIR.name}/<FILE's name without .json>.json, "
        f"{BUILD_DIR.name}/<name>-<kind>.json for another kind (never a committed template)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="json or yaml (default: from --out, json)"
    )
    parser.add_argument(
        "--kind",
        choices=sorted(KINDS),
        default="stack",
        help="stack: one account and region (default); org-member / org-central: the "
        "organization templates; conformance-pack / org-conformance-pack: the rules as a pack",
    )
    parser.add_argument("--list-rules", action="store_true", help="list the catalog rules and exit")
    parser.add_argument(
        "--list-frameworks",
        action="store_true",
        help="list the frameworks (AWS's sample conformance packs), one a line: name, rule "
        "count, title; and exit",
    )
    parser.add_argument(
        "--show-framework",
        metavar="NAME",
        help="print one framework's rules and the deploy parameters its pack declares, with "
        "their defaults, and exit",
    )
    parser.add_argument(
        "--runbooks",
        type=Path,
        metavar="DIR",
        help="write one runbook per catalog rule into DIR and exit (make template: docs/runbooks)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        # `generate.py --list-frameworks | head`: the reader left; nothing more to say.
        sys.stdout = None  # type: ignore[assignment]  # no flush of a closed pipe at exit
        return 0


def _run(args: argparse.Namespace) -> int:
    if args.list_rules:
        for rule in CATALOG:
            default = "default" if rule.enabled_by_default else "opt-in"
            print(f"{rule.identifier:55} {default:8} {rule.description}")
        return 0
    if args.list_frameworks:
        for framework in frameworks().values():
            print(f"{framework.name:66} {len(framework.rules):3}  {framework.title}")
        return 0
    if args.show_framework is not None:
        return _show_framework(args.show_framework)
    try:
        if args.runbooks:
            write_runbooks(args.runbooks)
            return 0
        generate(args)
    except SettingsError as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _show_framework(name: str) -> int:
    framework = frameworks().get(name)
    if framework is None:
        print(
            f"generate.py: error: --show-framework: {name!r} is not a framework; "
            "`generate.py --list-frameworks` lists them",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(f"{framework.name}: {framework.title} ({framework.file}, {len(framework.rules)} rules)")
    for rule in framework.rules:
        condition = f"  (only if {rule.condition})" if rule.condition else ""
        print(f"  rule {rule.suffix:50} {rule.identifier}{condition}")
    for parameter, declared in framework.parameters.items():
        print(f"  parameter {parameter} = {declared.get('Default', '(no default)')!r}")
    for custom in framework.custom_rules:
        print(f"  not deployed: {custom} is a custom rule (its Lambda function is the pack user's)")
    return 0


def generate(args: argparse.Namespace) -> None:
    out = args.out if args.out is not None else default_out(args.settings, args.format, args.kind)
    to_stdout = str(out) == "-"
    fmt = args.format or ("yaml" if out.suffix in (".yaml", ".yml") else "json")
    out_dir = Path.cwd() if to_stdout else resolve(out).parent
    code_root = Path(os.path.relpath(FUNCTIONS_DIR, out_dir)).as_posix()
    settings = (
        load_settings(args.settings, code_root) if args.settings else Settings(code_root=code_root)
    )
    warn_expired(settings)
    template = build_within_limits(lambda: KINDS[args.kind](settings), args.kind)
    text = render(template, fmt)
    if to_stdout:
        sys.stdout.write(text)
        return
    write_atomically(out, text)
    if args.out is None and args.settings:
        print(f"generate.py: wrote {out}", file=sys.stderr)


def warn_expired(settings: Settings) -> None:
    """An exemption already expired is allowed (it does nothing), but worth removing."""
    today = datetime.now(UTC).date()
    for exemption in expired(settings.exemptions, today):
        print(
            f"generate.py: warning: exemption {exemption.id} expired on "
            f"{exemption.expires.isoformat()} and no longer applies; remove it from the settings",
            file=sys.stderr,
        )


def default_out(settings_file: Path | None, fmt: str | None, kind: str = "stack") -> Path:
    """Without settings, the kind's committed template (what `make template` writes there too).
    A custom settings file goes to build/ (not committed), so it cannot replace a committed
    template that `make template` would silently restore and the golden tests compare; each kind
    to a file of its own, so generating two kinds from one settings file keeps both."""
    if settings_file is None:
        return DEFAULT_OUT if kind == "stack" else TEMPLATES_DIR / f"{kind}.json"
    suffix = "" if kind == "stack" else f"-{kind}"
    return BUILD_DIR / f"{settings_file.stem}{suffix}.{fmt or 'json'}"
