"""Movie metadata: provider responses mapped to our fields, and the merge rules."""
