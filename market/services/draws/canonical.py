"""The draw's arithmetic, free of the database and of Flask: canonical texts, hashes, the seed,
the random stream, the shuffle, the priority quota and the assignment of stalls.

docs/draws.md specifies each step; scripts/verify_draw.py reimplements them with the standard
library alone, and the tests hold the two to the same bytes."""

import hashlib
import hmac
import json

FORMAT = "tidal-market-draw/1"
PRIORITY, GENERAL = "priority", "general"


def canonical(obj) -> str:
    """JSON with sorted keys, no spaces, UTF-8 characters as themselves."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment(secret: bytes) -> str:
    return sha256_hex(secret)


def list_hash(list_text: str) -> str:
    return sha256_hex(list_text.encode("utf-8"))


def seed(secret: bytes, list_hash_hex: str) -> bytes:
    """SHA-256 of the 32 secret bytes followed by the 32 bytes of the list hash."""
    return hashlib.sha256(secret + bytes.fromhex(list_hash_hex)).digest()


class Stream:
    """32-bit numbers: HMAC-SHA256(seed, counter as 8 bytes big-endian), counter 0, 1, …;
    each block read as eight big-endian uint32 in order."""

    def __init__(self, key: bytes):
        self.key, self.counter, self.buffer = key, 0, b""

    def u32(self) -> int:
        if not self.buffer:
            self.buffer = hmac.new(
                self.key, self.counter.to_bytes(8, "big"), hashlib.sha256
            ).digest()
            self.counter += 1
        value, self.buffer = int.from_bytes(self.buffer[:4], "big"), self.buffer[4:]
        return value

    def below(self, n: int) -> int:
        """Uniform in [0, n): numbers at or above the largest multiple of n are drawn again."""
        if not 1 <= n <= 2**32:
            raise ValueError("n out of range")
        limit = 2**32 - (2**32 % n)
        while True:
            u = self.u32()
            if u < limit:
                return u % n


def shuffle(numbers: list[int], key: bytes) -> list[int]:
    """Fisher–Yates over the numbers in ascending order: for i from the last index down to 1,
    swap item i with item j = below(i + 1)."""
    items = sorted(numbers)
    stream = Stream(key)
    for i in range(len(items) - 1, 0, -1):
        j = stream.below(i + 1)
        items[i], items[j] = items[j], items[i]
    return items


def draw_order(shuffled: list[int], groups: dict[int, str], quota: int) -> list[int]:
    """The priority group's first `quota` (in shuffled order) go first, then everyone left,
    in shuffled order."""
    first = [n for n in shuffled if groups[n] == PRIORITY][:quota]
    taken = set(first)
    return first + [n for n in shuffled if n not in taken]


def assign(order: list[int], stalls: list[str], preferences: dict[int, list[str]]):
    """Down the order, each applicant takes the first of their preferences still free, else
    the first free stall in the round's order, until the stalls run out.
    -> ([(number, stall), …], waiting numbers in order)."""
    free = list(stalls)
    assignments = []
    for number in order:
        if not free:
            break
        pick = next((code for code in preferences.get(number, []) if code in free), free[0])
        free.remove(pick)
        assignments.append((number, pick))
    return assignments, order[len(assignments) :]


def compute(secret: bytes, list_text: str) -> str:
    """The canonical result text of a frozen list drawn with this secret."""
    data = json.loads(list_text)
    digest = list_hash(list_text)
    key = seed(secret, digest)
    applicants = data["applicants"]
    groups = {a["number"]: a["group"] for a in applicants}
    prefs = {a["number"]: a["preferences"] for a in applicants} if data["ranked"] else {}
    shuffled = shuffle(list(groups), key)
    order = draw_order(shuffled, groups, data["quota"])
    assignments, waiting = assign(order, data["stalls"], prefs)
    return canonical(
        {
            "assignments": [{"number": n, "stall": s} for n, s in assignments],
            "list_hash": digest,
            "order": order,
            "seed": key.hex(),
            "shuffled": shuffled,
            "waiting": waiting,
        }
    )
