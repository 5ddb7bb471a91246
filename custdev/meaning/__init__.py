"""Meaning: sentence embeddings of what respondents said, and what they make possible.

``model`` is the only module that imports the embedding package (lazily); ``store`` keeps vectors in the base;
``similar`` finds quotes by meaning (``custdev search --similar``, hybrid site search, "similar quotes");
``suggest`` proposes codes for uncoded turns; ``clusters`` groups uncoded quotes into candidate pains.
Importing this package loads nothing heavy.
"""
