import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from './commands/index.ts';
import { runLab } from './cli-test-support.ts';
import { InputError } from './core/index.ts';

const added: string[] = [];
function fake(name: string, fn: () => Promise<number>): void {
  COMMANDS[name] = { summary: 'test', load: async () => fn };
  added.push(name);
}
afterEach(() => {
  for (const n of added.splice(0)) delete COMMANDS[n];
  delete process.env.LAB_DEBUG;
});

describe('errors at the top (issue 19 case 12)', () => {
  it('an unexpected error is one line and exit 70; the stack only with --debug or LAB_DEBUG=1', async () => {
    const huge = 'x'.repeat(40_000);
    fake('boom', async () => {
      throw new TypeError(`cannot read properties of undefined ${huge}\n    at minified code ${huge}`);
    });
    const r = await runLab('boom');
    expect(r.code).toBe(70);
    expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.err).toMatch(/^lab boom: internal error: TypeError: cannot read properties of undefined x+ \(a bug in the lab; rerun with --debug/);
    expect(r.err.length).toBeLessThan(600);
    const d = await runLab('boom', '--debug');
    expect(d.code).toBe(70);
    expect(d.err).toMatch(/at .*cli\.test\.ts/);
    process.env.LAB_DEBUG = '1';
    expect((await runLab('boom')).err).toMatch(/at .*cli\.test\.ts/);
  });

  it('a system error names its path with exit 1; a LabError keeps its message and code', async () => {
    fake('sys', async () => {
      const e = new Error("ENOSPC: no space left on device, write '/tmp/x'") as NodeJS.ErrnoException;
      e.code = 'ENOSPC';
      throw e;
    });
    fake('bad', async () => {
      throw new InputError('/tmp/y is corrupt', '/tmp/y');
    });
    expect(await runLab('sys')).toMatchObject({ code: 1, err: "lab sys: error: ENOSPC: no space left on device, write '/tmp/x'\n" });
    expect(await runLab('bad')).toMatchObject({ code: 1, err: 'lab bad: error: /tmp/y is corrupt\n' });
  });
});
