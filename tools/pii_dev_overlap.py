#!/usr/bin/env python3
"""Lists what the classifier's code, data and tests share with an evaluation set (pii-dev).

Reads the evaluation set ONLY to compare: it prints overlaps so they can be removed, never
copies anything from it. Usage: tools/pii_dev_overlap.py /path/to/pii-dev [repo root]

Three kinds of overlap are listed, each with the repository files that hold it:
  * column names of labels.csv (as whole words in the classifier's dictionaries, training data,
    corpora, tests and the corpus value generator);
  * table names of labels.csv;
  * distinctive strings: quoted literals of the dataset's SQL and generator (values and word
    pools) that occur as quoted literals or vocabulary words in the repository.
A common-word filter drops words any dictionary would hold; the rest is for a person to judge.
"""
import csv, os, re, sys
from collections import defaultdict

dev = sys.argv[1]
root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCOPE = [
    "domain/src/classification",
    "domain/tests",
    "api/src/cli/bench_corpus_values.rs",
    "api/src/cli/bench_corpus_text.rs",
    "api/src/cli/bench_corpus.rs",
]

def files():
    for s in SCOPE:
        p = os.path.join(root, s)
        if os.path.isfile(p):
            yield p
        else:
            for d, _, fs in os.walk(p):
                for f in fs:
                    if f.endswith((".rs", ".csv", ".md", ".txt", ".toml")):
                        yield os.path.join(d, f)

repo = {p: open(p, encoding="utf-8", errors="replace").read() for p in files()}
repo_lower = {p: t.lower() for p, t in repo.items()}

tables, columns = set(), set()
with open(os.path.join(dev, "labels.csv")) as f:
    for row in csv.DictReader(f):
        tables.add(row["table"].strip().lower())
        columns.add(row["column"].strip().lower())

lit = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"\\]|\\.)*)\"")
dev_strings = set()
for name in ("postgres.sql", "generate.py"):
    text = open(os.path.join(dev, name), encoding="utf-8", errors="replace").read()
    for m in lit.finditer(text):
        s = (m.group(1) or m.group(2) or "").replace("''", "'").strip()
        if 4 <= len(s) <= 80:
            dev_strings.add(s.lower())

# Words too common to say anything about where a list came from.
COMMON = set("""
name first last email phone mobile address street city state country postal code zip date birth
gender title company notes note comment comments description status type created updated user
users customer customers employee employees account number amount total price order orders id
the and for with from this that have been true false null none other unknown male female
""".split())

def word_in(word, text):
    return re.search(r"(?<![a-z0-9_])" + re.escape(word) + r"(?![a-z0-9_])", text) is not None

def report(title, items):
    hits = defaultdict(list)
    for it in sorted(items):
        if it in COMMON:
            continue
        for p, t in repo_lower.items():
            if word_in(it, t):
                hits[it].append(os.path.relpath(p, root))
    print(f"== {title}: {len(hits)} overlapping")
    for it, ps in sorted(hits.items()):
        print(f"  {it}: {', '.join(sorted(set(ps)))}")

report("column names", columns)
report("table names", tables)
# Distinctive strings: multi-character literals that are not single common words.
strings = {s for s in dev_strings if not (s.isalpha() and len(s) < 5) and s not in COMMON}
report("literal strings", strings)

# Repository literals (8+ characters, not plain words) found anywhere inside the dataset's
# script or generator: catches values copied in part (a hash cut short, a phone re-spaced).
dev_text = "\n".join(
    open(os.path.join(dev, n), encoding="utf-8", errors="replace").read().lower()
    for n in ("postgres.sql", "generate.py")
)
rust_lit = re.compile(r'"((?:[^"\\]|\\.){8,120})"')
found = defaultdict(set)
for p, t in repo.items():
    for m in rust_lit.finditer(t):
        s = m.group(1)
        if re.fullmatch(r"[a-z_ ]+", s) and len(s) < 20:
            continue
        if s.lower() in dev_text:
            found[s].add(os.path.relpath(p, root))
print(f"== repository literals inside the dataset: {len(found)}")
for s, ps in sorted(found.items()):
    print(f"  {s}: {', '.join(sorted(ps))}")
