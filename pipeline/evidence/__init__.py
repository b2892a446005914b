"""Evidence packs for recall officers: deterministic zips with a verifiable manifest."""
