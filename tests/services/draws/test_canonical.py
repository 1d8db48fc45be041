"""The draw's arithmetic: uniform shuffle (chi-square), the quota, preferences, and the
standalone verifier agreeing byte for byte with the app's code."""

import hashlib
import importlib.util
import itertools
import json
from pathlib import Path

import pytest

from market.services.draws import canonical as c

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "verify_draw.py"


def verifier():
    spec = importlib.util.spec_from_file_location("verify_draw", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def key(i: int) -> bytes:
    return hashlib.sha256(f"seed {i}".encode()).digest()


def test_the_shuffle_is_uniform_over_many_seeds():
    # Every one of the 24 orders of 4 applicants equally likely: chi-square with 23 degrees
    # of freedom stays under 49.73 (p = 0.001) for a fair shuffle; a modulo-biased or
    # off-by-one Fisher-Yates (j = below(i)) fails it by far.
    runs = 24_000
    counts = dict.fromkeys(itertools.permutations([1, 2, 3, 4]), 0)
    for i in range(runs):
        counts[tuple(c.shuffle([1, 2, 3, 4], key(i)))] += 1
    expected = runs / 24
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 49.73, chi2


def test_each_position_is_uniform_for_a_larger_list():
    runs, size = 6_000, 7
    first = [0] * size
    for i in range(runs):
        first[c.shuffle(list(range(1, size + 1)), key(i))[0] - 1] += 1
    expected = runs / size
    chi2 = sum((n - expected) ** 2 / expected for n in first)
    assert chi2 < 22.46, chi2  # 6 degrees of freedom, p = 0.001


def test_below_rejects_the_biased_top_of_the_range():
    class Fixed(c.Stream):
        def __init__(self, values):
            super().__init__(b"k")
            self.values = list(values)

        def u32(self):
            return self.values.pop(0)

    # n = 3: 2**32 % 3 == 1, so 2**32 - 1 is the one value drawn again.
    assert Fixed([2**32 - 1, 5]).below(3) == 2
    assert Fixed([2**32 - 2]).below(3) == (2**32 - 2) % 3
    with pytest.raises(ValueError):
        Fixed([]).below(0)


def test_the_stream_is_hmac_of_the_counter():
    stream = c.Stream(b"seed")
    block = c.hmac.new(b"seed", (0).to_bytes(8, "big"), hashlib.sha256).digest()
    assert [stream.u32() for _ in range(8)] == [
        int.from_bytes(block[i : i + 4], "big") for i in range(0, 32, 4)
    ]
    second = c.hmac.new(b"seed", (1).to_bytes(8, "big"), hashlib.sha256).digest()
    assert stream.u32() == int.from_bytes(second[:4], "big")


def test_priority_goes_first_only_up_to_the_quota():
    shuffled = [5, 2, 7, 1, 3]
    groups = {1: "priority", 2: "general", 3: "priority", 5: "general", 7: "priority"}
    assert c.draw_order(shuffled, groups, 2) == [7, 1, 5, 2, 3]
    assert c.draw_order(shuffled, groups, 0) == shuffled
    assert c.draw_order(shuffled, groups, 10) == [7, 1, 3, 5, 2]


def test_stalls_go_by_preference_then_in_the_rounds_order():
    order = [3, 1, 2, 4]
    prefs = {3: ["A-02"], 1: ["A-02", "A-03"], 2: ["A-09"]}
    assigned, waiting = c.assign(order, ["A-01", "A-02", "A-03"], prefs)
    assert assigned == [(3, "A-02"), (1, "A-03"), (2, "A-01")]
    assert waiting == [4]


def list_text(n=6, quota=1, ranked=True):
    return c.canonical(
        {
            "applicants": [
                {
                    "group": "priority" if i % 3 == 0 else "general",
                    "name": "王**",
                    "number": i,
                    "preferences": ["A-02"] if ranked and i % 2 else [],
                }
                for i in range(1, n + 1)
            ],
            "format": c.FORMAT,
            "market": "jinhui",
            "quota": quota,
            "ranked": ranked,
            "round": 1,
            "stalls": ["A-01", "A-02", "A-03"],
        }
    )


@pytest.mark.parametrize("n", [0, 1, 2, 6, 40])
def test_the_verifier_recomputes_the_same_bytes(n):
    secret = key(n)
    text = list_text(n)
    assert verifier().recompute(secret, text) == c.compute(secret, text)


def doc(secret=None, text=None):
    secret = secret or key(99)
    text = text or list_text()
    return {
        "format": c.FORMAT,
        "market": "jinhui",
        "round": 1,
        "commitment": c.commitment(secret),
        "list": text,
        "list_hash": c.list_hash(text),
        "secret": secret.hex(),
        "result": c.compute(secret, text),
    }


def test_the_verifier_accepts_the_true_draw_and_names_each_tampering():
    v = verifier()
    assert v.check(doc()) is None

    other_secret = doc()
    other_secret["secret"] = key(7).hex()
    assert "commitment" in v.check(other_secret)

    edited = doc()
    edited["list"] = edited["list"].replace('"number":2', '"number":22')
    assert "SHA-256" in v.check(edited)

    rehashed = dict(edited, list_hash=c.list_hash(edited["list"]))  # a consistent forgery
    assert v.check(rehashed) is not None  # the seed moves: the published result no longer fits

    swapped = doc()
    result = json.loads(swapped["result"])
    result["order"][0], result["order"][1] = result["order"][1], result["order"][0]
    swapped["result"] = c.canonical(result)
    assert v.check(swapped).startswith("order[0]")


def test_the_verifier_script_prints_consistent(tmp_path, capsys):
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(doc(), ensure_ascii=False), encoding="utf-8")
    assert verifier().main(["verify_draw.py", str(path)]) == 0
    assert capsys.readouterr().out.startswith("一致")
    bad = doc()
    bad["secret"] = key(1).hex()
    path.write_text(json.dumps(bad), encoding="utf-8")
    assert verifier().main(["verify_draw.py", str(path)]) == 1
    assert "不一致" in capsys.readouterr().out
