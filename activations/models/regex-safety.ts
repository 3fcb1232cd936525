/**
 * tokenizer.json patterns run as JavaScript regular expressions, which backtrack: `(a|aa)+$` takes
 * minutes on 40 characters and cannot be interrupted. A pattern is refused (issue 19 case 14) when it
 * repeats a group that itself holds a repetition or an alternation: the shape behind catastrophic
 * backtracking. The pre-tokenizers of GPT-2, GPT-NeoX, Llama 3 and Qwen 2 repeat no group and pass.
 * This is conservative: a safe pattern of that shape is refused too, and the error says why.
 */
import { InputError } from '../../lab/core/index.ts';

/** The first repeated group with a repetition or alternation inside, or undefined. */
export function riskyRepeat(pattern: string): string | undefined {
  const stack: Array<{ start: number; risky: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ start: i, risky: false });
    else if (c === '|' || c === '*' || c === '+' || c === '{') {
      if (stack.length) stack[stack.length - 1]!.risky = true;
    } else if (c === '?' && pattern[i - 1] !== '(') {
      if (stack.length) stack[stack.length - 1]!.risky = true;
    } else if (c === ')') {
      const g = stack.pop();
      if (!g) continue;
      const next = pattern[i + 1];
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i + 1));
      const repeats = next === '*' || next === '+' || (m !== null && (m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1)));
      if (repeats && g.risky) return pattern.slice(g.start, i + 1 + (m ? m[0].length : 1));
      // A group's own repetition makes the group that holds it risky when that one repeats.
      if ((g.risky || repeats) && stack.length) stack[stack.length - 1]!.risky = true;
    }
  }
  return undefined;
}

/** Walks a tokenizer.json for Split/Replace regexes and refuses a risky one, naming it. */
export function checkTokenizerRegexes(json: unknown, path: string): void {
  const visit = (v: unknown, where: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, `${where}[${i}]`));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const re = (o.pattern as { Regex?: unknown } | undefined)?.Regex;
    if (typeof re === 'string') {
      const bad = riskyRepeat(re);
      if (bad) {
        throw new InputError(
          `${path}: ${where}.pattern.Regex repeats the group ${bad}, which holds a repetition or alternation: ` +
            'such a pattern can backtrack for minutes on a short text, and the lab refuses to run it',
          path,
        );
      }
    }
    for (const [k, x] of Object.entries(o)) if (k !== 'model' && k !== 'added_tokens') visit(x, `${where}.${k}`);
  };
  visit(json, 'tokenizer');
}
