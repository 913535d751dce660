"""Which tests `make test-fast` leaves out, by what they do.

Every test file is listed with the slow things its tests do (an empty tuple: unit tests only,
kept by `make test-fast`); tests/conftest.py marks each test with its file's markers and with
`slow` when there is any, so `pytest -m "not slow"` is the fast loop. The markers are registered
in pyproject.toml. tests/test_markers.py fails when a test file is missing here, so a new file
is classified when it is added, and when a test not marked `emulator` starts a server. A file
whose tests differ marks the slow ones itself (`@pytest.mark.cfn_lint`).
"""

from __future__ import annotations

SLOW = "slow"
# What a slow test does (pyproject.toml describes each marker).
EMULATOR, CFN_LINT, SCANNERS, PROPERTY = "emulator", "cfn_lint", "scanners", "property"
SCALE = "scale"
REASONS = (EMULATOR, CFN_LINT, SCANNERS, PROPERTY, SCALE)

FILE_MARKERS: dict[str, tuple[str, ...]] = {
    "tests/cfn_rules/test_fixtures.py": (),
    "tests/cfn_rules/test_helpers.py": (),
    "tests/cfn_rules/test_loading.py": (CFN_LINT,),
    "tests/cfn_rules/test_robustness.py": (CFN_LINT,),
    "tests/cfn_rules/test_runtime_lifecycle.py": (),
    "tests/e2e/test_deployed_stack.py": (EMULATOR,),
    "tests/e2e/test_e2e_helpers.py": (EMULATOR,),
    "tests/e2e/test_other_template.py": (EMULATOR,),
    "tests/e2e/test_framework_stack.py": (EMULATOR,),
    "tests/e2e/test_update_and_delete.py": (EMULATOR,),
    "tests/functions/test_environment_per_region.py": (),
    "tests/functions/test_frameworks.py": (),
    "tests/functions/test_function_packaging.py": (),
    "tests/functions/test_function_properties.py": (PROPERTY,),
    "tests/functions/test_processing_function.py": (),
    "tests/functions/test_processing_order.py": (PROPERTY,),
    "tests/functions/test_processing_digest.py": (),
    "tests/functions/test_processing_tickets.py": (),
    "tests/functions/test_remediation_function.py": (),
    "tests/functions/test_remediation_permissions.py": (),
    "tests/functions/test_reporting_function.py": (),
    "tests/functions/test_reserved_tag_prefix.py": (),
    "tests/functions/test_shared_constants.py": (),
    "tests/maintenance/test_committed_data.py": (),
    "tests/maintenance/test_refresh.py": (),
    "tests/test_benchmarks.py": (),
    "tests/test_catalog.py": (),
    "tests/test_framework_rules.py": (SCALE,),
    "tests/test_controls.py": (),
    "tests/test_framework_limits.py": (SCALE,),
    "tests/test_framework_lint.py": (CFN_LINT,),
    "tests/test_cli.py": (),
    "tests/test_condition_names.py": (),
    "tests/test_conformance_pack_parameters.py": (),
    "tests/test_deploy.py": (),
    "tests/test_digest_template.py": (),
    "tests/test_deploy_inputs.py": (),
    "tests/test_deploy_org.py": (),
    "tests/test_emulator.py": (EMULATOR,),
    "tests/test_emulator_ops_items.py": (EMULATOR,),
    "tests/test_emulator_server.py": (EMULATOR,),
    "tests/test_event_pattern.py": (),
    "tests/test_tickets_template.py": (),
    "tests/test_extras.py": (),
    "tests/test_failure_facts.py": (),
    "tests/test_function_loader.py": (),
    "tests/test_function_names.py": (),
    "tests/test_golden.py": (),
    "tests/test_iam_policies.py": (),
    "tests/test_intrinsics.py": (),
    "tests/test_key_grants.py": (),
    "tests/test_latest_evaluation_access.py": (),
    "tests/test_lint.py": (CFN_LINT,),
    "tests/test_lint_cache.py": (),
    "tests/test_local_cycle.py": (EMULATOR,),
    "tests/test_markers.py": (),
    "tests/test_notification_delivery.py": (),
    "tests/test_organization.py": (),
    "tests/test_packaging.py": (),
    "tests/test_preflight.py": (),
    "tests/test_readme.py": (),
    "tests/test_regions.py": (),
    "tests/test_remediation_grants.py": (),
    "tests/test_rule_name_length.py": (),
    "tests/test_rulebook.py": (),
    "tests/test_runbooks.py": (),
    "tests/test_security_scanners.py": (SCANNERS,),
    "tests/test_settings.py": (),
    "tests/test_stateful.py": (),
    "tests/test_tags_and_limits.py": (),
    "tests/test_update_safety.py": (),
}
