"""Which remediation engine each deployed rule gets, and why: the one place that decides.

Two engines exist: `lambda` (our remediation function, which re-checks the resource and honours
exemptions; catalog `remediation`) and `ssm` (an AWS-owned Systems Manager Automation document
that AWS Config runs as the rule's remediation; generator/ssm_documents.py). The settings'
`remediation` field chooses per rule; without a choice a rule gets `ssm` where AWS owns a
document for it that is not disruptive, else `lambda` where ours exists, else `none`.

Everything rule-and-remediation shaped (the RemediationConfiguration resources, the automation
roles, the processing function's environment and grants, the runbooks, the README table) reads
`plan()`, so no two places can disagree about a rule's engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ..errors import SettingsError
from . import ssm_documents
from .catalog import BY_IDENTIFIER
from .ssm_documents import RuleRemediation

if TYPE_CHECKING:
    from .settings import Settings


class Engine(StrEnum):
    LAMBDA = "lambda"
    SSM = "ssm"
    NONE = "none"


class Starter(StrEnum):
    """Who starts an ssm remediation (the processing function's SSM_REMEDIATION values)."""

    # AWS Config, automatically in enforce mode (Automatic true), on request in dry-run.
    CONFIG = "config"
    # The rule has settings exemptions: its configuration is manual in every mode, and processing
    # starts executions for non-exempt resources in enforce mode (see `starter`).
    PROCESSING = "processing"


def available_engines(identifier: str) -> tuple[Engine, ...]:
    """The engines that exist for the rule, `none` always."""
    engines = []
    if BY_IDENTIFIER[identifier].remediation is not None:
        engines.append(Engine.LAMBDA)
    if ssm_documents.remediation_for(identifier) is not None:
        engines.append(Engine.SSM)
    return (*engines, Engine.NONE)


def default_engine(identifier: str) -> Engine:
    ssm = ssm_documents.remediation_for(identifier)
    if ssm is not None and not ssm.disruptive:
        return Engine.SSM
    if BY_IDENTIFIER[identifier].remediation is not None:
        return Engine.LAMBDA
    return Engine.NONE


def resolve_engines(
    rules: Iterable[str],
    explicit: Mapping[str, str],
    remediate: Iterable[str] | None,
) -> dict[str, Engine]:
    """Each rule's engine: its explicit choice; else, with the old `remediate` list given,
    `lambda` for a listed rule and `none` for any other (what the list meant before engines
    existed); else its default."""
    listed = None if remediate is None else set(remediate)
    engines = {}
    for identifier in rules:
        if identifier in explicit:
            engines[identifier] = Engine(explicit[identifier])
        elif listed is not None:
            engines[identifier] = Engine.LAMBDA if identifier in listed else Engine.NONE
        else:
            engines[identifier] = default_engine(identifier)
    return engines


@dataclass(frozen=True)
class SsmChoice:
    """An ssm-engine rule: its document, whether approval wraps it, who starts it."""

    identifier: str
    remediation: RuleRemediation
    starter: Starter

    @property
    def document(self) -> str:
        return self.remediation.document.name

    @property
    def family(self) -> str:
        return self.remediation.document.family

    @property
    def approval(self) -> bool:
        """Disruptive documents run behind an aws:approve step of a stack-owned wrapper."""
        return self.remediation.disruptive


def starter(identifier: str, exempted: Iterable[str]) -> Starter:
    """AWS documents that a remediation exception can only be placed on a resource that is
    already NON_COMPLIANT, and recommends manual remediation until it is placed
    (https://docs.aws.amazon.com/config/latest/developerguide/remediation-exceptions.html, read
    2026-12-02): so a rule with exemptions is never automatic in Config itself."""
    return Starter.PROCESSING if identifier in set(exempted) else Starter.CONFIG


def plan(settings: Settings) -> tuple[SsmChoice, ...]:
    """The ssm-engine rules of the settings, by identifier."""
    exempted = {identifier for e in settings.exemptions for identifier in e.rules}
    return tuple(
        SsmChoice(
            identifier, ssm_documents.rule_remediations()[identifier], starter(identifier, exempted)
        )
        for identifier in sorted(settings.engines)
        if settings.engines[identifier] is Engine.SSM
    )


def families(choices: Iterable[SsmChoice]) -> tuple[str, ...]:
    """The runbook families used, each one automation role."""
    return tuple(sorted({choice.family for choice in choices}))


README_HEADER = (
    "| Rule | Engine | Default? | Runbook | What it does | Disruptive? |",
    "|---|---|---|---|---|---|",
)


def readme_table() -> str:
    """The README's table of every rule with a remediation: the AWS-owned runbooks of the facts
    and our Lambda remediations, with the default engine."""
    rows = []
    identifiers = sorted(
        set(ssm_documents.rule_remediations())
        | {i for i, rule in BY_IDENTIFIER.items() if rule.remediation is not None}
    )
    for identifier in identifiers:
        engine = default_engine(identifier)
        ssm = ssm_documents.remediation_for(identifier)
        if ssm is not None:
            document = ssm.document
            disruptive = f"yes: {document.disruption} (approval)" if ssm.disruptive else "no"
            rows.append(
                f"| `{identifier}` | ssm | {_default_mark(engine, Engine.SSM)} "
                f"| [`{document.name}`]({document.url}) "
                f"| {document.effect} | {disruptive} |"
            )
        lambda_fix = BY_IDENTIFIER[identifier].remediation
        if lambda_fix is not None:
            rows.append(
                f"| `{identifier}` | lambda | {_default_mark(engine, Engine.LAMBDA)} "
                f"| our remediation function "
                f"| {lambda_fix} | no |"
            )
    return "\n".join((*README_HEADER, *rows))


def _default_mark(default: str, engine: str) -> str:
    """The table's "Default" cell: whether a stack that does not choose gets this engine."""
    return "yes" if default == engine else "no"


def pack_plan(settings: Settings, organization: bool) -> tuple[SsmChoice, ...]:
    """The ssm-engine rules a conformance pack deploys, refusing what a pack cannot do with one
    SettingsError: our Lambda engine (a pack has no functions), an approval runbook (a pack
    deploys no documents, topic or subscriber), exemptions of an ssm rule (nothing in a pack
    places remediation exceptions), and in an organization pack any ssm remediation (each
    member account would need its own automation role ARN, and a pack template takes no
    per-account value: the organization member stack deploys it instead). A rule left to its
    default whose engine is lambda gets none in a pack."""
    for identifier, engine in settings.remediation.items():
        where = f"remediation.{identifier}"
        if engine == Engine.LAMBDA:
            raise SettingsError(
                where, engine, "ssm or none in a conformance pack, which runs no functions"
            )
        if engine == Engine.SSM and organization:
            raise SettingsError(
                where,
                engine,
                "none in an organization conformance pack (each account needs its own "
                "automation role); use the org-member kind for AWS-native remediation",
            )
    choices = () if organization else plan(settings)
    for choice in choices:
        if choice.approval:
            raise SettingsError(
                f"remediation.{choice.identifier}",
                "ssm",
                f"a non-disruptive runbook in a conformance pack: {choice.document} needs "
                "approval, which only the stack kinds deploy",
            )
        if choice.starter is Starter.PROCESSING:
            raise SettingsError(
                "exemptions",
                choice.identifier,
                "no exemptions of an ssm-engine rule in a conformance pack (nothing there "
                "places remediation exceptions); set its engine to none or use the stack kind",
            )
    return choices
