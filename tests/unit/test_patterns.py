import pytest

from broker.patterns import candidate_patterns, matches, pattern_problem, type_problem


@pytest.mark.parametrize("event_type", ["invoice.paid", "a", "a-b.c_d.E9", "x" * 255])
def test_valid_types(event_type: str) -> None:
    assert type_problem(event_type) is None


@pytest.mark.parametrize("event_type", ["", "a..b", ".a", "a.", "has space", "a.*", "*", "x" * 256])
def test_invalid_types(event_type: str) -> None:
    assert type_problem(event_type)


@pytest.mark.parametrize("pattern", ["*", "invoice.*", "invoice.paid", "a.b.*"])
def test_valid_patterns(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize("pattern", ["", "**", "a.*.b", "*.a", "a*", "a.**", ".*"])
def test_invalid_patterns(pattern: str) -> None:
    assert pattern_problem(pattern)


def test_candidates_are_exact_ancestors_and_star() -> None:
    assert candidate_patterns("a.b.c") == ("a.b.c", "a.b.*", "a.*", "*")
    assert candidate_patterns("a") == ("a", "*")


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "anything.at.all", True),
        ("invoice.*", "invoice.paid", True),
        ("invoice.*", "invoice.paid.late", True),
        ("invoice.*", "invoice", False),
        ("invoice.*", "invoices.paid", False),
        ("invoice.paid", "invoice.paid", True),
        ("invoice.paid", "invoice.paid.late", False),
    ],
)
def test_matches(pattern: str, event_type: str, expected: bool) -> None:
    assert matches(pattern, event_type) is expected


@pytest.mark.parametrize("event_type", ["a.b.c", "invoice.paid", "x", "a.b.c.d.e"])
def test_candidates_agree_with_matches(event_type: str) -> None:
    """Index lookup by candidate patterns selects exactly what `matches` selects."""
    universe = ["*", "a.*", "a.b.*", "a.b.c", "invoice.*", "invoice.paid", "x", "x.*", "a.b.c.*"]
    by_index = {p for p in universe if p in candidate_patterns(event_type)}
    by_match = {p for p in universe if matches(p, event_type)}
    assert by_index == by_match
