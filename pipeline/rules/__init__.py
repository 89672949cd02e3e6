"""Stage 4, the rule baseline: a ``pipeline.predict.Predictor``.

Takes ``SentenceInput``s (sentence text, part, section path) and hands on ``SentencePrediction``s
(target spans relative to the sentence, a sentence category with probabilities). Uses
``pipeline.fields.parse`` for number candidates; it is also the input feature of the model.
"""
