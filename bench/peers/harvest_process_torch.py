"""
Peer for bench/harvest-process.sh: what `lab harvest --dataset brown-pos --dtype f16` does, as one PyTorch
process (CPU, 2 threads, float32, no_grad), timed from the shell: load the checkpoint, tokenise the Brown
corpus with the checkpoint's tokenizer.json (byte-level BPE, the lab's tiny random-checkpoint tokenizer or
GPT-2's), pack whole sentences into sequences of at most CONTEXT tokens with a leading <|endoftext|> (as
activations/datasets/sequences.ts packs them; documents in a seeded random order), forward them in batches
of BATCH sequences padded to the batch's longest, keep every layer's mlp.hook_post for each real token
(BOS and padding dropped), and write it as float16 to one file per hook, with the token ids, fsynced.

    /usr/bin/python3 bench/peers/harvest_process_torch.py MODEL_DIR BROWN_DIR MAX_TOKENS OUT_DIR [BATCH] [CONTEXT] [SEED]

What it leaves out of the lab's work: the part-of-speech labels per token (a byte per feature per row) and
the store's chunking, checksums and manifests. Prints one JSON line with the stage times (seconds after
`import torch`) and the forward's own tokens/s.
"""
import json
import os
import random
import re
import sys
import time
import unicodedata

t_start = time.perf_counter()
import numpy as np  # noqa: E402
import torch  # noqa: E402

from harvest_torch import load_model  # noqa: E402  (same folder)

torch.set_num_threads(2)

# GPT-2's pre-tokenizer pattern with \p{L} as [^\W\d_] and \p{N} as \d (Python's re has no \p; the Brown
# corpus is ASCII, where the two agree).
PRE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
BROWN_ID = re.compile(r"^c[a-r]\d\d$")
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "''", "'"}
NO_SPACE_AFTER = {"(", "[", "{", "``"}


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class ByteLevelBpe:
    def __init__(self, path):
        with open(path) as f:
            tj = json.load(f)
        model = tj["model"]
        self.vocab = model["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.nfc = (tj.get("normalizer") or {}).get("type") == "NFC"
        self.bos = next(t["id"] for t in tj["added_tokens"] if t["content"] == "<|endoftext|>")
        self.byte_char = bytes_to_unicode()
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        if self.nfc:
            text = unicodedata.normalize("NFC", text)
        out = []
        for piece in PRE.findall(text):
            out.extend(self.bpe("".join(self.byte_char[b] for b in piece.encode("utf-8"))))
        return out


def detokenize(words):
    text, glue = "", True
    for w in words:
        if not glue and w not in NO_SPACE_BEFORE:
            text += " "
        text += '"' if w in ("``", "''") else w
        glue = w in NO_SPACE_AFTER
    return text


def brown_sentences(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            pairs = line.split()
            if pairs:
                yield detokenize([p[: p.rindex("/")] for p in pairs])


def sequences(tok, brown_dir, context, seed):
    """Runs of whole sentences of one document, at most context - 1 tokens, each behind a BOS."""
    files = sorted(f for f in os.listdir(brown_dir) if BROWN_ID.match(f))
    random.Random(seed).shuffle(files)
    cap = context - 1
    for name in files:
        ids = []
        for sentence in brown_sentences(os.path.join(brown_dir, name)):
            if not sentence.strip():
                continue
            enc = tok.encode(" " + sentence)
            if len(ids) + len(enc) > cap and ids:
                yield [tok.bos] + ids
                ids = []
            while len(enc) > cap - len(ids):
                take = cap - len(ids)
                yield [tok.bos] + ids + enc[:take]
                ids, enc = [], enc[take:]
            ids.extend(enc)
        if ids:
            yield [tok.bos] + ids


def main():
    folder, brown_dir, max_tokens, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    context = int(sys.argv[6]) if len(sys.argv) > 6 else 128
    seed = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    t_import = time.perf_counter() - t_start
    t0 = time.perf_counter()
    cfg, model = load_model(folder)
    tok = ByteLevelBpe(os.path.join(folder, "tokenizer.json"))
    t_load = time.perf_counter() - t0
    os.makedirs(out, exist_ok=True)
    n_layers = cfg.get("n_layer", cfg.get("num_hidden_layers"))
    files = [open(os.path.join(out, f"blocks.{l}.mlp.hook_post.f16"), "wb") for l in range(n_layers)]
    id_file = open(os.path.join(out, "token_ids.i32"), "wb")
    times = {"tokenise_s": 0.0, "forward_s": 0.0, "write_s": 0.0}
    tokens = 0
    seqs = sequences(tok, brown_dir, context, seed)
    with torch.no_grad():
        while tokens < max_tokens:
            t0 = time.perf_counter()
            group = []
            for s in seqs:
                keep = min(len(s) - 1, max_tokens - tokens)
                group.append(s[: 1 + keep])
                tokens += keep
                if len(group) == batch or tokens >= max_tokens:
                    break
            times["tokenise_s"] += time.perf_counter() - t0
            if not group:
                break
            t0 = time.perf_counter()
            T = max(len(s) for s in group)
            ids = torch.full((len(group), T), tok.bos, dtype=torch.long)
            for i, s in enumerate(group):
                ids[i, : len(s)] = torch.tensor(s)
            _, kept = model.forward(ids, logits=False)
            kept = [k.reshape(len(group), T, -1).numpy() for k in kept]
            times["forward_s"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            for f, k in zip(files, kept):
                f.write(np.concatenate([k[i, 1 : len(s)] for i, s in enumerate(group)]).astype(np.float16).tobytes())
            id_file.write(np.concatenate([np.asarray(s[1:], dtype=np.int32) for s in group]).tobytes())
            times["write_s"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    for f in files + [id_file]:
        f.flush()
        os.fsync(f.fileno())
        f.close()
    times["write_s"] += time.perf_counter() - t0
    print(json.dumps({
        "tokens": tokens, "import_s": round(t_import, 3), "load_s": round(t_load, 3), **{k: round(v, 3) for k, v in times.items()},
        "forward_tokens_per_s": round(tokens / times["forward_s"], 1), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
