"""The state shared by the build steps: the template, the settings, and what earlier steps made.

Each build step (encryption, storage, functions, ...) adds its resources through `Stack.add`, which
applies the common tags to every taggable resource, so no step can forget them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from troposphere import AWSHelperFn, AWSObject, Export, Output, Sub, Tags, Template

from .naming import FUNCTION_NAMES
from .settings import Settings
from .suppressions import scanner_metadata


@dataclass
class Stack:
    template: Template
    settings: Settings
    # Logical ids of resources later steps refer to, by role ("key", "bucket", "processing", ...).
    ids: dict[str, str] = field(default_factory=dict)
    # Which of the three functions this template runs.
    functions: tuple[str, ...] = FUNCTION_NAMES
    # Where the functions write records and publish. The storage and notification steps set them
    # in a single stack; an organization member gets the central account's from parameters.
    bucket_name: object = None
    bucket_arn: object = None
    topic_arn: object = None
    # A key in another account that the bucket and topic use (organization members only).
    remote_key_arn: object = None
    # The organization whose member accounts may use the bucket, topic and key (central only).
    organization_id: object = None
    # The Lambda Code of a function; default: its local folder, for `aws cloudformation package`.
    code: Callable[[str], object] | None = None

    def code_of(self, function: str) -> object:
        if self.code is not None:
            return self.code(function)
        return f"{self.settings.code_root}/{function}"

    def add(self, resource: AWSObject, role: str | None = None) -> AWSObject:
        if "Tags" in resource.props and self.settings.tags:
            # Most types take a list of Key/Value pairs; a few (SSM parameters) a plain map.
            plain = resource.props["Tags"][0] is dict
            resource.Tags = dict(self.settings.tags) if plain else Tags(**self.settings.tags)
        skips = scanner_metadata(resource.resource_type, resource.to_dict().get("Properties", {}))
        if skips:
            resource.Metadata = {**getattr(resource, "Metadata", {}), **skips}
        self.template.add_resource(resource)
        if role is not None:
            self.ids[role] = resource.title
        return resource

    def id(self, role: str) -> str:
        return self.ids[role]

    def output(self, name: str, description: str, value: str | AWSHelperFn) -> None:
        """An output exported as <stack name>-<name>, for other stacks to import."""
        self.template.add_output(
            Output(
                name,
                Description=description,
                Value=value,
                Export=Export(Sub(f"${{AWS::StackName}}-{name}")),
            )
        )
