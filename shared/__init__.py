"""Code common to every cadre-ledger service: envelope, catalogue, adapters, settings, dev stack."""
