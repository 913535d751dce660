"""Maintainer tools: re-reading AWS's sample conformance packs into the project's data.

Nothing here runs at build or deploy time; the generator reads only the data these tools write
(compliance_template/generator/data/), so CI never needs the network or a checkout of AWS's
repository.
"""
