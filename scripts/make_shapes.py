#!/usr/bin/env python3
"""Writes fixtures/shapes/: the same cases as a canonical export and as a Danish one.

canonical.csv: canonical headers and words, UTF-8, `,`, LF, ISO dates.
danish.csv:    Danish headers (the built-in aliases), Danish and system-specific words (known
               through mapping.toml), `;`, Windows-1252 (æ, ø, å, § and – as single bytes), CRLF,
               DD-MM-YYYY dates (some DD.MM.YYYY, one with a time of day), refusal texts with æøå,
               one holding a `;` and a line break inside quotes.

Both files put every case on the same physical line, so tests/shapes.rs can compare the outputs
row by row, line included. Standard library only; run from anywhere:
    python3 scripts/make_shapes.py
"""

import csv
import io
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "shapes"

COLUMNS = [
    "case_id", "cpr", "municipality_code", "benefit", "decision", "application_date",
    "decision_date", "refusal_reasons", "refusal_text", "person_category", "program",
    "public_assistance", "exam", "exam_date", "prior_bonus", "appeal_outcome",
]

# The Danish export's header: each a built-in alias (SPEC §3.1), as a person would write it.
DANISH_HEADER = [
    "Sagsnummer", "CPR", "Kommunekode", "Ydelse", "Afgørelse", "Ansøgningsdato",
    "Afgørelsesdato", "Afslagsgrunde", "Begrundelse", "Persongruppe", "Programstatus",
    "Offentlig hjælp", "Danskprøve", "Prøvedato", "Tidligere bonus", "Klageresultat",
]
DANISH_EXTRA = "Sagsbehandler"

# Canonical value -> the word the Danish export writes, per column. Built-in Danish words where
# SPEC §3.1 has them; the others are the system's own, known through mapping.toml.
WORDS = {
    "benefit": {"IL22": "Danskbonus (IL § 22)", "AKTL22": "Danskbonus aktivloven",
                "DANSKTILLAEG": "Dansktillæg"},
    "decision": {"REFUSED": "Afslag", "GRANTED": "Bevilget"},
    "person_category": {"REFUGEE": "Flygtning", "FAMILY_REUNIFIED": "Familiesammenført",
                        "OTHER": "Andet"},
    "program": {"YES": "ja", "NO": "nej"},
    "public_assistance": {"YES": "Ja", "NO": "NEJ"},
    "prior_bonus": {"YES": "ja", "NO": "nej"},
    "exam": {"PD2": "Prøve i Dansk 2", "PD3": "pd3", "FVU_LAESNING_2": "FVU-læsning trin 2",
             "EQUIVALENT": "Anden tilsvarende prøve", "NONE": "Ingen"},
    "appeal_outcome": {"UPHELD": "Stadfæstet", "REMITTED": "Ophævet og hjemvist",
                       "CHANGED": "Ændret", "DISMISSED": "Afvist"},
    "refusal_reasons": {"PROGRAM": "P16", "NOT_SELF_SUPPORTING": "SELVF", "NO_EXAM": "PROEVE"},
}

# Benefit words of other benefits: canonical OTHER, the Danish export names each.
OTHER_BENEFITS = {"S13": "Kontanthjælp", "S14": "Boligstøtte"}


def case(case_id, cpr, benefit="IL22", decision="REFUSED", app="2020-01-10", dec="2020-03-01",
         reasons="", text="", person="REFUGEE", program="NO", assistance="NO", exam="PD2",
         exam_date="2019-06-01", prior="NO", appeal="", kommune="101"):
    return {
        "case_id": case_id, "cpr": cpr, "municipality_code": kommune, "benefit": benefit,
        "decision": decision, "application_date": app, "decision_date": dec,
        "refusal_reasons": reasons, "refusal_text": text, "person_category": person,
        "program": program, "public_assistance": assistance, "exam": exam,
        "exam_date": exam_date, "prior_bonus": prior, "appeal_outcome": appeal,
    }


CASES = [
    # R1: the programme cited, all four conditions met.
    case("S1", "0101801001", reasons="PROGRAM",
         text="Du er ikke omfattet af integrationsprogrammet, jf. integrationslovens § 16."),
    # R1 through a pattern only the mapping knows.
    case("S2", "0201801002", text="Du har ikke deltaget i forløb hos kommunen."),
    # R5: not self-supporting, by a system code and a text (hjemrejseydelse is C2).
    case("S3", "0301801003", reasons="NOT_SELF_SUPPORTING", assistance="YES",
         text="Du modtager selvforsørgelses- og hjemrejseydelse."),
    # R8: nothing cited, all four met, programme NO.
    case("S4", "0401801004"),
    # R6: nothing cited, all four met, programme YES.
    case("S5", "0501801005", program="YES"),
    # R2, upheld on appeal: Ankestyrelsen decides.
    case("S6", "0601801006", reasons="PROGRAM", exam="", exam_date="", appeal="UPHELD"),
    # Remitted on appeal ("ophævet og hjemvist").
    case("S7", "0701801007", reasons="PROGRAM", appeal="REMITTED"),
    # Changed on appeal.
    case("S8", "0801801008", reasons="PROGRAM", appeal="CHANGED"),
    # Applied after 9 June 2021: the amended § 22.
    case("S9", "0901801009", app="2021-07-01", dec="2021-08-15", reasons="PROGRAM"),
    # Granted: out of scope.
    case("S10", "1001801010", decision="GRANTED"),
    # Danskbonus under aktivloven: out of scope.
    case("S11", "1101801011", benefit="AKTL22"),
    # Dansktillæg granted before IL § 22 existed.
    case("S12", "1201801012", benefit="DANSKTILLAEG", decision="GRANTED", app="2017-03-01",
         dec="2017-05-01"),
    # Two other benefits, each under its own name in the Danish export.
    case("S13", "1301801013", benefit="OTHER", decision="GRANTED"),
    case("S14", "1401801014", benefit="OTHER", decision="GRANTED"),
    # Suspicious but usable: CPR no date, unknown municipality, two-digit year, unknown code.
    case("S15", "3102801015", kommune="999", exam_date="UNREADABLE", reasons="XYZ"),
    # A text holding the file's delimiter and a line break, an en dash and a § (NO_EXAM).
    case("S16", "1601801016", exam="NONE", exam_date="",
         text="Afslag; du har ikke bestået\nPrøve i Dansk 2 – se § 22, stk. 1."),
    # Application after the decision.
    case("S17", "1701801017", app="2020-05-01", dec="2020-03-01"),
    # Decided before IL § 22 entered into force (the Danish date has a time of day).
    case("S18", "1801801018", app="2018-03-01", dec="2018-05-15 10:30"),
    # Rejects: a decision word genoptag does not know, and a short row.
    case("S19", "1901801019", decision="REJECTED"),
    None,
    # R3: the programme cited, a prior bonus: reopen, expect a refusal.
    case("S21", "2101801021", reasons="PROGRAM|NO_EXAM", person="FAMILY_REUNIFIED", exam="PD3",
         prior="YES"),
    # R9: nothing cited, the conditions undetermined.
    case("S22", "2201801022", person="", assistance=""),
    # R10: nothing cited, not a covered person; Danish letters spelled out in the text.
    case("S23", "2301801023", person="OTHER", text="Sagen er behandlet, ikke selvforsoergende"),
    # R2 with an exam claimed equivalent.
    case("S24", "2401801024", reasons="PROGRAM", exam="EQUIVALENT"),
    # No application date, decided after 9 June 2021: the regime is unknown.
    case("S25", "2501801025", app="", dec="2021-08-01"),
    # Appeal dismissed: the municipality decides.
    case("S26", "2601801026", reasons="PROGRAM", appeal="DISMISSED"),
    # FVU-læsning trin 2 and the selvforsørgelses- og hjemrejseprogram.
    case("S27", "2701801027", exam="FVU_LAESNING_2",
         text="Ikke i selvforsørgelses- og hjemrejseprogrammet"),
]


def danish_date(iso, n):
    """DD-MM-YYYY, every third DD.MM.YYYY; a time of day is kept."""
    if iso in ("", "UNREADABLE"):
        return "15-03-20" if iso else ""
    day, _, time = iso.partition(" ")
    y, m, d = day.split("-")
    sep = "." if n % 3 == 2 else "-"
    return f"{d}{sep}{m}{sep}{y}" + (f" {time}" if time else "")


def canonical_row(c):
    row = dict(c)
    for col in ("application_date", "exam_date", "decision_date"):
        if row[col] == "UNREADABLE":
            row[col] = "15-03-20"
        row[col] = row[col].split(" ")[0]
    return [row[col] for col in COLUMNS]


def danish_row(c, n):
    row = {}
    for col in COLUMNS:
        value = c[col]
        if col.endswith("_date"):
            value = danish_date(value, n)
        elif col == "benefit" and value == "OTHER":
            value = OTHER_BENEFITS[c["case_id"]]
        elif col == "refusal_reasons":
            value = "|".join(WORDS[col].get(code, code) for code in value.split("|") if code)
        elif col == "decision" and value == "REJECTED":
            value = "Afvist"
        elif col == "cpr":
            value = value[:6] + "-" + value[6:]
        elif col == "refusal_text":
            value = value.replace("\n", "\r\n")
        elif col in WORDS and value:
            value = WORDS[col][value]
        row[col] = value
    return [row[col] for col in COLUMNS] + ["Ærlig Åse"]


def write(rows, delimiter, terminator):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=terminator,
                   quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        w.writerow(row)
    return buf.getvalue()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    canonical = [COLUMNS]
    danish = [DANISH_HEADER + [DANISH_EXTRA]]
    for n, c in enumerate(CASES):
        if c is None:
            canonical.append(["S20", "2001801020"])
            danish.append(["S20", "200180-1020"])
            continue
        canonical.append(canonical_row(c))
        danish.append(danish_row(c, n))
    (OUT / "canonical.csv").write_bytes(write(canonical, ",", "\n").encode("utf-8"))
    (OUT / "danish.csv").write_bytes(write(danish, ";", "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
