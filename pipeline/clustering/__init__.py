"""Hazard patterns: cases of a product category grouped by scenario, with stable ids.

- ``lexicon``: bilingual concept lexicon (Chinese / clerk English) for narratives;
- ``features``: case vectors (concepts, hashed terms, coded fields) with a frozen IDF;
- ``engine``: incremental leader clustering, stable pattern ids, the saved state;
- ``labels``: English and Chinese labels, distinctive terms, dominant mechanism and injury;
- ``patterns``: the pattern tables in the warehouse: refresh and list;
- ``quality``: hazard purity and stability measures.

See docs/coding.md.
"""
