"""Brain areas, species and modalities as labs actually write them.

The parser table holds at least three rows for every class of location string real files
carry (each row: a string and the Allen acronyms it names, or none); the end-to-end tests write
NWB files with such strings, crawl them from the local archive and check what search finds.
"""

from __future__ import annotations

import pytest

from dandindex.errors import DandindexError
from dandindex.vocab import areas as A
from dandindex.vocab.species import HeldSpecies, resolve_species
from dandindex.vocab.taxon import normalize_taxon

NONE: set[str] = set()
PARSER_TABLE: dict[str, list[tuple[str, set[str], str | None]]] = {
    "hemisphere and side qualifiers": [
        ("Left CA3", {"CA3"}, "left"),
        ("CA3_right", {"CA3"}, "right"),
        ("R VISp", {"VISp"}, "right"),
        ("contralateral LGd", {"LGd"}, "contralateral"),
        ("CA1 (left)", {"CA1"}, "left"),
        ("hippocampus_left", {"HIP"}, "left"),
        ("left hemisphere CA1", {"CA1"}, "left"),
    ],
    "several areas in one string": [
        ("CA1, CA3", {"CA1", "CA3"}, None),
        ("VISp/VISl", {"VISp", "VISl"}, None),
        ("MOp;MOs", {"MOp", "MOs"}, None),
        ("CA1 and DG", {"CA1", "DG"}, None),
        ("VISp,VISrl,VISlm,VISal", {"VISp", "VISrl", "VISl", "VISal"}, None),
        ("Left ALM, Right ALM", {"MOs"}, "bilateral"),
    ],
    "Python-dict and JSON strings": [
        ("{'area': 'CA1', 'depth': 300}", {"CA1"}, None),
        ('{"location": "VISp"}', {"VISp"}, None),
        ("{'area': 'VISp', 'depth': '175'}", {"VISp"}, None),
        ('{"Brain_Area": "barrel cortex", "Brain_Hemisphere": "left"}', {"SSp-bfd"}, "left"),
        ('{"subject_id": 462458, "genotype": "wt"}', NONE, None),
    ],
    "key/value strings": [
        ("region=CA1 | depth=200", {"CA1"}, None),
        ("brain_area: CA1; hemisphere: left; full_name: Field CA1", {"CA1"}, "left"),
        ("area: VISp, depth: 175", {"VISp"}, None),
        (
            "brain_region: barrel; brain_subregion: C2; cortical_layer: 5; hemisphere: left; "
            "brain_location_full_name: S1, barrel field, Paxinos; depth: 637.00",
            {"SSp-bfd5"},
            "left",
        ),
        (
            "brain_region: Thalamus; brain_subregion: N/A; cortical_layer: N/A; hemisphere: "
            "left; coordinate_ref: bregma; coordinate_ap: 2.50; coordinate_ml: -1.50",
            {"TH"},
            "left",
        ),
    ],
    "lab abbreviations": [
        ("mPFC", {"PL", "ILA", "ACA"}, None),
        ("OFC", {"ORB"}, None),
        ("ACC", {"ACA"}, None),
        ("RSC", {"RSP"}, None),
        ("PPC", {"PTLp"}, None),
        ("SNr", {"SNr"}, None),
        ("VPM", {"VPM"}, None),
        ("LGN", {"LGd"}, None),
        ("dCA1", {"CA1"}, None),
        ("vHPC", {"HIP"}, None),
        ("S1BF", {"SSp-bfd"}, None),
        ("wS1", {"SSp-bfd"}, None),
        ("PrL", {"PL"}, None),
        ("IL", {"ILA"}, None),
        ("NAc", {"ACB"}, None),
        ("ALM", {"MOs"}, None),
    ],
    "layers and sub-layers": [
        ("VISp L2/3", {"VISp2/3"}, None),
        ("SSp-bfd layer 4", {"SSp-bfd4"}, None),
        ("MOs5", {"MOs5"}, None),
        ("VISp layer 2/3", {"VISp2/3"}, None),
        ("MOs L5", {"MOs5"}, None),
    ],
    "case, spacing and hyphen variants": [
        ("visp", {"VISp"}, None),
        ("ssp bfd", {"SSp-bfd"}, None),
        ("Primary somatosensory area, barrel field", {"SSp-bfd"}, None),
        ("primary visual area", {"VISp"}, None),
        ("  CA1  ", {"CA1"}, None),
    ],
    "non-mouse recordings": [
        ("hippocampus", {"HIP"}, None),
        ("Left amygdala", {"LA", "BLA", "BMA", "CEA", "MEA", "COA"}, "left"),
        ("anterior cingulate", {"ACA"}, None),
        ("V1", {"VISp"}, None),
        ("entorhinal cortex", {"ENT"}, None),
        ("dorsal_anterior_cingulate_cortex_right", {"ACAd"}, "right"),
        ("Hipp, Right Hippocampus cHipp, caudal hippocampus", {"HIP"}, None),
        ("Medial Temporal Lobe", {"HPF"}, None),
    ],
    "free text naming an area": [
        (
            "pyramidal cell layer, middle portion of hippocampus (intermediate between septal "
            "and temporal poles of preparation)",
            {"HIP"},
            None,
        ),
        ("supragranular layer, S1, barrel subfield region", {"SSp-bfd"}, None),
        ("Primary motor cortex (M1), area 4, arm area", {"MOp"}, None),
    ],
}
PLACEHOLDERS = [
    "unknown",
    "none",
    "None",
    "N/A",
    "n.a.",
    "",
    "   ",
    "root",
    "soma",
    "Soma",
    "dendrite",
    "AP: -2.0, ML: 1.5",
    "AP:-4.2mm,ML:+3.0mm,DV:-2.2mm",
    "bpy.context.scene.location",
    "brain area",
    "somewhere in the brain",
    "See electrode locations",
    "grey",
    "void",
    "unspecific",
    "175",
]
# neither an area nor a placeholder: kept as raw text, never mapped
RAW = [
    "Springfield Elementary School",
    "MTG, Right Middle Temporal Gyrus A21c, caudal area 21",
    "Whole Worm",
    "head ganglia",
    "Broca's Area",
    "Location A",
]


@pytest.mark.parametrize(
    ("text", "acronyms", "side"),
    [row for rows in PARSER_TABLE.values() for row in rows],
    ids=[f"{k}: {r[0][:40]}" for k, rows in PARSER_TABLE.items() for r in rows],
)
def test_location_strings_as_labs_write_them(text, acronyms, side):
    parsed = A.parse_location(text)
    assert {s.acronym for s in parsed.areas} == acronyms
    assert parsed.hemisphere == side
    assert not parsed.placeholder


def test_every_class_has_at_least_three_rows():
    assert len(PARSER_TABLE) >= 5, "the parser table lost its classes"
    assert all(len(rows) >= 3 for rows in PARSER_TABLE.values())
    assert len(PLACEHOLDERS) >= 3 and len(RAW) >= 3


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_placeholders_and_non_areas_never_map(text):
    parsed = A.parse_location(text)
    assert parsed.areas == () and parsed.placeholder


@pytest.mark.parametrize("text", RAW)
def test_strings_outside_the_atlas_stay_raw(text):
    parsed = A.parse_location(text)
    assert parsed.areas == () and not parsed.placeholder


def test_the_alias_table_is_data_with_sources_and_real_acronyms():
    import csv

    with open(A.ALIASES_CSV, encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert len(rows) > 100
    known = {s.acronym for s in A.structures()}
    for row in rows:
        assert row["source"].strip(), row
        assert row["kind"] in ("alias", "placeholder", "compartment"), row
        assert (row["kind"] == "alias") == bool(row["acronyms"].split()), row
        assert set(row["acronyms"].split()) <= known, row
        if row["kind"] != "alias":
            assert A.parse_location(row["term"]).placeholder, row


# -- species ----------------------------------------------------------------------------------

HELD = [
    HeldSpecies(
        "http://purl.obolibrary.org/obo/NCBITaxon_59729", "Taeniopygia guttata - Zebra finch", 9
    ),
    HeldSpecies("http://purl.obolibrary.org/obo/NCBITaxon_9913", "Bos taurus - Cattle", 18),
    HeldSpecies("http://purl.obolibrary.org/obo/NCBITaxon_28584", "Drosophila suzukii", 29),
    HeldSpecies("http://purl.obolibrary.org/obo/NCBITaxon_10090", "House mouse", 101),
]


@pytest.mark.parametrize(
    ("term", "taxon"),
    [
        ("Taeniopygia guttata", "59729"),
        ("zebra finch", "59729"),
        ("Zebra Finches", "59729"),
        ("59729", "59729"),
        ("NCBITaxon:59729", "59729"),
        ("Bos taurus", "9913"),
        ("cattle", "9913"),
        ("Drosophila suzukii", "28584"),
        ("mice", "10090"),
        ("house mice", "10090"),
        ("Mus musculus", "10090"),
        ("humans", "9606"),
        ("rats", "10116"),
        ("fruit flies", "7227"),
    ],
)
def test_species_resolve_from_dandi_and_from_the_data(term, taxon):
    assert resolve_species(term, HELD) == f"http://purl.obolibrary.org/obo/NCBITaxon_{taxon}"


def corpus_species() -> list[HeldSpecies]:
    """Every species (name, taxon) the real corpus's metadata names, dandisets' and assets'."""
    import json

    from conftest import need_corpus

    out: dict[tuple[str, str], int] = {}

    def walk(x: object) -> None:
        if isinstance(x, dict):
            ident = str(x.get("identifier") or "")
            named = x.get("schemaKey") == "SpeciesType" or "NCBITaxon" in ident
            if named and x.get("name") and ident:
                key = (str(x["name"]), normalize_taxon(ident) or ident)
                out[key] = out.get(key, 0) + 1
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for f in sorted(need_corpus().rglob("*.json*")):
        text = f.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines() if f.suffix == ".jsonl" else [text]:
            try:
                walk(json.loads(line))
            except ValueError:
                continue
    return [HeldSpecies(uri, name, n) for (name, uri), n in sorted(out.items())]


def forms(name: str) -> list[str]:
    """A stored species name as people type it: whole, Latin, each common name, any case,
    singular and plural."""
    from dandindex.vocab.species import plural

    parts = [p.strip() for p in name.split(" - ")]
    out = [name, name.upper(), name.lower()]
    for p in parts:
        out += [p, p.lower(), p.title()]
        words = p.split()
        if p is not parts[0] and words:
            out.append(" ".join(words[:-1] + [plural(words[-1].lower())]))
    return list(dict.fromkeys(o for o in out if o))


def test_every_species_of_the_corpus_and_dandi_table_resolves_in_every_form():
    """Every species string of ../shared's metadata and of dandi-cli's table, in every form,
    names its taxon; so do its id, CURIE and URI, and the head noun of its common name."""
    from dandindex.vocab.species import genus, heads, known_species, resolve_species_all, vocabulary

    held = corpus_species()
    assert len({h.uri for h in held}) >= 10, "the corpus should name many species"
    table = [HeldSpecies(s.uri, s.name, 0) for s in known_species()]
    checked = 0
    for h in [*held, *table]:
        assert h.name is not None
        tid = h.uri.rsplit("_", 1)[-1]
        for term in [*forms(h.name), tid, f"NCBITaxon:{tid}", h.uri]:
            assert h.uri in resolve_species_all(term, held), (term, h)
            checked += 1
    for sp in vocabulary(held):
        for head in heads(sp):  # a head noun names at least this species (maybe more)
            found = resolve_species_all(head, held)
            assert sp.uri in found or any(
                genus(o) == genus(sp) or head in o.names for o in vocabulary(held) if o.uri in found
            ), (head, sp.name, found)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    ("word", "want"),
    [
        ("macaque", {"9544", "9545"}),  # every Macaca held: Rhesus *monkey* too
        ("macaques", {"9544", "9545"}),
        ("monkey", {"9544", "9545"}),
        ("marmoset", {"9483"}),
        ("worm", {"6239"}),  # Caenorhabditis elegans - Roundworm
        ("crayfish", {"6728"}),  # Procambarus clarkii - Red swamp crayfish
        ("rabbit", {"9986"}),  # stored as "Oryctolagus cuniculus - Rabbits"
        ("Macaca", {"9544", "9545"}),
        ("fly", {"7227", "28584"}),  # fruit fly, and the other Drosophila held
    ],
)
def test_species_as_people_say_them(word, want):
    from dandindex.vocab.species import resolve_species_all

    held = [
        *corpus_species(),
        HeldSpecies(
            "http://purl.obolibrary.org/obo/NCBITaxon_9986", "Oryctolagus cuniculus - Rabbits", 4
        ),
    ]
    got = {u.rsplit("_", 1)[-1] for u in resolve_species_all(word, held)}
    assert got == want


def test_species_strings_of_the_real_nwb_files_resolve():
    """subject.species as the writers of ../shared/nwb stored it ("Homo Sapiens.",
    "transgenic mouse"): each names the taxon its Latin name or common noun does."""
    import json

    from dandindex.vocab.species import resolve_species_all

    from conftest import need_shared_nwb

    manifest = json.loads((need_shared_nwb() / "manifest.json").read_text())
    stored = {
        str(f["subject"]["species"])
        for f in manifest
        if isinstance(f.get("subject"), dict) and f["subject"].get("species")
    }
    assert len(stored) >= 3
    assert "None" in stored  # a writer stored the placeholder: it names no species
    with pytest.raises(DandindexError):
        resolve_species_all("None")
    for text in stored - {"None"}:
        key = text.lower().strip(" .").split()[-1]
        want = {"musculus": "10090", "mouse": "10090", "sapiens": "9606", "norvegicus": "10116"}
        found = {u.rsplit("_", 1)[-1] for u in resolve_species_all(text)}
        assert found == {want[key]}, text


def test_a_word_naming_several_species_says_which():
    from dandindex.vocab.species import species_note

    held = corpus_species()
    note = species_note("macaque", held)
    assert note and "Macaca mulatta - Rhesus monkey" in note and "Macaca nemestrina" in note
    assert species_note("mouse", held) is None


def test_species_outside_dandi_table_need_the_data():
    with pytest.raises(DandindexError):
        resolve_species("zebra finch")  # dandi-cli's table alone does not know it


def test_unknown_species_lists_the_closest_held_ones_with_counts():
    with pytest.raises(DandindexError) as e:
        resolve_species("zebra fnch", HELD)
    assert "Closest species in this index" in str(e.value)
    assert "Taeniopygia guttata - Zebra finch (9 assets)" in str(e.value)


# -- end to end: real files, a real crawl, search ------------------------------------------------

LOCATED = {
    "two_areas": (["CA1, CA3"] * 4, None),
    "human_hippocampus": (
        ["hippocampus_left", "hippocampus_right"],
        ("9606", "Homo sapiens - Human"),
    ),
    "dict_string": (["{'area': 'VISp', 'depth': 300}"] * 2, None),
    "key_value": (["brain_region: barrel cortex; cortical_layer: 4; hemisphere: left"], None),
    "abbreviation": (["mPFC", "mPFC"], None),
    "rat_v1": (["R V1"], ("10116", "Rattus norvegicus - Norway rat")),
    "placeholders": (["unknown", "soma"], None),
    "finch": (["HVC"], ("59729", "Taeniopygia guttata - Zebra finch")),
    "cattle": (["gyrus cinguli"], ("9913", "Bos taurus - Cattle")),
}


@pytest.fixture(scope="module")
def located_index(tmp_path_factory):
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.testing.archive import ArchiveServer
    from dandindex.testing.generate import archive_of_files
    from dandindex.testing.nwbfiles import write_located

    folder = tmp_path_factory.mktemp("located")
    files = {
        name: write_located(
            folder / "nwb" / f"{name}.nwb",
            locs,
            species=(sp[1].split(" - ")[0] if sp else "Mus musculus"),
            subject_id=name,
        )
        for name, (locs, sp) in LOCATED.items()
    }
    species = {name: sp for name, (_, sp) in LOCATED.items() if sp}
    by_asset = archive_of_files(folder / "archive", files, species=species)
    names = {aid: path.stem for aid, path in by_asset.items()}
    with ArchiveServer(folder / "archive") as srv:
        Crawler(
            CrawlOptions(
                api_url=srv.api_url, index_dir=str(folder / "index"), nwb=True, nwb_workers=2
            )
        ).run()
    return folder / "index", names


def found(located_index, **kw) -> set[str]:
    from dandindex.index import Index

    index, names = located_index
    with Index(index) as idx:
        # these files test how each file's own locations are read: file-level evidence only
        # (their dandisets' `about` gives every asset an area too; --area includes that)
        file_level = {"file_area" if k == "area" else k: v for k, v in kw.items()}
        got = {names[h.asset_id] for h in idx.search(**file_level)}
        assert got <= {names[h.asset_id] for h in idx.search(**kw)}  # --area finds them too
        return got


@pytest.mark.parametrize(
    ("kw", "want"),
    [
        ({"area": "CA3"}, {"two_areas"}),
        ({"area": "CA1"}, {"two_areas"}),
        ({"area": "hippocampus"}, {"two_areas", "human_hippocampus"}),
        ({"area": "hippocampus", "species": "human"}, {"human_hippocampus"}),
        ({"area": "Left hippocampus"}, {"two_areas", "human_hippocampus"}),
        ({"area": "VISp"}, {"dict_string", "rat_v1"}),
        ({"area": "V1", "species": "rats"}, {"rat_v1"}),
        ({"area": "barrel cortex"}, {"key_value"}),
        ({"area": "SSp"}, {"key_value"}),
        ({"area": "mPFC"}, {"abbreviation"}),
        ({"area": "PL"}, {"abbreviation"}),
        ({"area": "soma"}, {"placeholders"}),
        ({"area": "HVC"}, {"finch"}),
        ({"species": "Taeniopygia guttata"}, {"finch"}),
        ({"species": "zebra finch"}, {"finch"}),
        ({"species": "zebra finches"}, {"finch"}),
        ({"species": "59729"}, {"finch"}),
        ({"species": "cattle"}, {"cattle"}),
        ({"species": "Bos taurus"}, {"cattle"}),
    ],
    ids=lambda v: str(sorted(v)) if isinstance(v, set) else str(v),
)
def test_search_finds_exactly_the_files_a_neuroscientist_would(located_index, kw, want):
    assert found(located_index, **kw) == want


def test_unknown_species_name_the_closest_ones_the_index_holds(located_index):
    from dandindex.index import Index

    with Index(located_index[0]) as idx, pytest.raises(DandindexError) as e:
        idx.search(species="zebra fnch")
    assert "Taeniopygia guttata - Zebra finch (1 asset)" in str(e.value)


def test_coverage_and_unmapped_strings_are_visible(located_index):
    from click.testing import CliRunner

    from dandindex.cli import cli
    from dandindex.index import Index

    index, _ = located_index
    r = CliRunner().invoke(cli, ["areas", "--unmapped", "--index", str(index), "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    unmapped = {row["location"] for row in json.loads(r.stdout)}
    assert unmapped == {"HVC", "gyrus cinguli"}  # not the placeholders, not what maps
    with Index(index) as idx:
        cov = idx.info()["nwb_area_coverage"]
    mapped = sum(1 for locs, _ in LOCATED.values() if any(A.parse_location(x).areas for x in locs))
    assert cov == {
        "nwb_files": len(LOCATED),
        "with_locations": len(LOCATED),
        "with_mapped_area": mapped,
        "share_mapped": round(mapped / len(LOCATED), 4),
    }
    assert f"{mapped:,} of {len(LOCATED):,} summarised NWB files" in r.stderr


def test_species_group_by_taxon_at_dandiset_level_and_in_queries(index_dir):
    """The generated archive stores mice as 'House mouse' (old schema) and 'Mus musculus -
    House mouse' (new): counted as one species."""
    from dandindex import queries
    from dandindex.index import Index

    with Index(index_dir) as idx:
        stored = {
            r["species"]
            for r in idx.sql(
                "SELECT DISTINCT species FROM assets WHERE species_id LIKE '%_10090'"
            ).rows()
        }
        rows = queries.run(idx, "species_modality", {}).rows()
        ds = idx.search(species="mouse", level="dandiset").rows()
    assert len(stored) >= 2, "the fixture should hold both name styles"
    mouse_names = {r["species"] for r in rows if "mouse" in r["species"].lower()}
    assert mouse_names == {"Mus musculus - House mouse"}
    # one name per taxon (an asset without species of its own inherits its dandiset's)
    assert ds and all("Mus musculus - House mouse" in r["species"] for r in ds)
    assert not any("House mouse" in r["species"] for r in ds)
