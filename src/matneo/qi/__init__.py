"""Quality improvement collaborative: projects whose measures fill themselves.

``core`` is pure (aim statements, entry validation, CSV import, the progress scale and the
suggestion computed from the data); ``actions`` writes, each change with its audit event in one
transaction; ``queries`` reads what a user may see. Documented in ``docs/qi.md``.
"""
