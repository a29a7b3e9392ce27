"""Vocabularies that make search understand the field: species, modalities, brain areas."""
