"""The optional parts of the package and what each needs installed.

`pip install compliance-template` is enough to generate and lint templates. Each subpackage that
needs more has its extra of the same name: `compliance_template.deploy` the `deploy` extra (boto3,
the AWS CLI), `compliance_template.local` the `local` extra (moto as well). A module importing
such a package does it through `missing_extra(extra_of(__package__), ...)`, so a plain install
gets one line saying what to install instead of an ImportError traceback.
"""

from __future__ import annotations

import sys

PACKAGE = "compliance-template"
PIP_NAME = "compliance_template"
# The subpackages that need an extra: the extra is named after the subpackage.
SUBPACKAGE_EXTRAS = ("deploy", "local")


def extra_of(package: str) -> str:
    """The extra a module of `package` (its `__package__`) needs."""
    extra = package.removeprefix(f"{PIP_NAME}.").partition(".")[0]
    if extra not in SUBPACKAGE_EXTRAS:
        raise ValueError(f"{package} is not a subpackage with an extra")
    return extra


def install_hint(extra: str) -> str:
    return f"pip install '{PACKAGE}[{extra}]'"


def missing_extra(extra: str, error: ModuleNotFoundError) -> BaseException:
    """What to raise when `error` says a package of `extra` is not installed.

    Run as a command of this package (`python -m compliance_template.deploy.account`...), the
    message is printed and the command exits with 2, a usage error; imported by other code, an
    ImportError carrying the same message is raised, so the caller decides.
    """
    message = f"{error.name} is not installed; the {extra} tooling needs it: {install_hint(extra)}"
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.startswith(f"{PIP_NAME}."):
        print(f"{PACKAGE}: error: {message}", file=sys.stderr)
        return SystemExit(2)
    return ModuleNotFoundError(message, name=error.name)
