"""One module per remediable rule, named after the rule's identifier in lower case.

Everything about one rule's remediation is in its module:

- ``IDENTIFIER`` and ``RESOURCE_TYPE`` (from the rulebook, that is, from the catalog);
- ``READS`` and ``WRITES``: the IAM actions of its calls, by the scope they are granted on. They
  are literals because the template generator reads them from the source, without importing
  this code, to build the remediation role's policies (src/compliance_template/generator/policies.py
  names the scopes); ``WRITES`` maps the Sid of the fix's statement to its scope and actions;
- ``read(client, finding, config)``: the resource's current state (``client`` gives a boto3
  client by service name);
- ``plan(finding, state, config) -> Plan``: pure, testable without AWS;
- ``apply(client, action)``: the fix.

Only the module of the finding's rule is imported, so a cold start pays for one rule, not all.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import rulebook


def for_identifier(identifier: str) -> ModuleType | None:
    """The rule's module; None when the catalog gives the rule no automatic remediation."""
    if rulebook.text(identifier).remediation is None:
        return None
    # The identifier was validated (upper case, digits, underscores): a plain module name.
    return importlib.import_module(f"{__name__}.{identifier.lower()}")
