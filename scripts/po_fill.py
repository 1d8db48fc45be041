"""Fill zh_CN msgstrs from a JSON file {msgid: msgstr}; print the msgids still untranslated.

Usage: .venv/bin/python scripts/po_fill.py \
    market/translations/zh_Hans_CN/LC_MESSAGES/messages.po new.json
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, dict_path: str) -> None:
    with open(po_path, "rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    with open(dict_path, encoding="utf-8") as fh:
        translations = json.load(fh)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(message.id)
    with open(po_path, "wb") as fh:
        write_po(fh, catalog, width=100, no_location=True, sort_output=True)
    print("untranslated:", json.dumps(missing, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:3])
