#!/usr/bin/env bash
# Checks scripts/decide.sql (SPEC §4 steps 1-6 in DuckDB SQL, the peer of scripts/bench) against the
# hand-made rows of scripts/decide_check.csv. Each row there is a case in the canonical input schema plus
# `name` (a sentence saying what SPEC §4 makes of it), `expected_classification`, `expected_rule`,
# `expected_outcome` and `expected_decided_by` (compared where not empty). Rows genoptag would reject
# are expected as REJECTED with the reason and column in `expected_rule`, the SQL's own convention.
# The rows are matched by their physical start line, so the SQL's line numbering is checked too (one
# refusal text holds a line break).
#
#   scripts/check_decide.sh        prints one line per failure and 'N passed, N failed'; exit 1 on a failure
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
python3 - scripts/decide.sql scripts/decide_check.csv <<'PY'
import csv, os, sys, tempfile
import duckdb

sql_path, check = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    lists = os.path.join(tmp, "lists.csv")
    sql = open(sql_path, encoding="utf-8").read()
    sql = sql.replace("$input", check.replace("'", "''")).replace("$output", lists.replace("'", "''"))
    con = duckdb.connect()
    con.execute(sql)
    got = {line: row for line, *row in con.sql(
        "SELECT line, classification, rule, expected_outcome, decided_by FROM decided").fetchall()}
    with open(lists, newline="", encoding="utf-8") as f:
        listed = {int(r["line"]) for r in csv.DictReader(f)}

passed = failed = 0
wanted_in_lists = set()
with open(check, newline="", encoding="utf-8") as f:
    reader = csv.DictReader(f)
    prev = 1
    for row in reader:
        line, prev = prev + 1, reader.line_num
        want = [row["expected_classification"], row["expected_rule"], row["expected_outcome"], row["expected_decided_by"]]
        have = list(got.get(line, ["(missing)", "", "", ""]))
        if not want[3]:
            have[3] = ""
        if want[0] in ("REOPEN", "REVIEW"):
            wanted_in_lists.add(line)
        if have == want:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {check}:{line}: {row['name']}\n     expected {want}\n     got      {have}")
if listed != wanted_in_lists:
    failed += 1
    print(f"FAIL the REOPEN/REVIEW list holds lines {sorted(listed)}, expected {sorted(wanted_in_lists)}")
else:
    passed += 1
if len(got) != passed + failed - 1 and not failed:
    failed += 1
    print(f"FAIL the SQL classified {len(got)} rows, the check file has {passed - 1}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
