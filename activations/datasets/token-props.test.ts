import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../lab/core/index.ts';
import { gpt2Tokenizer, makeDataset } from './index.ts';
import { TOKEN_PROP_FEATURES, tokenProps } from './token-props.ts';

const tok = gpt2Tokenizer();
const hasPython = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'pass'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('token-props (the paper\'s 11 properties)', () => {
  it.skipIf(!hasPython)('agrees with the Python definitions on every GPT-2 token and on hand-picked Unicode cases', () => {
    const strings = Array.from({ length: 50257 }, (_, id) => tok.decode([id]));
    strings.push('ǅ', ' ǅx', 'ß', ' Ⅷ', '٣', ' ٣٤', '\u0085', '\ufeff', '\x1c', '_', ' _', 'ﬁ', 'ª', 'Ⓐ', 'ⓐb', '', ' ', 'I', ' A', ' AB', '\u00a0A');
    const py = JSON.parse(execFileSync('/usr/bin/python3', [packagePath('activations', 'peers', 'token_props_python.py')], { input: JSON.stringify(strings), maxBuffer: 1 << 26 }).toString()) as string[];
    const diffs: string[] = [];
    strings.forEach((s, i) => {
      const p = tokenProps(s);
      const mine = TOKEN_PROP_FEATURES.map((f) => (p[f] ? '1' : '0')).join('');
      if (mine !== py[i]) diffs.push(`${JSON.stringify(s)}: lab ${mine} python ${py[i]}`);
    });
    expect(diffs).toEqual([]);
  });

  it('labels real text: every token of a packed Brown sequence gets its own properties', () => {
    const ds = makeDataset('token-props', tok, { context: 48, seed: 1 });
    expect(ds.features).toEqual([...TOKEN_PROP_FEATURES]);
    let n = 0;
    for (const s of ds.sequences()) {
      for (let i = 1; i < s.ids.length; i++) {
        const p = tokenProps(tok.decode([s.ids[i]!]));
        for (const f of TOKEN_PROP_FEATURES) expect(s.tokenLabels![f]![i]).toBe(p[f] ? 1 : 0);
      }
      if (++n >= 5) break;
    }
    expect(n).toBe(5);
  });
});
