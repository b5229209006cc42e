"""Helpers shared by the tests: one module per area, imported as `tests.helpers.<area>`.

Test modules import from here, never from a conftest.py and never through
`sys.path` inserts.
"""
