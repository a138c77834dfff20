#!/usr/bin/env python3
"""Generates tests/engine/model/fixtures/cron_reference.json, the reference next-fire times that
tests/engine/model/cron_next_test.cpp checks the C++ cron scheduler against.

The reference is deliberately naive so that it is obviously correct: starting one minute after
the start instant it steps through every UTC minute, converts it to local wall-clock time with
Python's zoneinfo and asks whether the local time matches the cron fields. A fire time is
therefore a UTC instant whose local time matches: local times inside a DST gap never occur and
never fire, and a local time that occurs twice in an overlap fires twice. The field matching is
written here from the cron rules, independently of the C++ parser.

Only 5-field expressions and macros: stepping every second for 6-field expressions would be too
slow; the seconds field is covered by hand-checked unit tests.

Standard library only. Run from anywhere: python3 scripts/gen_cron_fixture.py
"""

import datetime as dt
import json
import pathlib
import sys
import time
from zoneinfo import ZoneInfo

FIRES_PER_CASE = 5
HORIZON_DAYS = 400  # per case; a case may record fewer than FIRES_PER_CASE fires

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def value(text, names, base):
    text = text.lower()
    if names and text in names:
        return names.index(text) + base
    return int(text)


def field_set(text, lo, hi, names=None, base=0):
    """The set of values a field allows, plus whether it contains `L`."""
    allowed, last = set(), False
    for item in text.split(","):
        if item.lower() == "l":
            last = True
            continue
        rng, step = item, 1
        if "/" in item:
            rng, step_text = item.split("/")
            step = int(step_text)
        if rng in ("*", "?"):
            start, end = lo, hi
        elif "-" in rng:
            a, b = rng.split("-")
            start, end = value(a, names, base), value(b, names, base)
        else:
            start = value(rng, names, base)
            end = hi if "/" in item else start  # "5/15": from 5 to the end of the range
        allowed.update(range(start, end + 1, step))
    return allowed, last


class Cron:
    def __init__(self, expr):
        text = MACROS.get(expr.lower(), expr)
        minute, hour, dom, month, dow = text.split()
        self.minutes, _ = field_set(minute, 0, 59)
        self.hours, _ = field_set(hour, 0, 23)
        self.doms, self.last = field_set(dom, 1, 31)
        self.months, _ = field_set(month, 1, 12, MONTHS, 1)
        dows, _ = field_set(dow, 0, 6, DAYS, 0)
        self.dows = {d % 7 for d in dows}  # 7 is Sunday too
        # Vixie cron: a day field is "restricted" unless it starts with `*` (or `?`); when both
        # day fields are restricted, a day matching either one fires.
        self.dom_restricted = dom[0] not in "*?"
        self.dow_restricted = dow[0] not in "*?"

    def matches(self, t):
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        next_month_first = (t.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last_day = (next_month_first - dt.timedelta(days=1)).day
        dom_ok = t.day in self.doms or (self.last and t.day == last_day)
        dow_ok = (t.weekday() + 1) % 7 in self.dows  # Python: Monday is 0; cron: Sunday is 0
        if self.dom_restricted and self.dow_restricted:
            return dom_ok or dow_ok
        return dom_ok and dow_ok


def reference(expr, zone, start_utc):
    cron, tz = Cron(expr), ZoneInfo(zone)
    fires = []
    t = start_utc + dt.timedelta(minutes=1)  # strictly after the start
    until = start_utc + dt.timedelta(days=HORIZON_DAYS)
    step = dt.timedelta(minutes=1)
    while t < until and len(fires) < FIRES_PER_CASE:
        local = t.astimezone(tz)
        if cron.matches(local):
            fires.append(local.isoformat())
        t += step
    return fires, until


def iso_z(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# Start instants (local midnight, a day or so before a DST change where the zone has one).
STARTS = {
    "UTC": ["2026-03-28"],
    "Europe/Berlin": ["2026-03-23", "2026-03-28", "2026-10-24", "2027-03-27"],
    "America/New_York": ["2026-03-07", "2026-10-31"],
    "Australia/Sydney": ["2026-04-04", "2026-10-03"],
    "Asia/Kolkata": ["2026-03-28"],
    "America/St_Johns": ["2026-03-07", "2026-10-31"],
    # Changes at local midnight: on 2026-09-06 the day starts at 01:00, so @daily has no 00:00.
    "America/Santiago": ["2026-04-03", "2026-09-04"],
    # A half-hour DST shift.
    "Australia/Lord_Howe": ["2026-04-04", "2026-10-03"],
}

# Frequent patterns run against every start; they find 5 fires within days or weeks.
FREQUENT = [
    "0 9 * * MON",
    "30 2 * * *",
    "0 2 * * *",
    "0 3 * * *",
    "59 1 * * *",
    "0 */6 * * *",
    "*/15 * * * *",
    "*/20 1-3 * * *",
    "5/20 0-3 * * *",
    "0 9 * * 1-5",
    "0 0 * * SUN",
    "30 1 * * sun,7",
    "@daily",
    "@hourly",
    "@weekly",
    "0 9 13 * FRI",
    "0 8-18/4 * * MON-FRI",
    "0 0,12 * JAN-MAR,OCT-DEC *",
]
# Monthly patterns take months of minutes per case: fewer starts.
MONTHLY = ["0 0 L * *", "0 12 1,15 * *", "@monthly", "45 23 L * *", "0 2 L * *"]
MONTHLY_STARTS = {
    "UTC": ["2026-03-28"],
    "Europe/Berlin": ["2026-03-28", "2026-10-24"],
    "America/New_York": ["2026-10-31"],
    "Australia/Sydney": ["2026-10-03"],
    "Asia/Kolkata": ["2026-03-28"],
    "America/Santiago": ["2026-08-25"],
}
# Yearly patterns: a start shortly before the date, within the horizon.
RARE = [
    ("0 0 29 2 *", "UTC", "2027-12-01"),
    ("0 0 29 2 *", "Europe/Berlin", "2027-06-01"),
    ("0 0 29 2 *", "America/New_York", "2027-12-01"),
    ("@yearly", "Australia/Sydney", "2026-12-01"),
    ("@annually", "UTC", "2026-12-01"),
    ("0 0 30 2 *", "UTC", "2026-01-01"),  # never: records no fires
    # Starting inside an overlap (an explicit offset picks the occurrence).
    ("*/20 * * * *", "Europe/Berlin", "2026-10-25T02:45:00+02:00"),
    ("30 2 * * *", "Europe/Berlin", "2026-10-25T02:45:00+02:00"),
    ("30 2 * * *", "Europe/Berlin", "2026-10-25T02:15:00+01:00"),
    ("0 * * * *", "America/New_York", "2026-11-01T01:30:00-04:00"),
    ("15 1 * * *", "America/New_York", "2026-11-01T01:20:00-04:00"),
]


def main():
    began = time.monotonic()
    cases = []

    def add(expr, zone, day):
        if "T" in day:  # an instant with its offset
            start = dt.datetime.fromisoformat(day).astimezone(ZoneInfo(zone))
        else:  # local midnight
            start = dt.datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone))
        start_utc = start.astimezone(dt.timezone.utc)
        fires, until = reference(expr, zone, start_utc)
        cases.append({"expr": expr, "zone": zone, "from": start.isoformat(),
                      "until": iso_z(until), "next": fires})

    for zone, days in STARTS.items():
        for day in days:
            for expr in FREQUENT:
                add(expr, zone, day)
    for zone, days in MONTHLY_STARTS.items():
        for day in days:
            for expr in MONTHLY:
                add(expr, zone, day)
    for expr, zone, day in RARE:
        add(expr, zone, day)

    out = pathlib.Path(__file__).resolve().parent.parent / \
        "tests/engine/model/fixtures/cron_reference.json"
    doc = {
        "generated_by": "scripts/gen_cron_fixture.py",
        "semantics": "next fire times strictly after `from`, at most %d within %d days (until); "
                     "every UTC minute converted to local time with zoneinfo and matched"
                     % (FIRES_PER_CASE, HORIZON_DAYS),
        "cases": cases,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print("%d cases written to %s in %.1fs" % (len(cases), out, time.monotonic() - began),
          file=sys.stderr)


if __name__ == "__main__":
    main()
