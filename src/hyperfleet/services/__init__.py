"""Use cases: own the transaction, raise hyperfleet.errors, no SQL, no HTTP."""
