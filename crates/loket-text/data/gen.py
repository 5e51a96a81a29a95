#!/usr/bin/env python3
"""Regenerate the compiled-in tables of loket-text from ../shared/data.

Usage: python3 crates/loket-text/data/gen.py [/work/shared]
Writes gemeenten.tsv, places.tsv, pc4.tsv, polygons.txt, sentiment.tsv,
stopwords.txt and commonwords.txt next to this script. aliases.tsv,
topics.tsv and training.jsonl are hand-written and not touched.
"""
import csv, json, os, sys
from collections import defaultdict

SHARED = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
D = os.path.join(SHARED, "data")
OUT = os.path.dirname(os.path.abspath(__file__))


def rows(path, **kw):
    with open(os.path.join(D, path), encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f, **kw)


def strip_suffix(name):
    """'Bergen (NH.)' -> 'Bergen', 'Hengelo (Gld)' -> 'Hengelo', 'Bergen L' -> 'Bergen'."""
    import re
    n = re.sub(r"\s*\([^)]*\)\s*$", "", name)
    n = re.sub(r"\s+(NB|Gld|GLD|Gn|GN|AC|L|NH|Ut|ZH|Lb|LB|O|Z|Fr|Dr|Ov|Fl|U)\.?$", "", n)
    return n.strip()


gem = {r["gemeentecode"]: r for r in rows("gemeenten/gemeenten_2025.csv")}
by_name = {r["gemeentenaam"]: c for c, r in gem.items()}

# population: sum of GeoNames populated places (not neighbourhoods) per municipality
pop = defaultdict(int)
geo = list(rows("plaatsen/geonames_plaatsen_nl.csv"))
for r in geo:
    if r["feature_code"] != "PPLX" and r["gemeentecode"] and r["inwoners_geonames"]:
        pop[r["gemeentecode"]] += int(float(r["inwoners_geonames"]))
cent = {r["gemeentecode"]: (r["lat"], r["lon"]) for r in rows("geo/gemeente_centroiden_pc4.csv")}

with open(os.path.join(OUT, "gemeenten.tsv"), "w", encoding="utf-8") as f:
    f.write("code\tnaam\tprovincie_code\tprovincie_naam\tinwoners\tlat\tlon\n")
    for c in sorted(gem):
        r = gem[c]
        p = pop.get(c, 0)
        la, lo = cent[c]
        f.write(f"{c}\t{r['gemeentenaam']}\t{r['provinciecode']}\t{r['provincienaam']}\t{p if p > 0 else ''}\t{la}\t{lo}\n")

# places.tsv: name, kind, code. Kinds (strongest first):
# G official municipality name, S official name without its (NH.)-style suffix,
# W BAG woonplaats, V woonplaats without suffix, O former municipality (since 2010),
# X GeoNames neighbourhood (PPLX), Q GeoNames place with >= 1000 inhabitants, P other GeoNames populated place, A GeoNames alternate name.
places = set()
for c, r in gem.items():
    n = r["gemeentenaam"]
    places.add((n, "G", c))
    s = strip_suffix(n)
    if s != n:
        places.add((s, "S", c))
for r in rows("woonplaatsen/woonplaatsen_gemeenten_2024.csv"):
    n = r["woonplaats"]
    places.add((n, "W", r["gemeentecode"]))
    s = strip_suffix(n)
    if s != n:
        places.add((s, "V", r["gemeentecode"]))
for r in rows("gemeenten/gemeenten_opgeheven_sinds_2010.csv"):
    for succ in r["opvolger_gemeentecode"].split("|"):
        places.add((r["oude_gemeentenaam"], "O", succ))
for r in geo:
    c = r["gemeentecode"]
    if not c:
        continue
    popn = int(float(r["inwoners_geonames"] or 0))
    kind = "X" if r["feature_code"] == "PPLX" else ("Q" if popn >= 1000 else "P")
    places.add((r["naam"], kind, c))
    for a in r["alternatieve_namen_latijns"].split("|"):
        a = a.strip()
        if len(a) >= 4 and a != r["naam"]:
            places.add((a, "A", c))
with open(os.path.join(OUT, "places.tsv"), "w", encoding="utf-8") as f:
    for n, k, c in sorted(places):
        if "\t" in n or not n:
            continue
        f.write(f"{n}\t{k}\t{c}\n")

# pc4.tsv: pc4 -> code:share (several when a PC4 spans municipalities)
pc = defaultdict(list)
for r in rows("postcodes/pc4_gemeente.csv"):
    pc[r["pc4"]].append(f"{r['gemeentecode'][2:]}:{float(r['aandeel_plaatsen']):.2f}")
with open(os.path.join(OUT, "pc4.tsv"), "w", encoding="utf-8") as f:
    for k in sorted(pc):
        f.write(f"{k}\t{','.join(pc[k])}\n")

# polygons.txt: one ring per line, "GMxxxx lon,lat lon,lat ..." in 1e-3 degrees (the source grid)
with open(os.path.join(D, "geo/gemeenten_2025.geojson"), encoding="utf-8") as f:
    gj = json.load(f)
with open(os.path.join(OUT, "polygons.txt"), "w", encoding="utf-8") as f:
    for feat in gj["features"]:
        code = feat["properties"]["code"]
        g = feat["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            ring = poly[0]
            pts = []
            for lon, lat in ring:
                p = (round(lon * 1000), round(lat * 1000))
                if not pts or pts[-1] != p:
                    pts.append(p)
            f.write(code + " " + " ".join(f"{x},{y}" for x, y in pts) + "\n")

# sentiment.tsv: lowercased form -> mean polarity over senses (Pattern averages too)
pol = defaultdict(list)
for r in rows("sentiment/nl-sentiment.csv"):
    pol[r["form"].lower()].append(float(r["polarity"]))
with open(os.path.join(OUT, "sentiment.tsv"), "w", encoding="utf-8") as f:
    for k in sorted(pol):
        v = sum(pol[k]) / len(pol[k])
        if abs(v) >= 0.1 and " " not in k:
            f.write(f"{k}\t{v:.2f}\n")

with open(os.path.join(D, "lists/stopwords/dutch_python-stop-words.txt"), encoding="utf-8") as f:
    sw = sorted({w.strip() for w in f if w.strip()})
with open(os.path.join(OUT, "stopwords.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(sw) + "\n")

# commonwords.txt: everyday Dutch words; a place name equal to one must be capitalised to count
common = set()
with open(os.path.join(D, "lists/stopwords/stopwords-iso_nl.txt"), encoding="utf-8") as f:
    common |= {w.strip().lower() for w in f if w.strip()}
common |= {k for k in pol if " " not in k}
# OpenTaal word list (Debian package wdutch, BSD / CC BY 3.0): lowercase entries only.
DICT = "/usr/share/dict/dutch"
if os.path.exists(DICT):
    with open(DICT, encoding="utf-8") as f:
        common |= {w.strip() for w in f if w.strip() and w.strip().islower()}
else:
    print("warning: install wdutch for the full common-word list")
import unicodedata
def fold(s):
    s = unicodedata.normalize("NFD", s.lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in s).split())
# Keep only words that are also place names: that is all the resolver needs.
names = {fold(n) for n, _, _ in places}
with open(os.path.join(OUT, "aliases.tsv"), encoding="utf-8") as f:
    names |= {fold(l.split("\t")[0]) for l in f if not l.startswith("#")}
common = {fold(w) for w in common} & names
with open(os.path.join(OUT, "commonwords.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(sorted(common)) + "\n")
print("ok", len(places), "places", len(pc), "pc4", len(pol), "sentiment forms")
