"""Running configuration tree, candidate/transaction, diff, commit and persistence."""
