#!/usr/bin/env python3
"""Applies the configuration changes `ipsec-doctor compare --format json` or `ipsec-doctor diagnose --format
json` proposes, in place (the lab's closed loop: scripts/lab/lab.sh fix_loop restarts the pair afterwards and
records what the daemons do).

  apply-fix.py COMPARE.json | DIAGNOSE.json

From a diagnosis, the lead findings' steps and their symptoms' (a symptom's change still belongs to the fix).
A step marked `alternative` is another way to what the step before it does: it is not applied.

Each config step of each finding names its file (as compare was given it: the lab passes absolute paths):
  - ipsec.conf: in the step's section (`conn NAME`, `config setup`), each `remove` line must be a line of
    that section; the `add` lines take the place of the first removed one, or follow the header.
  - ipsec.secrets: the entry whose IDs are the `remove` line's gets the `add` line's IDs (the secret,
    shown redacted in the step, stays as it is in the file).
Steps without a file, or that need a secret nobody here knows (`<the same secret on both ends>`), are
skipped and listed. Exit 1 when a step names a line its file does not have.
"""
import json
import sys


def ids(line):
    return line.split(" :", 1)[0].strip()


def apply_conf(path, section, remove, add):
    lines = open(path).read().split("\n")
    header = "config setup" if section == "config setup" else f"conn {section}"
    h = next((i for i, l in enumerate(lines) if l.strip() == header), None)
    if h is None:
        raise SystemExit(f"apply-fix: {path}: no `{header}` section")
    end = h + 1
    while end < len(lines) and (lines[end] == "" or lines[end][:1] in (" ", "\t", "#")):
        end += 1
    at = h + 1
    for r in reversed(remove):
        hits = [i for i in range(h + 1, end) if lines[i].strip() == r.strip()]
        if not hits:
            raise SystemExit(f"apply-fix: {path}: `{r}` is not a line of `{header}`")
        del lines[hits[0]]
        end -= 1
        at = hits[0]
    lines[at:at] = ["    " + a for a in add]
    open(path, "w").write("\n".join(lines))


def apply_secrets(path, remove, add):
    old, new = ids(remove[0]), ids(add[0])
    lines = open(path).read().split("\n")
    changed = [new + " :" + l.split(" :", 1)[1] if ids(l) == old else l for l in lines]
    if changed == lines:
        raise SystemExit(f"apply-fix: {path}: no entry for {old}")
    open(path, "w").write("\n".join(changed))


def findings(doc):
    """compare: every pair's findings; diagnose: each lead, then its symptoms."""
    if "pairs" in doc:
        return [f for pair in doc["pairs"] for f in pair["findings"]]
    return [f for lead in doc["findings"] for f in [lead] + lead.get("symptoms", [])]


def main(argv):
    doc = json.load(open(argv[0]))
    done = set()
    for finding in findings(doc):
        for step in finding["remedy"]["steps"]:
            # Another way to what the step before it does: one or the other, and the first was taken.
            if step["kind"] != "config" or step.get("alternative"):
                continue
            path = step.get("file")
            if not path or any("<the same secret on both ends>" in a for a in step["add"]):
                print(f"skipped ({finding['code']}): {step['summary']}")
                continue
            # The same change proposed twice (a lead and its symptom, both ends' findings) is made once.
            key = (path, step.get("connection"), tuple(step["remove"]), tuple(step["add"]))
            if key in done:
                continue
            done.add(key)
            if path.endswith("ipsec.secrets"):
                apply_secrets(path, step["remove"], step["add"])
            else:
                apply_conf(path, step["connection"], step["remove"], step["add"])
            print(f"applied ({finding['code']}) to {path}: -{step['remove']} +{step['add']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
