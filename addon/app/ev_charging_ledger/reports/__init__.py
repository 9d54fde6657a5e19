"""Reimbursement reports built on the ledger's statements.

- :mod:`.document`: one statement (person, month, optionally one vehicle) with the
  facts every format prints (header, rows in local time, totals, price basis, hash).
- :mod:`.tabular`: CSV for Excel and for machines, payroll CSV, the streamed sessions
  export.
- :mod:`.xlsx` and :mod:`.pdf`: XLSX (xlsxwriter) and PDF (fpdf2) statements.
- :mod:`.evcc`: import of evcc's session CSV export.
- :mod:`.cells`: neutralising text that a spreadsheet would run as a formula.
"""
