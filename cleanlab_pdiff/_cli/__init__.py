"""The command line's machinery: ``find-issues`` on a table or an image folder, and its text.

:mod:`cleanlab_pdiff.cli` parses the arguments and hands ``find-issues`` to
:mod:`.find_issues`, which reads a table (:mod:`cleanlab_pdiff.io`) or an image folder
(:mod:`.folders`), trains P-DIFF once and writes the ranked rows; :mod:`.text` holds the
one-line messages. Nothing heavy is imported before a command runs.
"""
