"""Stage 5, the model: character vocabulary, encoding, the joint BERT, inference backends.

Takes ``SentenceInput``s and hands on ``SentencePrediction``s, like the rules (it implements
``pipeline.predict.Predictor``). ``vocab`` and ``encoding`` turn sentences into token features
(BIO tags exist only inside encode/decode); ``modeling`` is the network and its predictor;
``backends`` runs it with PyTorch, ONNX Runtime or int8. Importing this package is light; its
modules import torch/transformers.
"""
