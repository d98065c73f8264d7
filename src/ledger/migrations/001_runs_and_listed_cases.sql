-- The ledger of genoptag runs (SPEC §5.1), schema version 1.
-- It holds no CPR number: a case is known by its case_id and the authority that decides its
-- reopening (decided_by), never by the person.

-- One row per recorded run.
CREATE TABLE run (
    id                      INTEGER PRIMARY KEY,
    started_at              TEXT    NOT NULL,  -- RFC 3339, UTC, as in summary.json
    finished_at             TEXT    NOT NULL,
    tool_version            TEXT    NOT NULL,
    rules_version           TEXT    NOT NULL,
    rows_read               INTEGER NOT NULL,
    evaluated               INTEGER NOT NULL,
    rejected                INTEGER NOT NULL,
    duplicates              INTEGER NOT NULL,
    reopen                  INTEGER NOT NULL,
    review                  INTEGER NOT NULL,
    not_affected            INTEGER NOT NULL,
    out_of_scope            INTEGER NOT NULL,
    identification_complete INTEGER NOT NULL CHECK (identification_complete IN (0, 1)),
    new_cases               INTEGER NOT NULL,  -- the counts of that run's changes.csv
    changed_cases           INTEGER NOT NULL,
    gone_cases              INTEGER NOT NULL
) STRICT;

-- Each input of a run, in the order given.
CREATE TABLE run_input (
    run_id   INTEGER NOT NULL REFERENCES run (id),
    position INTEGER NOT NULL,
    path     TEXT    NOT NULL,  -- as given on the command line; `stdin` for -
    size     INTEGER NOT NULL,  -- bytes read
    sha256   TEXT    NOT NULL,  -- of the bytes read, lower-case hex
    rows     INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
) STRICT;

-- Every case that has been on a REOPEN or REVIEW list, with its listing as last seen.
CREATE TABLE listed_case (
    case_id          TEXT    NOT NULL,
    decided_by       TEXT    NOT NULL,
    classification   TEXT    NOT NULL CHECK (classification IN ('REOPEN', 'REVIEW')),
    rule             TEXT    NOT NULL,
    expected_outcome TEXT    NOT NULL,
    first_seen_run   INTEGER NOT NULL REFERENCES run (id),
    last_seen_run    INTEGER NOT NULL REFERENCES run (id),
    PRIMARY KEY (case_id, decided_by)
) STRICT;
CREATE INDEX listed_case_by_last_seen_run ON listed_case (last_seen_run);

-- Each run's changes.csv: how the lists changed since the run before.
CREATE TABLE case_change (
    run_id               INTEGER NOT NULL REFERENCES run (id),
    change               TEXT    NOT NULL CHECK (change IN ('NEW', 'CHANGED', 'GONE')),
    case_id              TEXT    NOT NULL,
    decided_by           TEXT    NOT NULL,
    old_classification   TEXT,
    new_classification   TEXT,
    old_rule             TEXT,
    new_rule             TEXT,
    old_expected_outcome TEXT,
    new_expected_outcome TEXT,
    PRIMARY KEY (run_id, case_id, decided_by)
) STRICT;
CREATE INDEX case_change_by_case ON case_change (case_id);
