"""The report: tables to answers.

Seed statistics (``stats``), the computed answers (``answers/``), the figures (``figures``) and
the HTML page (``render``). It reads tables; it never recomputes the science.
"""
