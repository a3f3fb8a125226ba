"""Receipts and credit notes: one for every confirmed payment, one for every completed refund.

- ``models``: the documents (a snapshot of everything printed on them) and the counters.
- ``numbering``: gap-free numbers, allocated in the database inside the caller's transaction.
- ``documents``: issuing (subscribed to the domain's signals), finding, file names.
- ``pdf``: the PDF itself, in the client's language (fpdf2, DejaVu Sans from ``static/fonts``).
- ``views``: ``/<lang>/booking/<ref>/receipt.pdf`` and ``credit-note.pdf``.
"""
