#!/usr/bin/env python3
"""Check a stall draw (摇号) yourself: standard library only, Python 3.10 or later.

    python verify_draw.py draw.json        (the file saved from /p/<market>/draws/<id>.json)
    python verify_draw.py https://…/p/jinhui/draws/1.json

It recomputes, from the published data alone: the secret against the commitment published
before the list was frozen, the list's SHA-256, the seed, the shuffle, the priority quota, the
draw order and the stalls, and prints 一致 (consistent) or the first difference. Exit status 0
when consistent, 1 when not, 2 when the file cannot be read. The method is in docs/draws.md;
this file repeats it on purpose, independent of the app's code."""

import hashlib
import hmac
import json
import sys
import urllib.request


def canonical(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def u32_stream(key):
    counter = 0
    while True:
        block = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        for i in range(0, 32, 4):
            yield int.from_bytes(block[i : i + 4], "big")


def below(stream, n):
    limit = 2**32 - (2**32 % n)
    for u in stream:
        if u < limit:
            return u % n
    raise AssertionError("unreachable")


def recompute(secret, list_text):
    """The result text the published list and secret must give."""
    data = json.loads(list_text)
    digest = hashlib.sha256(list_text.encode("utf-8")).hexdigest()
    seed = hashlib.sha256(secret + bytes.fromhex(digest)).digest()
    groups = {a["number"]: a["group"] for a in data["applicants"]}
    prefs = {a["number"]: a["preferences"] for a in data["applicants"]} if data["ranked"] else {}
    items = sorted(groups)
    stream = u32_stream(seed)
    for i in range(len(items) - 1, 0, -1):
        j = below(stream, i + 1)
        items[i], items[j] = items[j], items[i]
    first = [n for n in items if groups[n] == "priority"][: data["quota"]]
    order = first + [n for n in items if n not in first]
    free, assignments = list(data["stalls"]), []
    for number in order:
        if not free:
            break
        pick = next((c for c in prefs.get(number, []) if c in free), free[0])
        free.remove(pick)
        assignments.append({"number": number, "stall": pick})
    return canonical(
        {
            "assignments": assignments,
            "list_hash": digest,
            "order": order,
            "seed": seed.hex(),
            "shuffled": items,
            "waiting": order[len(assignments) :],
        }
    )


def first_difference(expected, published):
    """Name the first field, and place in it, where the published result differs."""
    for key in ("list_hash", "seed", "shuffled", "order", "assignments", "waiting"):
        want, got = expected.get(key), published.get(key)
        if want == got:
            continue
        if isinstance(want, list) and isinstance(got, list):
            for i, (w, g) in enumerate(zip(want, got, strict=False)):
                if w != g:
                    return (
                        f"{key}[{i}]: 应为 expected {canonical(w)}, 公布 published {canonical(g)}"
                    )
            return (
                f"{key}: 应有 {len(want)} 项 expected {len(want)} items, 公布 published {len(got)}"
            )
        return f"{key}: 应为 expected {canonical(want)}, 公布 published {canonical(got)}"
    return "结果文本不是规范格式 the result text is not in canonical form"


def check(doc):
    """None when everything agrees, else the first difference, in words."""
    if doc.get("format") != "tidal-market-draw/1":
        return f"未知格式 unknown format: {doc.get('format')!r}"
    if not doc.get("secret") or not doc.get("result"):
        return "尚未开奖 not drawn yet: no secret or result published"
    try:
        secret = bytes.fromhex(doc["secret"])
    except ValueError:
        return "密钥不是十六进制 the secret is not hexadecimal"
    if hashlib.sha256(secret).hexdigest() != doc["commitment"]:
        return f"密钥与承诺值不符 the secret does not match the commitment {doc['commitment']}"
    list_text = doc["list"]
    digest = hashlib.sha256(list_text.encode("utf-8")).hexdigest()
    if digest != doc["list_hash"]:
        return f"名单哈希不符 the list's SHA-256 is {digest}, published {doc['list_hash']}"
    data = json.loads(list_text)
    if canonical(data) != list_text:
        return "名单不是规范格式 the list is not in canonical form"
    if data.get("round") != doc.get("round") or data.get("market") != doc.get("market"):
        return "名单属于另一轮 the list belongs to another round"
    expected = recompute(secret, list_text)
    if expected != doc["result"]:
        return first_difference(json.loads(expected), json.loads(doc["result"]))
    return None


def load(source):
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
            return json.loads(response.read().decode("utf-8"))
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    try:
        doc = load(argv[1])
    except (OSError, ValueError) as e:
        print(f"无法读取 cannot read {argv[1]}: {e}")
        return 2
    try:
        problem = check(doc)
    except (KeyError, TypeError, ValueError) as e:
        problem = f"数据不完整 the data is incomplete: {e!r}"
    if problem:
        print("不一致 NOT consistent: " + problem)
        return 1
    result = json.loads(doc["result"])
    print("一致")
    print(
        f"seed {result['seed']}; {len(result['assignments'])} stalls assigned, "
        f"{len(result['waiting'])} waiting"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
