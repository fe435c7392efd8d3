#!/usr/bin/env python3
"""Recall of one tool's report on the planted credentials.

    score.py clawvault|gitleaks|kingfisher REPORT WORK_DIR

A planted credential counts as found when the tool reports a finding in its file
at its line. Prints: found planted other  (other = findings at no planted place).
"""
import json
import os
import sys

tool, report, work = sys.argv[1], sys.argv[2], sys.argv[3]
planted = json.load(open(os.path.join(work, "planted.json")))
want = {(p["path"], p["line"]) for p in planted}


def rel(p):
    return os.path.relpath(os.path.abspath(p), work)


got = set()
try:
    text = open(report).read()
except OSError:
    text = ""
if tool == "clawvault":
    doc = json.loads(text) if text.strip() else {"findings": []}
    for f in doc["findings"]:
        if f["checkId"].split(".")[0] in ("plaintext", "vault", "oauth") and f.get("line"):
            got.add((rel(f["path"]), f["line"]))
elif tool == "gitleaks":
    for f in (json.loads(text) if text.strip() else []):
        got.add((rel(f["File"]), f["StartLine"]))
elif tool == "kingfisher":
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        docs = obj if isinstance(obj, list) else [obj]
        for d in docs:
            fs = d.get("findings") if isinstance(d, dict) else None
            if isinstance(fs, list):
                for f in fs:
                    g = f.get("finding", f)
                    got.add((rel(g["path"]), g["line"]))
found = len(want & got)
print(found, len(want), len(got - want))
# Then, per kind: kind found total
by_kind = {}
for p in planted:
    k = by_kind.setdefault(p["kind"], [0, 0])
    k[1] += 1
    k[0] += (p["path"], p["line"]) in got
for k, (f, t) in sorted(by_kind.items()):
    print(k, f, t)
