"""Deploy tooling: preflight, deploy and destroy of one stack, the organization's StackSet,
update safety. Its modules need the `deploy` extra (compliance_template/extras.py)."""
