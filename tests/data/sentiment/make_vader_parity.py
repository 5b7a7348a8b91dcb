"""Writes vader-parity.tsv: what vaderSentiment 3.3.2 (PyPI, MIT) says about
each line of vader-parity-sentences.txt, so the Rust port in
plugins/classifier-keywords-core/src/vader.rs can be checked against it.

    python3 -m pip download vaderSentiment==3.3.2 --no-deps -d /tmp/vader
    (cd /tmp/vader && unzip -o vaderSentiment-3.3.2-py2.py3-none-any.whl)
    PYTHONPATH=/tmp/vader python3 make_vader_parity.py
"""
import os
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

here = os.path.dirname(os.path.abspath(__file__))
analyzer = SentimentIntensityAnalyzer()
with open(os.path.join(here, "vader-parity-sentences.txt"), encoding="utf-8") as src, \
        open(os.path.join(here, "vader-parity.tsv"), "w", encoding="utf-8") as out:
    for line in src:
        sentence = line.rstrip("\n")
        if not sentence:
            continue
        s = analyzer.polarity_scores(sentence)
        out.write(f"{s['compound']}\t{s['neg']}\t{s['neu']}\t{s['pos']}\t{sentence}\n")
