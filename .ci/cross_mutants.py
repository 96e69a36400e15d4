#!/usr/bin/env python3
"""Runs cargo-mutants' mutants of core files against wsnova-tests' session
tests (cargo-mutants 27.1 here would only run wsnova-core's own tests).
Usage: cross_mutants.py FILE... ; run from a scratch worktree."""
import json, os, subprocess, sys, time
env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", "/work/target"), PROPTEST_CASES="100")
files = sys.argv[1:]
args = ["cargo", "mutants", "--list", "--json"] + sum((["-f", f] for f in files), [])
mutants = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
test = ["cargo", "test", "-q", "-p", "wsnova-tests", "--test", "session_*"]
results = []
for i, m in enumerate(mutants):
    name = m["diff"].splitlines()[1][4:]
    path = m["diff"].splitlines()[0][4:]
    diff = m["diff"].replace(m["diff"].splitlines()[1], "+++ " + path, 1)
    subprocess.run(["patch", "-p0", "-s", "--forward"], input=diff, text=True, check=True)
    t = time.time()
    try:
        build = subprocess.run(test + ["--no-run"], env=env, capture_output=True, text=True)
        if build.returncode != 0:
            outcome = "unviable"
        else:
            try:
                run = subprocess.run(test, env=env, capture_output=True, text=True, timeout=300)
                outcome = "caught" if run.returncode != 0 else "MISSED"
            except subprocess.TimeoutExpired:
                outcome = "timeout"
    finally:
        subprocess.run(["git", "checkout", "-q", "--", path], check=True)
    line = f"{outcome:8} {path}: {name} ({time.time() - t:.0f} s)"
    print(line, flush=True)
    results.append(line)
print("summary:", {k: sum(r.startswith(k) for r in results) for k in ("caught", "MISSED", "unviable", "timeout")})
