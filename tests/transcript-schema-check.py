#!/usr/bin/python3
# Validate transcript records (JSON Lines) against docs/transcript-schema.json.
# Usage: tests/transcript-schema-check.py SCHEMA FILE.jsonl|DIR...
# Prints one line per problem, naming the file, line, action and the field that is
# unknown or wrong, so whoever adds an action or a field knows what to add to the
# schema; exit 1 if any. Lines that are not JSON objects are skipped: they are
# transcript verify's to refuse (some tests cut or corrupt lines on purpose).
# Uses Debian's python3-jsonschema (make deps).
import json
import os
import sys

import jsonschema


def files_of(args):
    for a in args:
        if os.path.isdir(a):
            for root, _dirs, names in os.walk(a):
                for n in sorted(names):
                    if n.endswith(".jsonl"):
                        yield os.path.join(root, n)
        else:
            yield a


def where(err):
    return "/".join(str(p) for p in err.absolute_path) or "(record)"


def main():
    if len(sys.argv) < 3:
        print(__doc__ or "usage: transcript-schema-check.py SCHEMA FILE...", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    known = set(schema["$defs"]["action"]["enum"])
    bad = records = 0
    for path in files_of(sys.argv[2:]):
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(rec, dict):
                    continue
                records += 1
                action = rec.get("action")
                if action not in known:
                    print(f"{path}:{n}: unknown action {action!r}: add it to docs/transcript-schema.json")
                    bad += 1
                    continue
                for err in sorted(validator.iter_errors(rec), key=lambda e: list(e.absolute_path)):
                    # The deepest error names the field best (if/then wraps them).
                    leaf = err
                    while leaf.context:
                        leaf = sorted(leaf.context, key=lambda e: -len(e.absolute_path))[0]
                    print(f"{path}:{n}: action {action}: {where(leaf)}: {leaf.message}")
                    bad += 1
    print(f"schema: {records} records checked, {bad} problems", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
