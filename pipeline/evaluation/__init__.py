"""Evaluation: gold documents + predictions → metrics, reports and the history of runs.

``scoring`` is pure functions over span sets returning flat dicts (headline: strict target F1);
``evalrun`` runs a system (rules, a model folder, predictions on disk) over the gold set, with
cross-validation from ``pipeline.training.cv``, and writes ``reports/<run-id>/`` and
``reports/history.jsonl``; ``report_html`` renders the same dicts as Markdown/HTML.
"""
