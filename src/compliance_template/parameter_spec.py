"""One CloudFormation parameter as this project declares it, and the console group of rule inputs.

Its own module so the catalog (a rule input set at deploy time) and the parameter tables of
`parameters` share the one dataclass without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_RULES = "Compliance rules"
# The inputs of framework rules, as AWS's sample packs declare them.
GROUP_FRAMEWORKS = "Framework rule inputs"


@dataclass(frozen=True)
class ParameterSpec:
    """One CloudFormation parameter; `group` and `label` drive the console form."""

    name: str
    group: str
    label: str
    description: str
    default: str | None  # None: the deployer must give a value
    cfn_type: str = "String"
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None
    constraint_description: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None

    @classmethod
    def from_template(cls, name: str, declared: dict) -> ParameterSpec:
        """The constraints of a parameter as a template declares it (deploy-time checks)."""
        default = declared.get("Default")
        return cls(
            name,
            group="",
            label=name,
            description=declared.get("Description", ""),
            default=None if default is None else str(default),
            cfn_type=declared.get("Type", "String"),
            allowed_values=tuple(str(v) for v in declared.get("AllowedValues", ())),
            allowed_pattern=declared.get("AllowedPattern"),
            constraint_description=declared.get("ConstraintDescription"),
            min_value=_number(declared.get("MinValue")),
            max_value=_number(declared.get("MaxValue")),
            max_length=_number(declared.get("MaxLength")),
        )

    def allowed_text(self) -> str:
        """Human-readable constraint, shared by CloudFormation and our own error messages."""
        if self.constraint_description:
            return self.constraint_description
        if self.allowed_values:
            return "one of " + ", ".join(self.allowed_values)
        if self.cfn_type == "Number":
            return f"a whole number from {self.min_value} to {self.max_value}"
        return f"a value matching {self.allowed_pattern}"


def _number(value: object) -> int | None:
    return None if value is None else int(str(value))
