/**
 * 1-sparse probes on SAE latents against 1-sparse probes on neurons for the same features (SAEBench's
 * sparse-probing comparison), from two `lab probe` runs over the same rows and split:
 *   npx tsx bench/sae-probe-compare.ts NEURON_PROBE_RUN LATENT_PROBE_RUN [--k 1] [--method mean_dif]
 * Prints a markdown table of test F1 (and ROC AUC) per feature and the means.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags } from '../lab/commands/args.ts';

const { flags: f, positionals: [a, b] } = parseFlags(process.argv.slice(2), {
  k: { type: 'int', min: 1, default: 1, help: 'probe size' },
  method: { type: 'string', default: 'mean_dif', help: 'ranking method' },
});
if (!a || !b) throw new Error('usage: sae-probe-compare.ts NEURON_PROBE_RUN LATENT_PROBE_RUN');

function read(dir: string): Map<string, { f1: number; auc: number; unit: string }> {
  const [head, ...lines] = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  const at = (name: string) => cols.indexOf(name);
  const out = new Map<string, { f1: number; auc: number; unit: string }>();
  for (const line of lines) {
    const v = line.split(',');
    if (v[at('status')] !== 'ok' || Number(v[at('k')]) !== f.k || v[at('method')] !== f.method) continue;
    out.set(v[at('feature')]!, { f1: Number(v[at('f1')]), auc: Number(v[at('roc_auc')]), unit: v[at('neurons')]! });
  }
  return out;
}
const n = read(a), l = read(b);
const feats = [...n.keys()].filter((x) => l.has(x));
const lines = ['| feature | F1 neuron (k=1) | F1 latent (k=1) | AUC neuron | AUC latent | neuron | latent |', '|---|---|---|---|---|---|---|'];
let sn = 0, sl = 0, wins = 0;
for (const x of feats) {
  const p = n.get(x)!, q = l.get(x)!;
  sn += p.f1; sl += q.f1; wins += q.f1 > p.f1 ? 1 : 0;
  lines.push(`| ${x} | ${p.f1.toFixed(3)} | ${q.f1.toFixed(3)} | ${p.auc.toFixed(3)} | ${q.auc.toFixed(3)} | ${p.unit} | ${q.unit} |`);
}
lines.push(`| **mean over ${feats.length}** | **${(sn / feats.length).toFixed(3)}** | **${(sl / feats.length).toFixed(3)}** | | | | latent better on ${wins}/${feats.length} |`);
process.stdout.write(lines.join('\n') + '\n');
