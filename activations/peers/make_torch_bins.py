"""
Writes the pytorch_model.bin test files (activations/testdata/torch-bin/) with torch.save itself (torch
1.13 under Debian's python3), so the lab's reader (activations/models/torch-bin.ts) is tested against
the real writer, and prints what torch.load reads back from each (the reference values).

    npx tsx activations/peers/make-parity-checkpoints.ts /tmp/parity
    /usr/bin/python3 activations/peers/make_torch_bins.py /tmp/parity activations/testdata/torch-bin

Files:
  gpt2-parity.bin   the parity test's 'gpt2' checkpoint (same seed, same values) as a state dict whose
                    c_attn weights are stored transposed (non-contiguous views) and whose lm_head
                    shares wte's storage, as tied GPT2LMHeadModel.state_dict() does
  dtypes.bin        f32 / f16 / bf16 / f64 tensors, a strided slice with a storage offset, an expanded
                    (stride 0) view, a 0-d scalar, an integer buffer, as a Parameter too
  big-endian.bin    dtypes.bin with every storage byte-swapped and <root>/byteorder = 'big' (as torch >= 2.1
                    writes on big-endian machines); rebuilt with zipfile, the storages kept uncompressed
  malicious.bin     a torch.save of an object whose __reduce__ is os.system: loading it with pickle runs
                    a shell command; the lab must refuse it naming the global
  legacy.bin        the pre-1.6 format (_use_new_zipfile_serialization=False), refused with what to do
  nested.bin        {'model': state_dict}: not a flat state dict
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from parity_torch import read_safetensors  # noqa: E402


class Pwn:
    def __reduce__(self):
        return (os.system, ("echo pwned-by-pickle > /tmp/neuronlab-pwned",))


def save(obj, path, **kw):
    torch.save(obj, path, **kw)


def values(sd):
    return {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in sd.items()}


def byteswap_zip(src, dst):
    """Copies a torch.save zip with every storage entry's elements byte-swapped and a byteorder record."""
    zin = zipfile.ZipFile(src)
    root = [n for n in zin.namelist() if n.endswith("data.pkl")][0][: -len("data.pkl")]
    key_size = {}

    class Keys(pickle.Unpickler):
        """Reads only which storage key has which element size (tensor rebuilds stubbed out)."""

        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda *a: None
            if (module, name) == ("torch._utils", "_rebuild_parameter"):
                return lambda *a: None
            return super().find_class(module, name)

        def persistent_load(self, pid):
            key_size[pid[2]] = pid[1]().element_size()
            return None

    Keys(io.BytesIO(zin.read(root + "data.pkl"))).load()
    zout = zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED)
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.startswith(root + "data/"):
            n = key_size[info.filename[len(root + "data/") :]]
            data = b"".join(data[i : i + n][::-1] for i in range(0, len(data), n))
        zout.writestr(info.filename, data, compress_type=zipfile.ZIP_STORED)
    zout.writestr(root + "byteorder", b"big", compress_type=zipfile.ZIP_STORED)
    zout.close()


def main():
    parity, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    ref = {}

    W, _ = read_safetensors(os.path.join(parity, "gpt2", "model.safetensors"))
    sd = collections.OrderedDict()
    for k in sorted(W):
        t = W[k].float()
        if k.endswith("c_attn.weight"):
            t = t.t().contiguous().t()  # same values, column-major storage: stride (1, rows)
        sd[k] = t
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied: one storage, two names
    save(sd, os.path.join(out, "gpt2-parity.bin"))
    assert not sd["transformer.h.0.attn.c_attn.weight"].is_contiguous()

    g = torch.Generator().manual_seed(7)
    base = torch.randn(5, 6, generator=g, dtype=torch.float64)
    dt = collections.OrderedDict()
    dt["f32"] = base.float()
    dt["f16"] = base.half()
    dt["bf16"] = base.bfloat16()
    dt["f64"] = base.clone()
    dt["strided"] = base.float()[1:4, ::2]  # storage offset 6, strides (6, 2)
    dt["expanded"] = torch.arange(3, dtype=torch.float32).view(3, 1).expand(3, 4)  # stride (1, 0)
    dt["scalar"] = torch.tensor(2.5)
    dt["ints"] = torch.arange(4, dtype=torch.int64)
    dt["param"] = torch.nn.Parameter(base.float()[0].clone())
    save(dt, os.path.join(out, "dtypes.bin"))
    ref["dtypes"] = values(torch.load(os.path.join(out, "dtypes.bin")))
    byteswap_zip(os.path.join(out, "dtypes.bin"), os.path.join(out, "big-endian.bin"))

    save(collections.OrderedDict(w=torch.zeros(2), evil=Pwn()), os.path.join(out, "malicious.bin"))
    save(collections.OrderedDict(w=torch.ones(2)), os.path.join(out, "legacy.bin"), _use_new_zipfile_serialization=False)
    save({"model": collections.OrderedDict(w=torch.ones(2))}, os.path.join(out, "nested.bin"))
    print(json.dumps({"generator": "activations/peers/make_torch_bins.py", "torch": torch.__version__, "files": ref}))


if __name__ == "__main__":
    main()
