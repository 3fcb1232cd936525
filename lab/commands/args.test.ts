import { describe, expect, it } from 'vitest';
import { parseFlags, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const specs: FlagSpecs = {
  features: { type: 'int', help: '', min: 1 },
  lr: { type: 'number', help: '', default: 1e-3 },
  json: { type: 'boolean', help: '' },
  model: { type: 'string', help: '', choices: ['linear', 'relu-out'] },
  k: { type: 'numbers', help: '', min: 1 },
};

describe('parseFlags', () => {
  it('reads both --flag value and --flag=value, booleans and defaults', () => {
    const p = parseFlags(['--features', '5', '--model=linear', '--json', 'pos', '--k', '1,2,3'], specs);
    expect(p.flags).toEqual({ features: 5, model: 'linear', json: true, lr: 1e-3, k: [1, 2, 3] });
    expect(p.positionals).toEqual(['pos']);
  });

  it('names the flag in every error', () => {
    const bad: [string[], RegExp][] = [
      [['--features', 'abc'], /--features must be a number/],
      [['--features', '0'], /--features must be >= 1/],
      [['--features', '2.5'], /--features must be a whole number/],
      [['--model', 'mlp'], /--model must be one of linear, relu-out/],
      [['--nope', '1'], /unknown flag --nope/],
      [['--lr'], /--lr needs a value/],
      [['--k', '1,x'], /--k must be a number/],
    ];
    for (const [argv, re] of bad) {
      expect(() => parseFlags(argv, specs)).toThrow(UsageError);
      expect(() => parseFlags(argv, specs)).toThrow(re);
    }
  });

  it('accepts negative numbers as values', () => {
    expect(parseFlags(['--lr', '-0.5'], specs).flags.lr).toBe(-0.5);
  });
});
