"""Arrays as another lab would save them, for activations/import-store.test.ts: numpy's own .npy writer
(format 1 and 2, float16/32/64, a Fortran-order one), a safetensors file written from the format's spec
with numpy bytes (a TransformerLens-style cache: hook name -> [batch, pos, d]), and label tables. Writes
values.json: every array as numpy reads it back, in float64, which the test compares against the store.

Usage: /usr/bin/python3 activations/peers/write_arrays_numpy.py OUTDIR
"""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)

# A cache entry [batch 12, pos 8, d 6]; neuron 2 carries the feature 'n2_positive' (its sign).
tokens = rng.standard_normal((12, 8, 6)).astype(np.float32)
tokens[:, :, 2] *= 4
np.save(os.path.join(out, 'tokens.npy'), tokens)
np.save(os.path.join(out, 'tokens_f16.npy'), tokens.astype(np.float16))
np.save(os.path.join(out, 'tokens_f64.npy'), tokens.astype(np.float64))
with open(os.path.join(out, 'tokens_v2.npy'), 'wb') as f:
    np.lib.format.write_array(f, tokens, version=(2, 0))
np.save(os.path.join(out, 'fortran.npy'), np.asfortranarray(tokens[:, 0, :]))

with open(os.path.join(out, 'labels_tokens.csv'), 'w') as f:
    f.write('token_id,n2_positive,even_position\n')
    for b in range(12):
        for p in range(8):
            f.write(f'{b * 8 + p},{int(tokens[b, p, 2] > 0)},{int(p % 2 == 0)}\n')

# One row per sequence, [10, 7], with explicit sequence ids in a JSON Lines table.
seqs = rng.standard_normal((10, 7)).astype(np.float32)
np.save(os.path.join(out, 'seqs.npy'), seqs)
with open(os.path.join(out, 'labels_seqs.jsonl'), 'w') as f:
    for i in range(10):
        f.write(json.dumps({'doc': 100 + i, 'first_positive': int(seqs[i, 0] > 0), 'note': 'x'}) + '\n')


def save_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header, then the tensors' bytes back to back."""
    header, blobs, at = {}, [], 0
    codes = {np.dtype(np.float32): 'F32', np.dtype(np.float16): 'F16', np.dtype(np.float64): 'F64'}
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': codes[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


layer1 = rng.standard_normal((12, 8, 6)).astype(np.float16)
pattern = rng.random((12, 2, 8, 8)).astype(np.float32)
save_safetensors(os.path.join(out, 'cache.safetensors'), {
    'blocks.0.mlp.hook_post': tokens, 'blocks.1.mlp.hook_post': layer1, 'blocks.0.attn.hook_pattern': pattern,
})

values = {
    'tokens': np.load(os.path.join(out, 'tokens.npy')).astype(np.float64).ravel().tolist(),
    'tokens_f16': np.load(os.path.join(out, 'tokens_f16.npy')).astype(np.float64).ravel().tolist(),
    'seqs': np.load(os.path.join(out, 'seqs.npy')).astype(np.float64).ravel().tolist(),
    'layer1': layer1.astype(np.float64).ravel().tolist(),
}
with open(os.path.join(out, 'values.json'), 'w') as f:
    json.dump(values, f)
