"""How the user called a deploy tool: through make (variables) or directly (flags).

The Makefile sets COMPLIANCE_TEMPLATE_MAKE=1 for the tools it runs, so a message names what the
user typed (`REGION=`) rather than the flag make passed on (`--region`). Also the checks every
deploy tool makes on region names and profiles.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..extras import extra_of, missing_extra

try:
    import boto3
    from botocore.exceptions import ProfileNotFound
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None
from cfnlint.helpers import REGIONS

from ..errors import SettingsError

MAKE_ENV = "COMPLIANCE_TEMPLATE_MAKE"
# flag -> the make variable the Makefile passes to it
MAKE_VARIABLES = {
    "--template": "TEMPLATE",
    "--parameters": "PARAMETERS",
    "--stack-name": "STACK",
    "--region": "REGION",
    "--regions": "REGIONS",
    "--profile": "PROFILE",
    "--artifact-bucket": "ARTIFACT_BUCKET",
    "--artifact-bucket-prefix": "ARTIFACT_PREFIX",
    "--ous": "OUS",
    "--call-as": "CALL_AS",
    "--port": "PORT",
}
# The regions of the pinned cfn-lint (the regions its schemas, and so our lint, cover).
KNOWN_REGIONS = tuple(REGIONS)


def under_make() -> bool:
    return os.environ.get(MAKE_ENV) == "1"


def option(flag: str) -> str:
    """`REGION=` when make runs the tool, else `--region`."""
    if under_make() and flag in MAKE_VARIABLES:
        return f"{MAKE_VARIABLES[flag]}="
    return flag


# The variable boto3 and the AWS CLI 1.x (botocore's "region" setting) read; they ignore
# AWS_REGION, which only the AWS CLI v2 and the Lambda runtime use.
REGION_ENV = "AWS_DEFAULT_REGION"


def set_region_hint() -> str:
    return f"set {option('--region')} or {REGION_ENV}"


def set_credentials_hint() -> str:
    profile = "PROFILE=" if under_make() else "--profile or AWS_PROFILE"
    return f"set {profile}, or run `aws configure`"


def session(profile: str | None, region: str | None) -> boto3.Session:
    """A boto3 session; an empty value (e.g. `PROFILE=`) means "not given"."""
    try:
        return boto3.Session(profile_name=profile or None, region_name=region or None)
    except ProfileNotFound:
        raise SettingsError(
            option("--profile"), profile, "a profile of the AWS CLI (aws configure list-profiles)"
        ) from None


def check_regions(regions: Iterable[str], flag: str) -> tuple[str, ...]:
    """The regions, if every one is a known region code; else one error naming the unknown."""
    given = tuple(regions)
    unknown = [region for region in given if region not in KNOWN_REGIONS]
    if unknown:
        raise SettingsError(
            option(flag),
            ",".join(unknown),
            "known region codes (unknown: "
            + ", ".join(unknown)
            + "), such as eu-west-1 or us-east-1; all: "
            + ", ".join(KNOWN_REGIONS),
        )
    return given
