#!/usr/bin/env python3
"""Score one `doctor --json` report against a held-out host from gen.py.

    score.py WORK_DIR [REPORT] [--opened TRACE] [--max-other N]   (REPORT: WORK_DIR/doctor.json)

A finding counts as bench/score.py counts it for clawvault: checkId prefix `plaintext`,
`vault` or `oauth`, with a line. A planted credential is found when a counted finding sits
in its file at its line; a decoy is flagged when one does; any other counted finding is
"other". Prints recall overall, per kind, per context and per shape, then every miss,
every flagged decoy and every other finding as `path:line kind context ...` with a
redacted sketch of the line. With --opened (an `strace -f -e trace=openat` log of the same
run, as run.sh writes it) each miss says whether doctor opened its file at all, so misses
split into "file read, value not recognised" and "file never read" (scope). No secret value is printed: planted values show at most
their first 4 characters, and every other long token on a printed line is cut to 4.
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

TOKEN_RE = re.compile(r"[A-Za-z0-9_\-+=%]{16,}")


def cut(tok):
    return tok[:4] + "\u2026(%d)" % len(tok)


def mask_tokens(s):
    """Cut every long token that mixes letters and digits (anything secret-like) to 4 chars."""
    def f(m):
        t = m.group(0)
        if re.search(r"[0-9]", t) and re.search(r"[A-Za-z]", t):
            return cut(t)
        return t
    return TOKEN_RE.sub(f, s)


def sketch(line, col=None, length=None, label=None, before=90, after=50):
    """The line around a span, the span replaced by `label`, other tokens cut."""
    if col is None:
        s = mask_tokens(line)
        return s[:before + after] + ("\u2026" if len(s) > before + after else "")
    c = col - 1
    pre, post = line[:c], line[c + length:]
    pre_m, post_m = mask_tokens(pre), mask_tokens(post)
    if len(pre_m) > before:
        pre_m = "\u2026" + pre_m[-before:]
    if len(post_m) > after:
        post_m = post_m[:after] + "\u2026"
    return pre_m + label + post_m


def read_trace(path, rel):
    """Files (not directories) a traced run opened successfully, relative to the work dir."""
    out = set()
    pending = {}
    call = re.compile(r'^(\d+)\s+open(?:at)?\((?:AT_FDCWD|\d+), "([^"]+)", ([A-Z_|]+)[^)]*\)?(.*)$')
    resumed = re.compile(r'^(\d+)\s+<\.\.\. open(?:at)? resumed>.*= (-?\d+)')
    for line in open(path, errors="replace"):
        m = call.match(line)
        if m:
            pid, p, flags, rest = m.groups()
            if "O_DIRECTORY" in flags:
                continue
            if "<unfinished" in line:
                pending[pid] = p
                continue
            r = re.search(r"= (-?\d+)", rest)
            if r and int(r.group(1)) >= 0:
                out.add(rel(p))
            continue
        m = resumed.match(line)
        if m and m.group(1) in pending:
            p = pending.pop(m.group(1))
            if int(m.group(2)) >= 0:
                out.add(rel(p))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("report", nargs="?")
    ap.add_argument("--max-other", type=int, default=400)
    ap.add_argument("--opened", help="strace -f -e trace=openat log of a doctor run on this host")
    a = ap.parse_args()
    work = a.work
    report = a.report or os.path.join(work, "doctor.json")
    planted = json.load(open(os.path.join(work, "planted.json")))
    decoys = json.load(open(os.path.join(work, "decoys.json")))
    text = open(report).read()
    doc = json.loads(text) if text.strip() else {"findings": []}

    def rel(p):
        return os.path.relpath(os.path.abspath(p), work)

    got = defaultdict(list)  # (path, line) -> findings
    uncounted = defaultdict(int)
    for f in doc.get("findings", []):
        if f.get("checkId", "").split(".")[0] in ("plaintext", "vault", "oauth") and f.get("line") and f.get("path"):
            got[(rel(f["path"]), f["line"])].append(f)
        else:
            uncounted[f.get("checkId", "?")] += 1
    by_file = defaultdict(list)
    for (p, l), fs in got.items():
        by_file[p].append((l, fs))

    cache = {}

    def line_of(path, n):
        if path not in cache:
            try:
                cache[path] = open(os.path.join(work, path), encoding="utf-8", errors="replace").read().split("\n")
            except OSError:
                cache[path] = []
        ls = cache[path]
        return ls[n - 1] if 0 < n <= len(ls) else ""

    def fdesc(fs):
        return "; ".join("%s: %s" % (f.get("checkId"), mask_tokens(str(f.get("message", "")))[:140]) for f in fs)

    opened = read_trace(a.opened, rel) if a.opened else None
    want = {(p["path"], p["line"]) for p in planted}
    dset = {(d["path"], d["line"]) for d in decoys}
    # values OpenClaw itself holds in plaintext (config, state .env): a detector that matches
    # those byte for byte finds their copies whatever the shape, so recall is also given
    # for the values that are no such copy ("pattern-only")
    held = {p["sha256"] for p in planted if p["path"] in ("home/.openclaw/openclaw.json", "home/.openclaw/.env")}
    found = [p for p in planted if (p["path"], p["line"]) in got]
    missed = [p for p in planted if (p["path"], p["line"]) not in got]
    flagged = [d for d in decoys if (d["path"], d["line"]) in got]
    other = sorted(k for k in got if k not in want and k not in dset)

    print("== held-out host: %s" % os.path.abspath(work))
    print("recall:         %d/%d (%.1f%%)" % (len(found), len(planted), 100.0 * len(found) / max(1, len(planted))))
    po = [p for p in planted if p["sha256"] not in held]
    print("pattern-only recall (values not also in openclaw.json or ~/.openclaw/.env): %d/%d" % (
        sum(1 for p in po if (p["path"], p["line"]) in got), len(po)))
    if opened is not None:
        inscope = [p for p in planted if p["path"] in opened]
        fin = sum(1 for p in inscope if (p["path"], p["line"]) in got)
        print("recall in files doctor opened: %d/%d (%.1f%%); %d planted in %d files it never opened" % (
            fin, len(inscope), 100.0 * fin / max(1, len(inscope)), len(planted) - len(inscope),
            len({p["path"] for p in planted if p["path"] not in opened})))
    print("decoys flagged: %d/%d" % (len(flagged), len(decoys)))
    print("other findings: %d lines (%d counted findings in all; uncounted finding codes: %s)" % (
        len(other), sum(len(v) for v in got.values()),
        ", ".join("%s=%d" % kv for kv in sorted(uncounted.items())) or "none"))

    def table(title, key):
        rows = defaultdict(lambda: [0, 0])
        for p in planted:
            rows[p[key]][1] += 1
            rows[p[key]][0] += (p["path"], p["line"]) in got
        print("\n-- recall by %s (found/planted)" % title)
        for k, (f, t) in sorted(rows.items(), key=lambda kv: (kv[1][0] / kv[1][1], kv[0])):
            print("  %-26s %3d/%-3d %s" % (k, f, t, "" if f == t else "<- %d missed" % (t - f)))

    table("kind", "kind")
    table("context", "context")
    table("shape", "shape")

    drows = defaultdict(lambda: [0, 0])
    for d in decoys:
        drows[d["kind"]][1] += 1
        drows[d["kind"]][0] += (d["path"], d["line"]) in got
    print("\n-- decoys flagged by class (flagged/labelled)")
    for k, (f, t) in sorted(drows.items(), key=lambda kv: (-kv[1][0], kv[0])):
        print("  %-26s %3d/%-3d" % (k, f, t))

    def miss_block(title, ms):
      print("\n== %s (%d), grouped by context" % (title, len(ms)))
      for ctx in sorted({p["context"] for p in ms}):
        print("\n[%s]" % ctx)
        for p in sorted((x for x in ms if x["context"] == ctx), key=lambda x: (x["path"], x["line"])):
            line = line_of(p["path"], p["line"])
            near = [(l, fs) for l, fs in by_file.get(p["path"], []) if abs(l - p["line"]) <= 3]
            nd = ""
            dup = [q["line"] for q in planted if q["sha256"] == p["sha256"] and q["path"] == p["path"]
                   and q is not p and (q["path"], q["line"]) in got]
            if dup:
                nd += "  [same value found at line %s of this file]" % ",".join(map(str, dup))
            if p["sha256"] in held:
                nd += "  [copy of a value in openclaw.json/.env]"
            if near:
                l, fs = min(near, key=lambda t: abs(t[0] - p["line"]))
                nd += "  [nearest finding in file: line %d %s]" % (l, ",".join(f.get("checkId") for f in fs))
            print("  %s:%d:%d  %s  %s  shape=%s  value=%s\u2026(%d)%s" % (
                p["path"], p["line"], p["col"], p["kind"], p["context"], p["shape"], p["prefix"], p["len"], nd))
            print("      | %s" % sketch(line, p["col"], p["len"], "<%s>" % p["kind"]))

    if opened is None:
        miss_block("MISSES", missed)
    else:
        unread = [p for p in missed if p["path"] not in opened]
        files = sorted({p["path"] for p in unread})
        print("\n-- misses in files doctor never opened: %d in %d files" % (len(unread), len(files)))
        for f in files:
            print("  %s (%d)" % (f, sum(1 for p in unread if p["path"] == f)))
        miss_block("MISSES IN FILES DOCTOR READ", [p for p in missed if p["path"] in opened])
        miss_block("MISSES IN FILES DOCTOR NEVER OPENED", unread)

    print("\n== DECOYS FLAGGED (%d), grouped by class" % len(flagged))
    for k in sorted({d["kind"] for d in flagged}):
        print("\n[%s]" % k)
        for d in sorted((x for x in flagged if x["kind"] == k), key=lambda x: (x["path"], x["line"])):
            line = line_of(d["path"], d["line"])
            v = d.get("value", "")
            shown = v if len(v) <= 24 else v[:24] + "\u2026"
            print("  %s:%d:%d  %s  %s  shape=%s  value=%r" % (d["path"], d["line"], d["col"], d["kind"], d["context"], d["shape"], shown))
            print("      finding: %s" % fdesc(got[(d["path"], d["line"])]))
            print("      | %s" % sketch(line, d["col"], d["len"], "<decoy:%s>" % d["kind"]))

    print("\n== OTHER FINDINGS (%d lines: neither planted nor decoy)" % len(other))
    groups = defaultdict(list)
    for k in other:
        for f in got[k]:
            groups[f.get("checkId")].append(k)
    for cid, ks in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print("  %-40s %d" % (cid, len(ks)))
    for i, k in enumerate(other):
        if i >= a.max_other:
            print("  ... %d more" % (len(other) - a.max_other))
            break
        line = line_of(*k)
        fs = got[k]
        col = fs[0].get("column")
        print("  %s:%d  %s" % (k[0], k[1], fdesc(fs)))
        if col:
            m = TOKEN_RE.match(line, col - 1)
            ln = len(m.group(0)) if m else 1
            print("      | %s" % sketch(line, col, ln, "<" + cut(line[col - 1:col - 1 + ln]) + ">"))
        else:
            print("      | %s" % sketch(line))


if __name__ == "__main__":
    main()
