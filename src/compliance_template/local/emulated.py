"""The interface moto's CloudFormation engine uses on a resource, for the types the emulator adds.

Its own module so the handlers kept outside `emulator` (`chatbot`) and those in it share it
without importing each other.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EmulatedResource:
    """The interface moto's CloudFormation engine uses on a resource (see moto's parsing.py)."""

    TYPE = ""
    # CloudFormation attribute (Fn::GetAtt) -> instance attribute
    ATTRIBUTES: ClassVar[dict[str, str]] = {}

    def __init__(self, physical_id: str, properties: dict, account_id: str, region: str) -> None:
        # The name property when the template sets one, else the name moto generated.
        self.physical_resource_id = self.name_of(properties, physical_id)
        self.properties = properties
        self.account_id = account_id
        self.region = region

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedResource:
        resource = cls(resource_name, cloudformation_json["Properties"], account_id, region_name)
        resource.apply()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedResource,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        # In place, keeping the physical id, unless a create-only name changes (then replace).
        properties = cloudformation_json["Properties"]
        if cls.name_of(properties, original_resource.physical_resource_id) != (
            original_resource.physical_resource_id
        ):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        original_resource.properties = properties
        original_resource.apply()
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
    ) -> None:
        cls(resource_name, cloudformation_json["Properties"], account_id, region_name).delete(
            account_id, region_name
        )

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return generated

    def apply(self) -> None:
        raise NotImplementedError

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError
