"""Hookwire: the `hookwire` command and the generated `hookwire.v1` contract."""
