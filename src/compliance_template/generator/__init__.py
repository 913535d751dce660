"""The generator: `build_template(settings)` and every part of the stack it builds, the other
template kinds, the catalog, and what `make template` writes. Needs no extra."""
