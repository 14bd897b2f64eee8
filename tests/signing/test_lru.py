from signing.lru import Lru


def test_lru_keeps_the_most_recently_used() -> None:
    lru: Lru[str, int] = Lru(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # now b is the least recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)
    lru.put("a", 4)  # replacing a value also makes it recent
    lru.put("d", 5)
    assert (lru.get("a"), lru.get("c"), lru.get("d")) == (4, None, 5)
