"""The package version, written into every generated template's Description."""

VERSION = "0.1.0"
