"""Shared by every test: assertions in `tests.support` are rewritten like a test's own."""

import pytest

pytest.register_assert_rewrite("tests.support")
