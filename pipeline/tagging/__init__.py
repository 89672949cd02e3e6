"""Stage 6, tagging whole documents: raw text → gold-format records, one document or a batch.

Takes raw text (``tagger.Tagger``) or files (``batch.run_batch``, resumable) and a predictor
(the rules or a model folder); hands on ``TaggedDocument``s whose sentences are
``pipeline.records.SentenceRecord``s with raw offsets and normalised fields, and writes them as
JSONL/CSV (``export``) or spaCy spans (``spacy_component``).
"""
