"""Small helpers to edit standoff specs by sent_id (used for adjudication; the specs stay out of git)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.annotation.gold import load_gold_file  # noqa: E402

SPECS = Path("data/gold/standoff/specs")
CORPORA = [Path("../shared/corpus2"), Path("../shared/corpus")]


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.path = SPECS / f"{doc}.spec.json"
        self.spec = json.loads(self.path.read_text(encoding="utf-8"))
        for c in CORPORA:
            try:
                self.gold = load_gold_file(f"data/gold/standoff/{doc}.jsonl", corpus_dir=c)
                break
            except Exception:
                continue
        # sent_id -> spec entry, skipping entries the builder drops as furniture (as _align does)
        self.index = []
        i = 0
        for s in self.gold.sentences:
            while not s.text.startswith(self.spec["sentences"][i]["prefix"]):
                assert not self.spec["sentences"][i].get("targets"), (doc, i)
                i += 1
            self.index.append(i)
            i += 1

    def sent(self, sid):
        return self.spec["sentences"][self.index[sid]]

    def text(self, sid):
        return self.gold.sentences[sid].text

    def target(self, sid, text):
        ts = [t for t in self.sent(sid).get("targets", []) if t["text"] == text]
        assert len(ts) == 1, (self.doc, sid, text, [t["text"] for t in self.sent(sid).get("targets", [])])
        return ts[0]

    def save(self):
        self.path.write_text(json.dumps(self.spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
