"""A local DANDI-compatible archive for tests, benchmarks and the offline demo.

- `dandindex.testing.snapshot`: reads an archive snapshot folder.
- `dandindex.testing.archive`: serves it over HTTP like api.dandiarchive.org.
- `dandindex.testing.generate`: writes synthetic snapshot folders (and NWB files).
"""
