"""The assessment service (考核与选拔任用): grades, evaluations, tests, and the appointment notice pipeline."""
