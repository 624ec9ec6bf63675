"""The transport-neutral service core shared by every northbound."""
