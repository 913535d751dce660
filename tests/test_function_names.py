"""The function names are listed once (naming.FUNCTION_NAMES); everything else follows them."""

from __future__ import annotations

from template_helpers import as_dict, resources_of

from compliance_template.generator.functions import SPECS
from compliance_template.generator.naming import FUNCTION_NAMES, function_logical_id
from compliance_template.generator.settings import Settings
from compliance_template.paths import FUNCTIONS_DIR


def test_each_function_has_one_spec():
    assert sorted(SPECS) == sorted(FUNCTION_NAMES)
    assert all(SPECS[name].name == name for name in FUNCTION_NAMES)


def test_each_function_has_its_code_folder():
    folders = {p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and p.name != "_shared"}
    assert folders == set(FUNCTION_NAMES)


def test_the_template_has_the_functions_under_their_logical_ids():
    functions = resources_of(as_dict(Settings()), "AWS::Lambda::Function")
    assert set(functions) == {function_logical_id(name) for name in FUNCTION_NAMES}
