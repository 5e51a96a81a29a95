#!/usr/bin/env python3
"""Regenerate inwoners.tsv: the number of inhabitants per municipality (342 gemeenten, 2025).

Usage: python3 crates/loket-core/data/gen_inwoners.py [/work/shared]
Reads the project's copy of the sources (shared/data, see its SOURCES.md); standard library only.
The method and its weaknesses are described in README.md next to this script.
"""
import csv
import os
import sys
from collections import defaultdict

SHARED = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
D = os.path.join(SHARED, "data")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inwoners.tsv")

# An ADM2 figure below this share of the municipality's largest populated place cannot be right
# (a municipality has at least the inhabitants of each of its places); only Leeuwarden trips it.
PLAUSIBLE_SHARE_OF_LARGEST_PLACE = 0.5


def csv_rows(path, **kw):
    with open(os.path.join(D, path), encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f, **kw)


gemeenten = {r["gemeentecode"]: r["gemeentenaam"] for r in csv_rows("gemeenten/gemeenten_2025.csv")}
assert len(gemeenten) == 342, len(gemeenten)

# GeoNames administrative divisions of the second order: ADM2 (current) and ADM2H (historical)
# carry the municipality's population; admin2 code = 4-digit CBS code.
adm2 = {}
with open(os.path.join(D, "plaatsen/geonames_dump/NL.txt"), encoding="utf-8") as f:
    for line in f:
        c = line.rstrip("\n").split("\t")
        if c[7] in ("ADM2", "ADM2H") and c[11]:
            adm2["GM" + c[11]] = {
                "id": c[0],
                "code": c[7],
                "pop": int(c[14] or 0),
                "date": c[18],
            }

# GeoNames populated places (neighbourhoods excluded: they lie inside places).
place_sum = defaultdict(int)
place_count = defaultdict(int)
place_max = defaultdict(int)
for r in csv_rows("plaatsen/geonames_plaatsen_nl.csv"):
    code = r["gemeentecode"]
    if r["feature_code"] == "PPLX" or not code or not r["inwoners_geonames"]:
        continue
    p = int(float(r["inwoners_geonames"]))
    if p > 0:
        place_sum[code] += p
        place_count[code] += 1
        place_max[code] = max(place_max[code], p)

# Begin dates of current codes, and municipalities that ended with their successors.
begin = {
    "GM" + r["gemeentecode"]: r["begindatum"]
    for r in csv_rows("gemeenten/gemeentelijke-indeling.csv", delimiter=";")
    if not r["einddatum"]
}
predecessors = defaultdict(list)  # successor -> [(old code, old name, end date, number of successors)]
for r in csv_rows("gemeenten/gemeenten_opgeheven_sinds_2010.csv"):
    successors = r["opvolger_gemeentecode"].split("|")
    for s in successors:
        predecessors[s].append((r["oude_gemeentecode"], r["oude_gemeentenaam"], r["einddatum"], len(successors)))


def adm2_pop(code):
    a = adm2.get(code)
    return a["pop"] if a else 0


def figure(code):
    """(inhabitants, source text) for one current municipality."""
    own = adm2.get(code)
    direct = [p for p in predecessors.get(code, []) if p[2] >= begin.get(code, "9999")]
    if own and own["pop"] > 0:
        if own["pop"] < PLAUSIBLE_SHARE_OF_LARGEST_PLACE * place_max[code]:
            return (
                place_sum[code],
                f"GeoNames: som van {place_count[code]} bewoonde plaatsen "
                f"(gemeentecijfer ADM2 {own['id']} = {own['pop']} onwaarschijnlijk laag)",
            )
        total, src = own["pop"], f"GeoNames ADM2 {own['id']}"
        # A merger into a continuing municipality that GeoNames has not processed yet: the ended
        # municipality is still a current ADM2, so its inhabitants are not in the figure above.
        for old, name, end, n in predecessors.get(code, []):
            a = adm2.get(old)
            if a and a["code"] == "ADM2" and a["pop"] > 0 and n == 1:
                total += a["pop"]
                src += f" + ADM2 {a['id']} ({name}, opgeheven {end})"
        return total, src
    # A new municipality without a figure of its own: the sum of the municipalities it replaced.
    parts, total = [], 0
    for old, name, end, n in direct:
        p = adm2_pop(old)
        if p <= 0:
            parts = []
            break
        share = round(p / n)
        total += share
        parts.append(f"{name} {adm2[old]['code']} {adm2[old]['id']}" + (f" (1/{n}, gesplitst)" if n > 1 else ""))
    if parts:
        return total, "GeoNames: som van opgeheven voorgangers: " + "; ".join(parts)
    return place_sum[code], f"GeoNames: som van {place_count[code]} bewoonde plaatsen"


with open(OUT, "w", encoding="utf-8", newline="") as f:
    f.write("gemeentecode\tnaam\tinwoners\tbron\n")
    for code in sorted(gemeenten):
        n, src = figure(code)
        assert n > 0, (code, gemeenten[code])
        f.write(f"{code}\t{gemeenten[code]}\t{n}\t{src}\n")
print(f"wrote {OUT}")
