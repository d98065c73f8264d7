#!/usr/bin/env python3
"""Deterministic generator of realistic canonical case exports for genoptag (SPEC §3.1).

    python3 scripts/synth.py --rows 10000000 --out /tmp/genoptag-bench/synth-10m.csv [--seed 1] [--crlf]

What it writes: a comma-separated UTF-8 file whose header is the canonical column names of SPEC §3.1 in
the order of that table, then `--rows` records:

* about 95 % other benefits (`OTHER`), built from a precomputed pool of row tails, and
* about 5 % bonus-related rows (`IL22`, `AKTL22`, `DANSKTILLAEG`), each drawn field by field so that every
  rule R1-R10, every regime of §4 step 3 and every appeal outcome occurs: Danish refusal texts (quoted,
  some with `;`, embedded quotes, line breaks, en dashes, `ae/oe/aa` spellings, `§16`), codes joined by
  `|`, Danish value words (afslag, bevilget, ja/nej, flygtning, stadfæstet, hjemvist ...), the four date
  styles of §3.2 (some with a time of day), a few unreadable two-digit years, and a few rows that must be
  rejected (an unreadable IL22 `decision_date`, the decision word "Afvist").

Guarantees the benchmark comparison relies on (scripts/decide.sql leaves out SPEC §4 step 7 and the
duplicate check, so the data must make both of them no-ops on every classification):

* every `case_id` is unique in the file;
* no CPR of a bonus-related row occurs in any other row, with one exception: every IL22 refusal
  `REMITTED` on appeal is followed (next record) by its new decision, an IL22 `GRANTED` row for the same
  CPR decided 30-200 days later. So step 7's "remitted without new decision" never fires, no grant
  precedes a refusal of the same person, and no person has a later grant after a REOPEN refusal;
* CPRs of other-benefit rows come from a disjoint number range (serials 5000-9999 vs 0000-4999).

Deterministic: the same `--seed` and `--rows` give a byte-identical file (Python's `random.Random`).
The file is written to `OUT.tmp` and renamed when complete, so a killed run leaves no half file.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

HEADER = [
    "case_id", "cpr", "municipality_code", "benefit", "decision", "application_date", "decision_date",
    "refusal_reasons", "refusal_text", "person_category", "program", "public_assistance", "exam",
    "exam_date", "prior_bonus", "appeal_outcome",
]

ROOT = Path(__file__).resolve().parent.parent
KOMMUNER_CANDIDATES = [ROOT.parent / "shared" / "data" / "kommuner.csv", ROOT / "shared" / "data" / "kommuner.csv"]

CHUNK = 100_000          # rows built and written per write() call
BONUS_SHARE = 0.05       # bonus-related rows among all rows
OTHER_TAILS = 60_000     # size of the pool of other-benefit row tails
OTHER_CPRS = 200_000     # size of the pool of other-benefit CPRs

# ---------------------------------------------------------------- dates
D = dt.date
EPOCH = D(1950, 1, 1)


def day(d):
    return (d - EPOCH).days


def from_day(n):
    return EPOCH + dt.timedelta(days=n)


def fmt_date(rng, d):
    """One of the date styles of SPEC §3.2, ISO most often."""
    r = rng.random()
    if r < 0.70:
        return d.isoformat()
    if r < 0.82:
        return d.strftime("%d-%m-%Y")
    if r < 0.91:
        return d.strftime("%d.%m.%Y")
    if r < 0.95:
        return d.strftime("%d/%m/%Y")
    if r < 0.985:
        return d.isoformat() + " 00:00:00"
    return d.isoformat() + "T%02d:%02d" % (rng.randrange(8, 16), rng.randrange(60))


def unreadable_date(rng, d):
    """A two-digit year: ambiguous, so unreadable (SPEC §3.2)."""
    return d.strftime("%d-%m-%y") if rng.random() < 0.5 else d.strftime("%d.%m.%y")


def rand_day(rng, lo, hi):
    return from_day(rng.randint(day(lo), day(hi)))


# ---------------------------------------------------------------- CSV
def q(s, force=False):
    """A CSV field: quoted when it must be (or when asked to, as many exporters do)."""
    if force or any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def pick(rng, weighted):
    """weighted = [(value, weight), ...]"""
    r = rng.random() * sum(w for _, w in weighted)
    for v, w in weighted:
        r -= w
        if r < 0:
            return v
    return weighted[-1][0]


# ---------------------------------------------------------------- CPR
CPR_BIRTH_FIRST = day(D(1950, 1, 1))
CPR_BIRTH_DAYS = day(D(2004, 12, 31)) - CPR_BIRTH_FIRST + 1
CPR_BONUS_SPACE = CPR_BIRTH_DAYS * 5000
CPR_BONUS_MULT = 2_654_435_761          # prime, does not divide the space: k -> k*MULT mod SPACE is a bijection


def cpr_text(rng, birth, serial):
    s = birth.strftime("%d%m%y")
    return (s + "-%04d" % serial) if rng.random() < 0.8 else (s + "%04d" % serial)


def bonus_cpr(rng, k):
    """The k-th bonus person's CPR: distinct for distinct k (a bijection of the bonus CPR space)."""
    j = (k * CPR_BONUS_MULT + 12_345) % CPR_BONUS_SPACE
    return cpr_text(rng, from_day(CPR_BIRTH_FIRST + j % CPR_BIRTH_DAYS), j // CPR_BIRTH_DAYS)


def other_cpr(rng):
    birth = from_day(CPR_BIRTH_FIRST + rng.randrange(CPR_BIRTH_DAYS))
    return cpr_text(rng, birth, 5000 + rng.randrange(5000))


# ---------------------------------------------------------------- refusal texts
# Each ground has texts that name it unambiguously under SPEC §4 step 5 (and name no other ground).
TEXTS = {
    "PROGRAM": [
        "Du opfylder ikke betingelsen om at være omfattet af programmet efter integrationslovens § 16.",
        "Afslag, da du ikke er eller har været i introduktionsprogrammet.",
        "Du deltager ikke i integrationsprogrammet, jf. integrationslovens §16.",
        "Du er ikke omfattet af selvforsørgelses- og hjemrejseprogrammet.",
        "Det er en betingelse for danskbonus, at du er omfattet af programmet.",
        "Du er ikke omfattet af selvforsoergelses- og hjemrejseprogrammet.",
        "Ansøger har ikke været i introduktionsprogram – jf. § 16, stk. 1.",
        "Du har ikke deltaget i et integrationsprogram; derfor kan du ikke få danskbonus.",
        'Ansøgningen om "danskbonus" afslås, da du ikke er i selvforsørgelses- og\nhjemrejseprogrammet.',
        "Du er ikke omfattet af   programmet (integrationslovens § 16).",
    ],
    "NOT_SELF_SUPPORTING": [
        "Du modtager kontanthjælp og er derfor ikke selvforsørgende.",
        "Du modtog selvforsørgelses- og hjemrejseydelse på ansøgningstidspunktet.",
        "Du modtager uddannelseshjælp.",
        "Du er ikke selvforsoergende, da du modtager integrationsydelse.",
        "Du modtager hjælp efter aktivlovens §§ 22-25.",
        "Du modtog overgangsydelse, da du søgte.",
        "Du er ikke\nselvforsørgende; du modtager kontanthjælp.",
        "Du modtager hjemrejseydelse – du er derfor ikke selvforsørgende.",
    ],
    "NO_EXAM": [
        "Du har ikke bestået Prøve i Dansk 2 eller en tilsvarende prøve.",
        "Der er ingen danskprøve registreret på dig.",
        "Du har ikke bestaaet en danskprøve efter den 1. januar 2018.",
        "Du har ikke bestået en kvalificerende prøve; Prøve i Dansk 1 er ikke nok.",
    ],
    "PRIOR_BONUS": [
        "Du har tidligere modtaget danskbonus.",
        "Du har tidligere fået dansktillæg efter aktivloven.",
        "Du har tidligere opnået ret til danskbonus.",
        "Du har tidligere faaet danskbonus, og den udbetales kun én gang.",
    ],
    "NOT_COVERED_PERSON": [
        "Du er ikke flygtning eller familiesammenført, jf. integrationslovens § 2, stk. 2-4.",
        "Du er ikke familiesammenført.",
        "Du er ikke omfattet af integrationslovens § 2, stk. 2–4.",
        "Ansøger er ikke flygtning.",
    ],
}
TEXTS_NO_GROUND = [
    "Betingelserne for danskbonus er ikke opfyldt.",
    "Du opfylder ikke betingelserne i integrationslovens § 22.",
    "Se vedlagte afgørelse.",
    "Afslag; se begrundelsen i brevet af samme dato.",
    "Ansøgningen afslås.\nKontakt Borgerservice for spørgsmål.",
    'Afslag – "danskbonus"',
]
GROUNDS = list(TEXTS)

OTHER_BENEFIT_TEXTS = [
    "Afslag på boligstøtte, da husstandens indkomst overstiger grænsen.",
    "Afslag på enkeltydelse til tandbehandling; udgiften er ikke nødvendig.",
    "Du opfylder ikke betingelserne for sygedagpenge.",
    "Afslag på hjælp til flytning.\nDu kan klage inden 4 uger.",
    "Afslag på børnetilskud, jf. børnetilskudsloven.",
    'Afslag på "særlig støtte"; formuen overstiger grænsen.',
    "Afslag på kontanthjælp (rådighed).",
    "Afslag på tilskud til briller.",
]


# ---------------------------------------------------------------- value words (canonical and Danish)
def word(rng, canonical, danish, p_danish=0.2):
    return rng.choice(danish) if danish and rng.random() < p_danish else canonical


DEC_WORDS = {"REFUSED": ["Afslag", "afslået", "AFSLAG", "afslag "], "GRANTED": ["Bevilget", "bevilling", "imødekommet"]}
YESNO = {"YES": ["ja", "Ja", "JA"], "NO": ["nej", "Nej"]}
PERSON_WORDS = {"REFUGEE": ["flygtning", "Flygtning"], "FAMILY_REUNIFIED": ["familiesammenført", "Familiesammenfoert"], "OTHER": []}
APPEAL_WORDS = {
    "UPHELD": ["stadfæstet", "Stadfæstet"],
    "CHANGED": ["ændret", "Ophævet", "aendret"],
    "REMITTED": ["hjemvist", "Ophævet og hjemvist", "hjemvises"],
    "DISMISSED": ["afvist", "Afvist"],
}

QUALIFYING = [("PD2", 30), ("PD3", 20), ("STUDIEPROEVE", 5), ("FVU_LAESNING_2", 10), ("FVU_LAESNING_3", 4), ("FVU_LAESNING_4", 3)]
NOT_QUALIFYING = ["PD1", "FVU_LAESNING_1", "NONE"]

EXAM_FROM = D(2018, 1, 1)


class Gen:
    def __init__(self, seed, kommuner):
        self.rng = random.Random(seed)
        self.kommuner = kommuner
        self.bonus_k = 0
        rng = self.rng
        self.other_cprs = [other_cpr(rng) for _ in range(OTHER_CPRS)]
        self.other_tails = [self.other_tail() for _ in range(OTHER_TAILS)]
        self.counts = {}

    # -------------------------------------------------------- other benefits
    def other_tail(self):
        """Everything after `benefit` for an other-benefit row."""
        rng = self.rng
        dec = rand_day(rng, D(2015, 1, 1), D(2024, 12, 31))
        app = dec - dt.timedelta(days=rng.randrange(1, 120))
        refused = rng.random() < 0.45
        decision = word(rng, "REFUSED" if refused else "GRANTED", DEC_WORDS["REFUSED" if refused else "GRANTED"])
        text = ""
        reasons = ""
        if refused:
            if rng.random() < 0.9:
                text = rng.choice(OTHER_BENEFIT_TEXTS)
                if rng.random() < 0.3:
                    text += " " + rng.choice(OTHER_BENEFIT_TEXTS)
            if rng.random() < 0.3:
                reasons = "OTHER"
        person = rng.choice(["", "", "REFUGEE", "FAMILY_REUNIFIED", "OTHER"])
        assistance = rng.choice(["", "YES", "NO"])
        program = rng.choice(["", "", "YES", "NO"])
        exam = exam_date = ""
        if rng.random() < 0.25:
            exam = pick(rng, QUALIFYING + [("PD1", 10), ("NONE", 10)])
            exam_date = "" if exam == "NONE" else fmt_date(rng, rand_day(rng, D(2014, 1, 1), dec))
        appeal = ""
        if refused and rng.random() < 0.1:
            appeal = rng.choice(["UPHELD", "CHANGED", "DISMISSED"])
        fields = [
            decision, fmt_date(rng, app) if rng.random() < 0.9 else "", fmt_date(rng, dec), reasons,
            q(text, bool(text) and rng.random() < 0.3), person, program, assistance, exam, exam_date,
            rng.choice(["", "NO"]), appeal,
        ]
        return ",".join(fields)

    # -------------------------------------------------------- bonus-related rows
    def grounds_and_text(self):
        """(refusal_reasons, refusal_text) naming PROGRAM, other grounds, or nothing recognisable."""
        rng = self.rng
        r = rng.random()
        if r < 0.40:
            grounds = ["PROGRAM"] if rng.random() < 0.6 else ["PROGRAM", rng.choice(GROUNDS[1:])]
        elif r < 0.72:
            grounds = rng.sample(GROUNDS[1:], 1 if rng.random() < 0.7 else 2)
        else:
            u = rng.random()
            if u < 0.35:
                return "", ""
            if u < 0.55:
                return "OTHER", ""
            if u < 0.60:
                return "X%d" % rng.randrange(1, 9), ""      # unknown code: counts as OTHER with a warning
            return ("OTHER" if rng.random() < 0.3 else ""), q(rng.choice(TEXTS_NO_GROUND), rng.random() < 0.3)
        how = rng.random()
        codes = "|".join(grounds) if how < 0.65 else ""
        text = ""
        if how >= 0.25:
            text = " ".join(rng.choice(TEXTS[g]) for g in grounds)
            if rng.random() < 0.15:
                text = "Afslag på danskbonus.\n" + text
        if codes and rng.random() < 0.1:
            codes += "|OTHER"
        return codes, q(text, bool(text) and rng.random() < 0.3)

    def exam(self, dec):
        rng = self.rng
        early = min(D(2016, 1, 1), dec - dt.timedelta(days=400))
        r = rng.random()
        if r < 0.72:
            exam = pick(rng, QUALIFYING)
            s = rng.random()
            if s < 0.84:
                d = rand_day(rng, EXAM_FROM, dec) if dec >= EXAM_FROM else None
            elif s < 0.85:
                d = EXAM_FROM
            elif s < 0.86:
                d = dec
            elif s < 0.91:
                d = rand_day(rng, min(D(2014, 6, 1), early), D(2017, 12, 31))
            elif s < 0.94:
                d = dec + dt.timedelta(days=rng.randrange(1, 90))
            elif s < 0.98:
                return exam, ""
            else:
                return exam, unreadable_date(rng, rand_day(rng, EXAM_FROM, max(dec, EXAM_FROM)))
            return exam, (fmt_date(rng, d) if d else "")
        if r < 0.82:
            exam = rng.choice(NOT_QUALIFYING)
            if exam == "NONE":
                return exam, ""
            return exam, fmt_date(rng, rand_day(rng, early, dec))
        if r < 0.87:
            return "EQUIVALENT", fmt_date(rng, rand_day(rng, early, dec))
        return "", ""

    def bonus_row(self, cid, may_remit):
        """One bonus-related record: (text, remitted), where remitted asks for the follow-up row.
        `may_remit` is false when the next record is not free for that follow-up."""
        rng = self.rng
        cpr = bonus_cpr(rng, self.bonus_k)
        self.bonus_k += 1
        kom = rng.choice(self.kommuner)
        r = rng.random()
        benefit = ("IL22" if r < 0.72 else "AKTL22" if r < 0.90 else "DANSKTILLAEG")
        if benefit == "IL22":
            dec = (rand_day(rng, D(2018, 3, 1), D(2021, 9, 30)) if rng.random() < 0.75
                   else rand_day(rng, D(2021, 10, 1), D(2024, 12, 31)))
            refused = rng.random() < 0.85
        elif benefit == "AKTL22":
            dec = rand_day(rng, D(2018, 7, 1), D(2024, 12, 31))
            refused = rng.random() < 0.4
        else:
            dec = rand_day(rng, D(2013, 1, 1), D(2018, 6, 30))
            refused = rng.random() < 0.3

        a = rng.random()
        if a < 0.08:
            app = ""
        elif a < 0.10:
            app = fmt_date(rng, dec + dt.timedelta(days=rng.randrange(1, 30)))        # after the decision
        elif a < 0.105:
            app = unreadable_date(rng, dec - dt.timedelta(days=rng.randrange(5, 120)))
        else:
            app = fmt_date(rng, dec - dt.timedelta(days=rng.randrange(5, 150)))

        decision = "REFUSED" if refused else "GRANTED"
        decision_text = word(rng, decision, DEC_WORDS[decision])
        dec_text = fmt_date(rng, dec)
        if benefit == "IL22" and rng.random() < 0.0005:
            dec_text = unreadable_date(rng, dec)            # reject: UNREADABLE_DATE
        if rng.random() < 0.0005:
            decision_text = "Afvist"                        # reject: UNKNOWN_VALUE (not built in, SPEC §3.1)

        reasons, text = self.grounds_and_text() if refused else ("", "")
        person = pick(rng, [("REFUGEE", 45), ("FAMILY_REUNIFIED", 35), ("OTHER", 5), ("", 15)])
        person = word(rng, person, PERSON_WORDS.get(person)) if person else ""
        program = pick(rng, [("YES", 30), ("NO", 40), ("", 30)])
        program = word(rng, program, YESNO.get(program)) if program else ""
        assistance = pick(rng, [("NO", 70), ("YES", 15), ("", 15)])
        assistance = word(rng, assistance, YESNO.get(assistance)) if assistance else ""
        exam, exam_date = self.exam(dec)
        prior = pick(rng, [("NO", 75), ("YES", 8), ("", 17)])
        prior = word(rng, prior, YESNO.get(prior)) if prior else ""

        appeal = ""
        remitted = False
        if refused and benefit == "IL22":
            appeal = pick(rng, [("", 72), ("UPHELD", 12), ("DISMISSED", 5), ("CHANGED", 6), ("REMITTED", 5)])
            if appeal == "REMITTED" and not may_remit:
                appeal = "CHANGED"
            remitted = appeal == "REMITTED"
        elif refused and rng.random() < 0.1:
            appeal = rng.choice(["UPHELD", "CHANGED"])
        if appeal:
            appeal = word(rng, appeal, APPEAL_WORDS[appeal], 0.3)

        key = benefit + "/" + decision
        self.counts[key] = self.counts.get(key, 0) + 1
        row = ",".join([cid, cpr, kom, benefit, q(decision_text), q(app), q(dec_text), reasons, text,
                        q(person), program, assistance, exam, q(exam_date), prior, q(appeal)])
        return row, (cpr, dec, app) if remitted else None

    def follow_up(self, cid, remitted):
        """The new decision of a remitted case: IL22, granted, same person, 30-200 days later."""
        rng = self.rng
        cpr, dec, app = remitted
        new = dec + dt.timedelta(days=rng.randrange(30, 200))
        kom = rng.choice(self.kommuner)
        self.counts["IL22/GRANTED"] = self.counts.get("IL22/GRANTED", 0) + 1
        exam = pick(rng, QUALIFYING)
        return ",".join([cid, cpr, kom, "IL22", "GRANTED", q(app), fmt_date(rng, new), "", "",
                         "REFUGEE", "", "NO", exam, fmt_date(rng, rand_day(rng, EXAM_FROM, max(dec, EXAM_FROM))), "NO", ""])

    # -------------------------------------------------------- chunks
    def chunk(self, start, n):
        rng = self.rng
        ids = ["SAG-%09d" % i for i in range(start, start + n)]
        cprs = rng.choices(self.other_cprs, k=n)
        koms = rng.choices(self.kommuner, k=n)
        tails = rng.choices(self.other_tails, k=n)
        rows = [f"{i},{c},{k},OTHER,{t}" for i, c, k, t in zip(ids, cprs, koms, tails)]
        nbonus = sum(1 for _ in range(n) if rng.random() < BONUS_SHARE) if n < 1000 else round(n * BONUS_SHARE)
        positions = sorted(rng.sample(range(n), min(n, nbonus)))
        taken = set()
        for p in positions:
            if p in taken:
                continue
            row, remitted = self.bonus_row(ids[p], may_remit=p + 1 < n)
            rows[p] = row
            if remitted:        # the new decision takes the next record (an other-benefit or bonus slot)
                rows[p + 1] = self.follow_up(ids[p + 1], remitted)
                taken.add(p + 1)
        return rows


def load_kommuner(path):
    codes = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            code = line.split(",", 1)[0].strip()
            if code:
                codes.append(code)
    if len(codes) != 98:
        sys.exit(f"synth: {path}: expected 98 municipality codes, found {len(codes)}")
    return codes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="number of records (header not counted)")
    ap.add_argument("--out", required=True, help="output CSV path")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--crlf", action="store_true", help="CRLF line ends (default LF)")
    ap.add_argument("--kommuner", help="path of kommuner.csv (default: ../shared/data/kommuner.csv)")
    args = ap.parse_args()

    kpath = Path(args.kommuner) if args.kommuner else next((p for p in KOMMUNER_CANDIDATES if p.exists()), None)
    if kpath is None:
        sys.exit("synth: kommuner.csv not found beside the project (../shared/data/kommuner.csv); pass --kommuner")
    t0 = time.time()
    gen = Gen(args.seed, load_kommuner(kpath))
    nl = "\r\n" if args.crlf else "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    written = 0
    with open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 22) as f:
        f.write(",".join(HEADER) + nl)
        while written < args.rows:
            n = min(CHUNK, args.rows - written)
            rows = gen.chunk(written + 1, n)
            text = nl.join(rows) + nl
            if args.crlf:
                # line breaks inside quoted fields follow the file's line ends too
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
            f.write(text)
            written += n
    os.replace(tmp, out)
    secs = time.time() - t0
    size = out.stat().st_size
    bonus = {k: v for k, v in sorted(gen.counts.items())}
    print(f"synth: {written} rows, {size} bytes ({size / max(written, 1):.0f} B/row) in {secs:.1f} s "
          f"({written / secs:,.0f} rows/s) -> {out}; bonus rows {bonus}", file=sys.stderr)


if __name__ == "__main__":
    main()
