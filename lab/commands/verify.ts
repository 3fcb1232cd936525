/**
 * `lab verify --model DIR --against ref.npz|ref.safetensors|logits.npy [--tolerance 1e-4] [--json]`: a
 * fidelity certificate for a checkpoint: the lab's logits and hooks on the reference's input ids (or the
 * fixed prompt) against values saved from PyTorch, max abs error per array. Exit 0 when every array is
 * within the tolerance, 1 otherwise. The README gives the Python that saves a reference.
 */
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';

const SUMMARY =
  'Compare the lab\'s logits and hooks with values saved from PyTorch: max abs error per array; exit 1 past the tolerance.\n' +
  'Reference keys: input_ids, logits, hidden_states.N (transformers output_hidden_states) and TransformerLens hook names.\n' +
  'Without input_ids the lab tokenizes "The quick brown fox jumps over the lazy dog." itself.';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'model folder (config.json, model.safetensors or pytorch_model.bin, tokenizer.json) or a Hub repo id in the local Hugging Face cache' },
  revision: { type: 'string', help: 'with a Hub repo id: the cached branch, tag or commit (default main)' },
  against: { type: 'string', help: 'reference arrays: .npz (np.savez), .safetensors, or a logits .npy (required)' },
  tolerance: { type: 'number', min: 0, default: 1e-4, help: 'max abs error allowed per array' },
  json: { type: 'boolean', help: 'print the certificate as JSON' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu, node, wasm, cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function verifyCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('verify', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  const modelArg = required<string>(parsed, 'model');
  const against = required<string>(parsed, 'against');
  const { initBackend } = await import('../core/backend.ts');
  const { loadModel, readReference, resolveModelDir, verifyModel } = await import('../../activations/index.ts');
  await initBackend(f.backend as string | undefined);
  const dir = resolveModelDir(modelArg, f.revision as string | undefined);
  const ref = await readReference(against);
  const model = await loadModel(dir);
  try {
    const r = verifyModel(model, ref, f.tolerance as number, against);
    if (f.json) {
      process.stdout.write(JSON.stringify({ model: dir, checksum: model.source.checksum, against, ...r }) + '\n');
    } else {
      const lines = [`model ${dir} (weights sha256 ${model.source.checksum.slice(0, 16)}...)`, `against ${against}: ${r.ids.length} tokens (ids from the ${r.ids_from})`, ''];
      lines.push('array                                  lab hook                               max_abs_error  max_abs_ref');
      for (const row of r.rows) {
        lines.push(`${row.key.padEnd(38)} ${row.hook.padEnd(38)} ${row.max_abs_error.toExponential(2).padStart(13)}  ${row.max_abs_ref.toFixed(3).padStart(11)}${row.ok ? '' : '  FAIL'}`);
      }
      if (r.skipped.length) lines.push('', `not compared (no such array in the lab): ${r.skipped.join(', ')}`);
      lines.push('', r.ok ? `OK: every array within ${r.tolerance}` : `FAIL: ${r.rows.filter((x) => !x.ok).length} of ${r.rows.length} arrays past ${r.tolerance}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return r.ok ? 0 : 1;
  } finally {
    model.dispose();
  }
}
