"""The ledger service: consumes every event, appends it to PostgreSQL, proves it, answers auditors."""
