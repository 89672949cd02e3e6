"""Training: gold documents → a model folder.

Takes ``pipeline.records.GoldDocument``s (and optionally a corpus for masked-LM pretraining,
``pretrain``) and hands on a model directory that ``pipeline.model`` loads (``loop``: examples,
fine-tuning, the recipe; ``cv``: the one cross-validation, folds by paragraph or document, that
evaluation also uses).
"""
