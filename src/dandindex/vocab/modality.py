"""One modality vocabulary, derived from approach, technique, neurodata types and formats.

Each modality is a SQL predicate over an asset row (`a`) and its NWB types (`t.types`: the
neurodata types of the file with all their ancestors, so a subtype of ElectricalSeries is
ecephys and a VoltageClampSeries, a PatchClampSeries, is icephys).
"""

from __future__ import annotations

from dandindex.errors import UsageError, hint

# neurodata types (or ancestors) that make an asset belong to a modality
TYPES: dict[str, list[str]] = {
    "ecephys": [
        "ElectricalSeries",
        "SpikeEventSeries",
        "LFP",
        "FilteredEphys",
        "EventWaveform",
        "Units",
        "ElectrodeGroup",
    ],
    "icephys": [
        "PatchClampSeries",
        "IntracellularElectrode",
        "SweepTable",
        "IntracellularRecordingsTable",
    ],
    "ophys": [
        "TwoPhotonSeries",
        "OnePhotonSeries",
        "ImagingPlane",
        "PlaneSegmentation",
        "RoiResponseSeries",
        "Fluorescence",
        "DfOverF",
    ],
    "behavior": [
        "SpatialSeries",
        "Position",
        "BehavioralEvents",
        "BehavioralEpochs",
        "BehavioralTimeSeries",
        "PupilTracking",
        "EyeTracking",
        "CompassDirection",
        "PoseEstimation",
    ],
    "optogenetics": ["OptogeneticSeries", "OptogeneticStimulusSite"],
    "fiber-photometry": [
        "FiberPhotometry",
        "FiberPhotometryResponseSeries",
        "FiberPhotometryTable",
    ],
}
# words in approach / measurement technique (lower-cased regex)
WORDS: dict[str, str] = {
    "ecephys": r"extracellular|spike sorting|multi electrode|multi-electrode|electrophysiological approach",
    "icephys": r"patch clamp|current clamp|voltage clamp|intracellular",
    "ophys": r"cell population imaging|two-photon|calcium imaging|fluorescence microscopy",
    "behavior": r"behavioral",
    "microscopy": r"light sheet|histolog|electron microscopy|confocal|spim",
    "mri": r"magnetic resonance|\bmri\b",
    "eeg": r"electroencephalograph",
    "ieeg": r"intracranial|electrocorticograph",
    "optogenetics": r"optogenetic",
    "fiber-photometry": r"photometry",
}
# path / format patterns
FORMATS: dict[str, str] = {
    "video": r"^video/",
    "microscopy": r"^image/|ome\.zarr$|ome\.tiff?$|_(spim|micr|sample-)",
    "mri": r"\.nii(\.gz)?$|_(t1w|t2w|bold|dwi)\.",
    "eeg": r"_eeg\.(edf|bdf|set|vhdr)$",
    "ieeg": r"_ieeg\.",
}
# what a file's header or its BIDS folder says (file_summaries: format, bids_datatype)
FILE_FORMATS: dict[str, list[str]] = {
    "microscopy": ["ome-zarr", "ome-tiff"],
    "video": ["video"],
}
BIDS_DATATYPES: dict[str, list[str]] = {
    "microscopy": ["micr"],
    "mri": ["anat", "func", "dwi", "fmap", "perf"],
    "eeg": ["eeg"],
    "ieeg": ["ieeg"],
    "behavior": ["beh", "motion"],
    "ecephys": ["ecephys"],
    "icephys": ["icephys"],
}
MODALITIES = sorted(
    set(TYPES) | set(WORDS) | set(FORMATS) | set(FILE_FORMATS) | set(BIDS_DATATYPES)
)
ALIASES = {
    "ephys": "ecephys",
    "extracellular": "ecephys",
    "electrophysiology": "ecephys",
    "intracellular": "icephys",
    "patch-clamp": "icephys",
    "patch clamp": "icephys",
    "calcium imaging": "ophys",
    "two-photon": "ophys",
    "2p": "ophys",
    "imaging": "ophys",
    "optical physiology": "ophys",
    "behaviour": "behavior",
    "photometry": "fiber-photometry",
    "opto": "optogenetics",
    "ecog": "ieeg",
    "seeg": "ieeg",
    "images": "microscopy",
}


def _quote_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def predicate(modality: str) -> str:
    """SQL predicate for one modality over `a` (assets), `t` (asset_types) and `fs`
    (file_summaries: the format a header showed, the BIDS datatype folder)."""
    parts = []
    if modality in TYPES:
        parts.append(f"list_has_any(coalesce(t.types, []), {_quote_list(TYPES[modality])})")
        parts.append(f"list_has_any(a.variable_measured, {_quote_list(TYPES[modality])})")
    if modality in WORDS:
        rx = WORDS[modality].replace("'", "''")
        parts.append(
            "regexp_matches(lower(array_to_string(list_concat(a.approach, a.measurement_technique), ' | ')), "
            f"'{rx}')"
        )
    if modality in FORMATS:
        rx = FORMATS[modality].replace("'", "''")
        parts.append(f"regexp_matches(lower(coalesce(a.encoding_format, '')), '{rx}')")
        parts.append(f"regexp_matches(lower(a.path), '{rx}')")
    if modality in FILE_FORMATS:
        parts.append(
            f"coalesce(list_contains({_quote_list(FILE_FORMATS[modality])}, fs.format), false)"
        )
    if modality in BIDS_DATATYPES:
        parts.append(
            f"coalesce(list_contains({_quote_list(BIDS_DATATYPES[modality])}, fs.bids_datatype), false)"
        )
    return "(" + " OR ".join(parts) + ")"


def modalities_expr() -> str:
    """SQL list of every modality an asset row belongs to."""
    cases = ", ".join(f"CASE WHEN {predicate(m)} THEN '{m}' END" for m in MODALITIES)
    return f"list_filter([{cases}], lambda x: x IS NOT NULL)"


def resolve_modality(term: str) -> str:
    low = term.strip().lower()
    if low in MODALITIES:
        return low
    if low in ALIASES:
        return ALIASES[low]
    raise UsageError(
        f"Unknown modality {term!r}. Known: {', '.join(MODALITIES)}."
        + hint(low, MODALITIES + list(ALIASES))
    )
