from broker.clock import ManualClock, SeededRandom
from broker.ids import IdFactory


def test_ids_sort_by_creation_even_within_a_millisecond() -> None:
    clock = ManualClock()
    ids = IdFactory(clock, SeededRandom())
    made = [ids.new("evt") for _ in range(100)]
    clock.advance(0.001)
    made += [ids.new("evt") for _ in range(100)]
    assert made == sorted(made)
    assert len(set(made)) == 200
    assert all(i.startswith("evt_") and len(i) == 30 for i in made)
