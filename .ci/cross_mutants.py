#!/usr/bin/env python3
"""Runs cargo-mutants' mutants of core files against wsnova-tests' session
tests (cargo-mutants 27.1 here would only run wsnova-core's own tests).
Usage: cross_mutants.py FILE... ; run from a scratch worktree.
Environment: CARGO_TARGET_DIR (default /work/target), MUTANT_TESTS (glob
patterns of wsnova-tests' test files, default `session_*`: their tests are
built into one temporary test binary, tests/tests/zz_mutants.rs, which links
once a mutant instead of once a file), MUTANT_PROFILE (default `mutants`,
the Cargo profile with optimised dependencies), MUTANT_TIMEOUT (seconds a
test run may take, default 120), MUTANT_FILTER (a regular expression: only
the mutants whose names match, to re-check a kill)."""
import atexit, glob, json, os, re, signal, subprocess, sys, time
env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", "/work/target"), PROPTEST_CASES="100")
files = sys.argv[1:]
args = ["cargo", "mutants", "--list", "--json"] + sum((["-f", f] for f in files), [])
mutants = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
wanted = re.compile(os.environ.get("MUTANT_FILTER", ""))
mutants = [m for m in mutants if wanted.search(m["name"])]
profile = os.environ.get("MUTANT_PROFILE", "mutants")
timeout = int(os.environ.get("MUTANT_TIMEOUT", "120"))
# Each test file becomes a module of one binary (they hold no `mod` items of
# their own); the file is removed when the script ends.
harness = "tests/tests/zz_mutants.rs"
with open(harness, "w") as out:
    for pattern in os.environ.get("MUTANT_TESTS", "session_*").split():
        for path in sorted(glob.glob(f"tests/tests/{pattern}.rs")):
            stem = os.path.basename(path)[:-3]
            out.write(f'#[path = "{stem}.rs"]\nmod {stem};\n')
atexit.register(os.remove, harness)
test = ["cargo", "test", "-q", "--profile", profile, "-p", "wsnova-tests", "--test", "zz_mutants"]
core = ["cargo", "test", "-q", "--profile", profile, "-p", "wsnova-core", "--tests"]
# The unmutated tests must pass first: a stale or broken build would make
# every mutant look caught.
for command in (core, test):
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        sys.exit(f"baseline failed: {' '.join(command)}")
results = []
for m in mutants:
    old_line, new_line = m["diff"].splitlines()[:2]
    path = old_line[4:]
    diff = m["diff"].replace(new_line, "+++ " + path, 1)
    subprocess.run(["patch", "-p0", "-s", "--forward"], input=diff, text=True, check=True)
    t = time.time()
    outcome = None
    try:
        # wsnova-core's own tests first (a second or two); the session tests
        # only for a mutant they miss.
        for command in (core, test):
            build = subprocess.run(command + ["--no-run"], env=env, capture_output=True, text=True)
            if build.returncode != 0:
                outcome = "unviable"
                break
            # In its own process group, so that a hung test binary is
            # killed with cargo on a timeout rather than left running.
            run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                run.wait(timeout=timeout if command is test else 30)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
                outcome = "timeout"
                break
            if run.returncode != 0:
                outcome = "caught"
                break
        outcome = outcome or "MISSED"
    finally:
        subprocess.run(["git", "checkout", "-q", "--", path], check=True)
    line = f"{outcome:8} {m['name']} ({time.time() - t:.0f} s)"
    print(line, flush=True)
    results.append(line)
print("summary:", {k: sum(r.startswith(k) for r in results) for k in ("caught", "MISSED", "unviable", "timeout")})
