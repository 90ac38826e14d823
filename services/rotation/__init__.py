"""The rotation service: the cadre registry, postings, probation and rotation rules (任用与交流)."""
