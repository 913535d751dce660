"""Template-reading helpers shared by the rules in this package.

The leading underscore matters: cfn-lint's directory loader only imports files whose name starts
with a letter or digit, so this module is never mistaken for a rule file. Rule files import it by
its absolute name because the directory loader imports each rule file on its own, outside any
package, where relative imports fail.

The helpers share one principle: a value the template computes at deploy time (a parameter, an
import, a resource attribute) cannot be judged, so every check that meets one answers "unknown"
and the rules treat "unknown" as "no finding".
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from cfnlint.decode import cfn_yaml
from cfnlint.template import Template

from compliance_template.intrinsics import (
    NO_VALUE_NAME,
    PSEUDO_PARAMETERS,
    NotEvaluable,
    Placeholder,
    is_intrinsic,
    sub_arguments,
    sub_parts,
)

Path = list[str | int]

# Stands for text a placeholder will supply at deploy time. A private-use character cannot occur
# in a real template value, so a string containing it is known to be (partly) unknown.
UNKNOWN_MARK = "\ue000"


def is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and value.get("Ref") == NO_VALUE_NAME


def branches(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """Each concrete alternative of a value, expanding `Fn::If`; `AWS::NoValue` yields nothing."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        args = value["Fn::If"]
        if isinstance(args, list) and len(args) == 3:
            yield from branches(args[1], [*path, "Fn::If", 1])
            yield from branches(args[2], [*path, "Fn::If", 2])
            return
    if not is_no_value(value):
        yield value, path


def items(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """The elements of a list-valued property, also when the template gives a single value.

    IAM accepts a scalar where a list is expected (`"Action": "kms:*"`), and a list may be an
    intrinsic (a `CommaDelimitedList` parameter): such a value is yielded as one opaque element
    so that callers see it and can treat it as unknown.
    """
    for branch, branch_path in branches(value, path):
        if isinstance(branch, list):
            for index, element in enumerate(branch):
                yield from branches(element, [*branch_path, index])
        else:
            yield branch, branch_path


def resources_of_type(cfn: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, resource) for each resource of the given types."""
    yield from cfn.get_resources(list(types)).items()


def properties(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's Properties, or an empty dict when absent, computed or not an object."""
    props = resource.get("Properties")
    return props if isinstance(props, dict) and not is_intrinsic(props) else {}


def resource_type(cfn: Template, logical_id: Any) -> str | None:
    if not isinstance(logical_id, str):
        return None
    resource = cfn.get_resources().get(logical_id)
    return resource.get("Type") if resource else None


def ref_target(value: Any) -> str | None:
    """The logical id or parameter name of a `Ref`, else None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


def getatt_target(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of a `Fn::GetAtt` in list or dotted-string form, else None."""
    if not isinstance(value, dict) or len(value) != 1 or "Fn::GetAtt" not in value:
        return None
    args = value["Fn::GetAtt"]
    if isinstance(args, str) and "." in args:
        args = args.split(".", 1)
    if (
        isinstance(args, list)
        and len(args) == 2
        and isinstance(args[0], str)
        and isinstance(args[1], str)
    ):
        return args[0], args[1]
    return None


def sub_reference(value: Any) -> str | None:
    """The single `${Name}` or `${Name.Attr}` a `Fn::Sub` consists of, else None."""
    if not isinstance(value, dict) or len(value) != 1 or "Fn::Sub" not in value:
        return None
    try:
        text, variables = sub_arguments(value["Fn::Sub"])
    except NotEvaluable:
        return None
    parts = sub_parts(text)
    if variables or len(parts) != 1 or not isinstance(parts[0], Placeholder):
        return None
    return parts[0].name


# -- rendering values to text -------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A value as text. Deploy-time values appear as `${...}` placeholders; `exact` is False when
    any placeholder other than a pseudo parameter was needed, i.e. the text is not fully known.
    """

    text: str
    exact: bool


def render(value: Any) -> Rendered | None:
    """Render a string, `Ref`, `Fn::GetAtt`, `Fn::Sub` or `Fn::Join` to text; None if it is not
    a string-valued expression (a number, a list, an object).
    """
    if isinstance(value, str):
        return Rendered(value, True)
    if not is_intrinsic(value):
        return None
    name, args = next(iter(value.items()))
    if name == "Ref":
        if isinstance(args, str) and args in PSEUDO_PARAMETERS:
            return Rendered("${" + args + "}", True)
        return Rendered("${" + (args if isinstance(args, str) else "?") + "}", False)
    if name == "Fn::Sub":
        return _render_sub(args)
    if name == "Fn::Join":
        return _render_join(args)
    target = getatt_target(value)
    if target:
        return Rendered("${" + ".".join(target) + "}", False)
    return Rendered("${?}", False)


def _render_sub(args: Any) -> Rendered:
    try:
        text, variables = sub_arguments(args)
    except NotEvaluable:
        return Rendered("${?}", False)
    exact = True
    out: list[str] = []
    for part in sub_parts(text):
        if isinstance(part, str):
            # Literal `${...}` (written `${!...}`) stays escaped: the rendered text is read as
            # Fn::Sub text again, where an unescaped one would be taken for a placeholder.
            out.append(part.replace("${", "${!"))
            continue
        rendered = render(variables[part.name]) if part.name in variables else None
        if rendered is not None:
            exact = exact and rendered.exact
            out.append(rendered.text)
            continue
        if part.name not in PSEUDO_PARAMETERS:
            exact = False
        out.append("${" + part.name + "}")
    return Rendered("".join(out), exact)


def _render_join(args: Any) -> Rendered:
    if not (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str)):
        return Rendered("${?}", False)
    delimiter, parts = args
    if not isinstance(parts, list):
        return Rendered("${?}", False)
    rendered = [render(part) or Rendered("${?}", False) for part in parts]
    return Rendered(delimiter.join(r.text for r in rendered), all(r.exact for r in rendered))


def parse_json_text(value: Any) -> tuple[Any, bool] | None:
    """Parse a JSON document given as a string, `Fn::Sub` or `Fn::Join`.

    Returns (document, exact) or None when the value is not text or is not valid JSON.
    Placeholders are replaced before parsing: inside a JSON string by UNKNOWN_MARK, elsewhere by
    the string UNKNOWN_MARK (an unquoted `${Period}` may stand for a number, a string or more),
    so a parsed value containing UNKNOWN_MARK is one the template supplies at deploy time.
    """
    rendered = render(value)
    if rendered is None:
        return None
    text = rendered.text if isinstance(value, str) else _fill_placeholders(rendered.text)
    try:
        return json.loads(text), rendered.exact
    except ValueError:
        return None


def _fill_placeholders(text: str) -> str:
    out: list[str] = []
    in_string = escaped = False
    for part in sub_parts(text):
        if isinstance(part, Placeholder):
            out.append(UNKNOWN_MARK if in_string else f'"{UNKNOWN_MARK}"')
            continue
        for char in part:
            if escaped:
                escaped = False
            elif char == "\\" and in_string:
                escaped = True
            elif char == '"':
                in_string = not in_string
        out.append(part)
    return "".join(out)


def json_document(value: Any) -> Any:
    """A JSON-typed property (a policy, InputParameters) as parsed data, or None if unknown."""
    if isinstance(value, dict) and not is_intrinsic(value):
        return value
    parsed = parse_json_text(value)
    return parsed[0] if parsed else None


def is_unknown_text(value: Any) -> bool:
    return isinstance(value, str) and UNKNOWN_MARK in value


def walk(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """Every node of a template fragment, depth first, with its path."""
    yield value, path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, [*path, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, [*path, index])


# -- IAM policy statements ------------------------------------------------------------------------

# Tri-state results: True (the statement grants it), False (it does not), None (cannot tell).
Verdict = bool | None


def combine(*verdicts: Verdict) -> Verdict:
    """Logical AND over tri-state verdicts: any False wins, then any unknown."""
    if any(v is False for v in verdicts):
        return False
    if any(v is None for v in verdicts):
        return None
    return True


def statements(policy: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """The statements of a policy document; an unparsable policy yields one unknown statement."""
    document = json_document(policy)
    if not isinstance(document, dict):
        yield None, path
        return
    if "Statement" not in document:
        return
    statement_path = [*path, "Statement"] if isinstance(policy, dict) else path
    yield from items(document["Statement"], statement_path)


def policy_grants(
    policy: Any,
    principal: Callable[[Rendered], Verdict],
    actions: tuple[str, ...],
    condition: Callable[[Any], Verdict] | None = None,
) -> Verdict:
    """Whether some Allow statement grants all `actions` to a principal accepted by `principal`.

    False only when every statement is known and none qualifies.
    """
    result: Verdict = False
    for statement, _ in statements(policy, []):
        verdict = statement_grants(statement, principal, actions, condition)
        if verdict is True:
            return True
        if verdict is None:
            result = None
    return result


def statement_grants(
    statement: Any,
    principal: Callable[[Rendered], Verdict],
    actions: tuple[str, ...],
    condition: Callable[[Any], Verdict] | None = None,
) -> Verdict:
    if not isinstance(statement, dict) or is_intrinsic(statement) or "NotPrincipal" in statement:
        return None
    effect = render(statement.get("Effect"))
    if effect is None or not effect.exact:
        effect_verdict: Verdict = None
    else:
        effect_verdict = effect.text == "Allow"
    return combine(
        effect_verdict,
        _principal_verdict(statement.get("Principal"), principal),
        _actions_verdict(statement, actions),
        condition(statement.get("Condition")) if condition else True,
    )


def _principal_verdict(value: Any, accept: Callable[[Rendered], Verdict]) -> Verdict:
    if value == "*":
        return True
    if not isinstance(value, dict) or is_intrinsic(value):
        return None if value is not None else False
    verdicts: list[Verdict] = []
    for kind, principals in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            verdicts.append(None)
            continue
        for item, _ in items(principals, []):
            rendered = render(item)
            verdicts.append(None if rendered is None else accept(rendered))
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _actions_verdict(statement: dict[str, Any], required: tuple[str, ...]) -> Verdict:
    if "NotAction" in statement or "Action" not in statement:
        return None if "NotAction" in statement else False
    patterns: list[str] = []
    unknown = False
    for item, _ in items(statement["Action"], []):
        rendered = render(item)
        if rendered is None or not rendered.exact:
            unknown = True
        else:
            patterns.append(rendered.text.lower())
    covered = all(
        any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in patterns)
        for action in required
    )
    if covered:
        return True
    return None if unknown else False


def service_principal(service: str) -> Callable[[Rendered], Verdict]:
    """Accepts `service.amazonaws.com`, also with a region (literal or `${AWS::Region}`) and
    `${AWS::URLSuffix}`, as the documentation spells regional service principals.
    """
    pattern = re.compile(
        rf"{re.escape(service)}(\.[a-z0-9-]+|\.\$\{{AWS::Region\}})?"
        r"\.(amazonaws\.com(\.cn)?|\$\{AWS::URLSuffix\})"
    )

    def accept(rendered: Rendered) -> Verdict:
        if pattern.fullmatch(rendered.text):
            return True
        return False if rendered.exact else None

    return accept


_ACCOUNT_ROOT = re.compile(
    r"(arn:(aws[a-z-]*|\$\{AWS::Partition\}):iam::)?(\d{12}|\$\{AWS::AccountId\})(:root)?"
)


def account_root_principal(rendered: Rendered) -> Verdict:
    """Accepts the account itself in any spelling: an account id, `${AWS::AccountId}`, or the
    root ARN built from literals, `Fn::Sub` or `Fn::Join`.
    """
    if _ACCOUNT_ROOT.fullmatch(rendered.text):
        return True
    return False if rendered.exact else None


# -- KMS keys -------------------------------------------------------------------------------------

KMS_KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")


@dataclass(frozen=True)
class KeyTarget:
    """What a KMS key property points at.

    `logical_id` names the key resource in this template (None when it is outside it);
    `form` is "id", "arn" or "alias" for a key in the template; `aws_managed` is the alias of an
    AWS-managed key such as `alias/aws/sns`.
    """

    logical_id: str | None = None
    form: str | None = None
    aws_managed: str | None = None


def resolve_kms_key(cfn: Template, value: Any, follow_alias: bool = True) -> KeyTarget:
    """Follow a key property (`Ref`, `Fn::GetAtt`, `Fn::Sub`, alias name) to the key it names."""
    ref = ref_target(value) or sub_reference(value)
    getatt = getatt_target(value)
    if ref and "." in ref:
        name, attribute = ref.split(".", 1)
        getatt, ref = (name, attribute), None
    if getatt and resource_type(cfn, getatt[0]) in KMS_KEY_TYPES:
        return KeyTarget(getatt[0], "arn" if getatt[1] == "Arn" else "id")
    kind = resource_type(cfn, ref)
    if kind in KMS_KEY_TYPES:
        return KeyTarget(ref, "id")
    alias_properties: dict[str, Any] | None = None
    if kind == "AWS::KMS::Alias":
        alias_properties = properties(cfn.get_resources()[ref])
    elif (rendered := render(value)) is not None and rendered.exact:
        # Alias names and alias ARNs, also built with Fn::Sub from pseudo parameters.
        text = rendered.text
        alias = text.split(":")[-1] if text.startswith("arn:") else text
        if alias.startswith("alias/aws/"):
            return KeyTarget(aws_managed=alias)
        alias_properties = next(
            (
                properties(resource)
                for _, resource in resources_of_type(cfn, "AWS::KMS::Alias")
                if properties(resource).get("AliasName") == alias
            ),
            None,
        )
    if alias_properties is not None and follow_alias:
        # An alias targets a key, never another alias: follow one level only.
        key = resolve_kms_key(cfn, alias_properties.get("TargetKeyId"), follow_alias=False)
        if key.logical_id:
            return KeyTarget(key.logical_id, "alias")
    return KeyTarget()


def key_grants(
    cfn: Template,
    logical_id: str,
    principal: Callable[[Rendered], Verdict],
    actions: tuple[str, ...],
    condition: Callable[[Any], Verdict] | None = None,
) -> Iterator[tuple[Verdict, Path]]:
    """For each alternative of a key's policy: whether it grants `actions` to `principal`."""
    for policy, path in key_policies(cfn, logical_id):
        if policy is None:
            # The default key policy only names the account root, never a service.
            yield False, path
        else:
            yield policy_grants(policy, principal, actions, condition), path


def key_policies(cfn: Template, logical_id: str) -> Iterator[tuple[Any, Path]]:
    """Each alternative (`Fn::If`) of a key's KeyPolicy, with its path. A key without KeyPolicy
    gets the default key policy, which only the account root may use; it is yielded as None.
    """
    raw = cfn.get_resources()[logical_id].get("Properties")
    path: Path = ["Resources", logical_id, "Properties", "KeyPolicy"]
    if raw is not None and (not isinstance(raw, dict) or is_intrinsic(raw)):
        # Properties computed by an intrinsic: the policy is unknown, not the default one.
        yield raw, path
        return
    props = raw or {}
    if "KeyPolicy" not in props:
        yield None, path
        return
    yield from branches(props["KeyPolicy"], path)


def describe_path(path: Path) -> str:
    return "/".join(str(part) for part in path)


# -- AWS Config managed rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class ManagedRuleUse:
    """One use of an AWS-owned Config rule: a ConfigRule with `Source.Owner: AWS`, or an
    OrganizationConfigRule's managed-rule metadata. `settings` is the object holding the rule's
    InputParameters, MaximumExecutionFrequency and scope, found at `settings_path`.
    """

    identifier: str
    identifier_path: Path
    settings: dict[str, Any]
    settings_path: Path
    scope_keys: tuple[str, ...]


_ORGANIZATION_SCOPE_KEYS = ("ResourceTypesScope", "ResourceIdScope", "TagKeyScope", "TagValueScope")


def managed_rule_uses(cfn: Template) -> Iterator[ManagedRuleUse]:
    for name, resource in resources_of_type(cfn, "AWS::Config::ConfigRule"):
        props = properties(resource)
        base: Path = ["Resources", name, "Properties"]
        for source, source_path in branches(props.get("Source"), [*base, "Source"]):
            if not isinstance(source, dict) or source.get("Owner") != "AWS":
                continue
            identifier_path = [*source_path, "SourceIdentifier"]
            for identifier, path in branches(source.get("SourceIdentifier"), identifier_path):
                if isinstance(identifier, str):
                    yield ManagedRuleUse(identifier, path, props, base, ("Scope",))
    for name, resource in resources_of_type(cfn, "AWS::Config::OrganizationConfigRule"):
        base = ["Resources", name, "Properties", "OrganizationManagedRuleMetadata"]
        metadata = properties(resource).get("OrganizationManagedRuleMetadata")
        for settings, settings_path in branches(metadata, base):
            if not isinstance(settings, dict):
                continue
            identifier_path = [*settings_path, "RuleIdentifier"]
            for identifier, path in branches(settings.get("RuleIdentifier"), identifier_path):
                if isinstance(identifier, str):
                    yield ManagedRuleUse(
                        identifier, path, settings, settings_path, _ORGANIZATION_SCOPE_KEYS
                    )


CONFORMANCE_PACK_TYPES = (
    "AWS::Config::ConformancePack",
    "AWS::Config::OrganizationConformancePack",
)


def parse_text_document(text: str) -> Any:
    """A document written as JSON or YAML text (CloudFormation's short-form tags such as `!Ref`
    allowed, as in a conformance pack body or an SSM document's Content), or None if it is
    neither.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        # str(): cfn-lint hands template strings over as a str subclass the YAML reader refuses.
        return cfn_yaml.loads(str(text))
    except (yaml.YAMLError, ValueError, TypeError):
        return None


def pack_bodies(cfn: Template) -> Iterator[tuple[str, dict[str, Any], Path]]:
    """(logical id, template, path of TemplateBody) of each conformance pack whose TemplateBody
    is literal JSON or YAML text. A body given by TemplateS3Uri or computed by an intrinsic
    cannot be read here.
    """
    for name, resource in resources_of_type(cfn, *CONFORMANCE_PACK_TYPES):
        body = properties(resource).get("TemplateBody")
        if not isinstance(body, str):
            continue
        template = parse_text_document(body)
        if isinstance(template, dict):
            yield name, template, ["Resources", name, "Properties", "TemplateBody"]


def present(settings: dict[str, Any], key: str, path: Path) -> Iterator[Path]:
    """Paths of the alternatives in which `key` is set (not removed by `AWS::NoValue`)."""
    if key in settings:
        for _, branch_path in branches(settings[key], [*path, key]):
            yield branch_path


# -- SNS topics -----------------------------------------------------------------------------------


def topic_reference(value: Any) -> str | None:
    """The logical id a value names as a topic ARN: `Ref` (a topic's Ref is its ARN),
    `Fn::GetAtt [Topic, TopicArn]`, or `Fn::Sub "${Topic}"`.
    """
    getatt = getatt_target(value)
    if getatt:
        return getatt[0] if getatt[1] == "TopicArn" else None
    name = ref_target(value) or sub_reference(value)
    if name and "." in name:
        name, attribute = name.split(".", 1)
        return name if attribute == "TopicArn" else None
    return name


def values_at(value: Any, keys: tuple[str, ...], path: Path) -> Iterator[tuple[Any, Path]]:
    """Values under a key path in a property; "*" steps into each list element."""
    if not keys:
        yield value, path
        return
    key, rest = keys[0], keys[1:]
    if key == "*":
        for element, element_path in items(value, path):
            yield from values_at(element, rest, element_path)
        return
    for branch, branch_path in branches(value, path):
        if isinstance(branch, dict) and key in branch:
            yield from values_at(branch[key], rest, [*branch_path, key])


_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# (resource type, where it names the topic, the service principal that publishes).
TOPIC_PUBLISHERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("AWS::Events::Rule", ("Targets", "*", "Arn"), "events.amazonaws.com"),
    *(
        (alarm_type, (actions, "*"), "cloudwatch.amazonaws.com")
        for alarm_type in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for actions in _ALARM_ACTIONS
    ),
    (
        "AWS::S3::Bucket",
        ("NotificationConfiguration", "TopicConfigurations", "*", "Topic"),
        "s3.amazonaws.com",
    ),
)


def topic_publishers(cfn: Template, topic: str) -> dict[str, list[str]]:
    """Service principal -> logical ids of the resources that make that service publish to
    `topic`, for the AWS services that publish with their own service principal.
    """
    found: dict[str, list[str]] = {}
    for kind, keys, service in TOPIC_PUBLISHERS:
        for name, resource in resources_of_type(cfn, kind):
            for value, _ in values_at(properties(resource), keys, []):
                if topic_reference(value) == topic and name not in found.get(service, []):
                    found.setdefault(service, []).append(name)
    return found


# -- Lambda handlers ------------------------------------------------------------------------------

JS_SUFFIXES = (".js", ".mjs", ".cjs")
TS_SUFFIXES = (".ts", ".mts", ".cts")


# Defined here, not in the rule file: a dataclass needs its module in sys.modules, which
# cfn-lint's directory loader does not do for rule files.
@dataclass(frozen=True)
class Expected:
    """What a handler needs in the code: one of `files`; for Node.js a folder named `module`
    also resolves (index.js or package.json "main"). `uncompiled` are TypeScript sources whose
    presence without `files` means the code was packaged before it was compiled.
    """

    module: str
    files: tuple[str, ...]
    folder_resolves: bool = False
    uncompiled: tuple[str, ...] = ()


def expected_module(runtime: str, handler: str) -> Expected | None:
    """None for runtimes whose handler naming this rule does not know (Java, .NET, Go...)."""
    if runtime.startswith("python"):
        # The Python runtime imports everything before the last dot, "/" or "." separated.
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        return Expected(module, (f"{module}.py", f"{module}/__init__.py"))
    if runtime.startswith("nodejs"):
        # The Node.js runtime loads everything before the first dot; the rest is the export.
        module = handler.split(".", 1)[0]
        return Expected(
            module,
            tuple(module + suffix for suffix in JS_SUFFIXES),
            folder_resolves=True,
            uncompiled=tuple(module + suffix for suffix in TS_SUFFIXES),
        )
    return None
