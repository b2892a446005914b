"""Reports for analysts and recall officers: the weekly hazard report, the quarterly statistical
summary, and the shared building blocks (alert context, charts, risk levels, safe CSV) that the
evidence packs and notices reuse.

Everything here reads the warehouse and writes files; nothing here writes to the warehouse.
"""
