"""What generated archives are made of: species, schema versions, modalities, ages, titles.

Tables only (no code): the values are shaped like the real archive's metadata across schema
versions 0.4.4-0.6.7, with NCBI taxon species in old and new name styles.
"""

from __future__ import annotations

from typing import Any

PRODUCTION_API = "https://api.dandiarchive.org/api"
S3 = "https://dandiarchive.s3.amazonaws.com"

# (taxon id, name since schema ~0.6.4, name in older metadata)
SPECIES = [
    ("10090", "Mus musculus - House mouse", "House mouse"),
    ("9606", "Homo sapiens - Human", "Human"),
    ("10116", "Rattus norvegicus - Norway rat", "Norway rat"),
    ("9544", "Macaca mulatta - Rhesus monkey", "Rhesus monkey"),
    ("7227", "Drosophila melanogaster - Fruit fly", "Fruit fly"),
    ("6239", "Caenorhabditis elegans", "Caenorhabditis elegans"),
    ("7955", "Danio rerio - Zebra fish", "Zebra fish"),
    ("59729", "Taeniopygia guttata - Zebra finch", "Zebra finch"),
    ("9483", "Callithrix jacchus - Common marmoset", "Common marmoset"),
    ("9685", "Felis catus - Cat", "Cat"),
]
SCHEMAS = ["0.4.4", "0.6.0", "0.6.3", "0.6.4", "0.6.7"]

# What an NWB asset of each modality carries (as dandi-cli extracts it)
MODALITIES: dict[str, dict[str, Any]] = {
    "ecephys": {
        "approach": ["electrophysiological approach"],
        "technique": [
            "multi electrode extracellular electrophysiology recording technique",
            "spike sorting technique",
        ],
        "variables": ["ElectricalSeries", "ElectrodeGroup", "Units"],
        "suffix": "ecephys",
        "areas": ["CA1", "VISp", "DG", "MOp", "LGd", "area: VISp, depth: 175"],
    },
    "ophys": {
        "approach": ["microscopy approach; cell population imaging"],
        "technique": ["two-photon microscopy technique", "analytical technique"],
        "variables": ["ImagingPlane", "PlaneSegmentation", "RoiResponseSeries", "TwoPhotonSeries"],
        "suffix": "ophys",
        "areas": ["VISp", "V1", "VISl", "AL", "PM"],
    },
    "icephys": {
        "approach": ["electrophysiological approach"],
        "technique": ["patch clamp technique", "current clamp technique"],
        "variables": ["CurrentClampSeries", "CurrentClampStimulusSeries", "VoltageClampSeries"],
        "suffix": "icephys",
        "areas": ["MOp", "SSp", "CA3"],
    },
    "behavior": {
        "approach": ["behavioral approach"],
        "technique": ["behavioral technique"],
        "variables": ["Position", "SpatialSeries", "BehavioralEvents"],
        "suffix": "behavior",
        "areas": [],
    },
}
EXTRA_KINDS = ["video", "bids-microscopy", "bids-mri"]
SEXES = [
    ("http://purl.obolibrary.org/obo/PATO_0000384", "Male"),
    ("http://purl.obolibrary.org/obo/PATO_0000383", "Female"),
    ("http://purl.obolibrary.org/obo/PATO_0000461", "Unknown"),
]
AGES = ["P90D", "P105.0D", "P90DT0H0M0S", "P2Y", "P8M/P10M", "P60D/", "P3W"]
UBERON = [
    ("UBERON:0001384", "Primary motor cortex"),
    ("UBERON:0002436", "Primary visual cortex"),
    ("UBERON:0003881", "CA1 field of hippocampus"),
]


TITLES = {
    "ecephys": "Hippocampal and visual cortex units during navigation",
    "ophys": "Two-photon calcium imaging in mouse visual cortex",
    "icephys": "Patch-clamp recordings of motor cortex neurons",
    "behavior": "Head-fixed behavior and position tracking",
    "video": "Tracking of Drosophila during egg-laying decisions",
    "bids-microscopy": "Light sheet imaging of cleared brain tissue",
    "bids-mri": "MRI of ex vivo brainstem",
}
