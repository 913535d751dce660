"""The stack deployed on the local emulator once per test module (compliance_template.local.cycle),
for the tests of this folder: each module gets its own emulator and stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compliance_template.local.cycle import LocalStack, local_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The default template, deployed with the initial parameters, in an account that has a
    recorder; deleted and the emulator stopped after the module's last test."""
    with local_stack() as running:
        running.account_setup()
        running.create()
        yield running
