from broker.clock import ManualClock, SeededRandom
from broker.ids import IdFactory, encode_ulid


def test_ids_sort_by_creation_even_within_a_millisecond() -> None:
    clock = ManualClock()
    ids = IdFactory(clock, SeededRandom())
    made = [ids.new("evt") for _ in range(100)]
    clock.advance(0.001)
    made += [ids.new("evt") for _ in range(100)]
    assert made == sorted(made)
    assert len(set(made)) == 200
    assert all(i.startswith("evt_") and len(i) == 30 for i in made)


def test_ids_encode_like_the_ulid_spec() -> None:
    # The ULID spec's example time 1469918176385 ms encodes as 01ARYZ6S41.
    assert encode_ulid(1469918176385, 0) == "01ARYZ6S41" + "0" * 16
    assert encode_ulid(2**48 - 1, 2**80 - 1) == "7" + "Z" * 25
    assert encode_ulid(0, 1) == "0" * 25 + "1"


def test_ids_in_one_millisecond_are_consecutive_values_across_a_ten_bit_wrap() -> None:
    # The factory re-encodes only the last two characters until the low ten bits wrap;
    # 2,100 ids in one millisecond cross that boundary at least twice.
    clock = ManualClock(1_700_000_000.0)
    ids = IdFactory(clock, SeededRandom(3))
    first = int.from_bytes(SeededRandom(3).token_bytes(10), "big")
    ms = int(clock.now() * 1000)
    made = [ids.new("dlv") for _ in range(2100)]
    assert made == [f"dlv_{encode_ulid(ms, first + k)}" for k in range(2100)]
