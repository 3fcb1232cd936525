import { UsageError } from '../core/index.ts';

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list' | 'numbers';

export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean | string[] | number[];
  /** For number/int flags: inclusive bounds. */
  min?: number;
  max?: number;
  /** For string flags: the allowed values. */
  choices?: readonly string[];
  /** Repeatable string flag collected into a list (e.g. several --hook). */
  multiple?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValue = string | number | boolean | string[] | number[] | undefined;

export interface Parsed {
  flags: Record<string, FlagValue>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`. Every value is checked against its spec,
 * so a bad one fails here with the flag's name rather than deep inside a run.
 */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): Parsed {
  const flags: Record<string, FlagValue> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new UsageError(`unknown flag --${name} (known: ${known})`, name);
    }
    let raw: string;
    if (spec.type === 'boolean') {
      if (eq >= 0) {
        const v = arg.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError(`--${name} takes true or false, got '${v}'`, name);
        flags[name] = v === 'true';
      } else {
        flags[name] = true;
      }
      continue;
    }
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${name} needs a value`, name);
      }
      raw = next;
      i++;
    }
    const value = convert(name, spec, raw);
    if (spec.multiple) {
      const prev = (flags[name] as string[] | undefined) ?? [];
      flags[name] = [...prev, ...(Array.isArray(value) ? (value as string[]) : [String(value)])];
    } else {
      flags[name] = value;
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  return { flags, positionals };
}

function convert(name: string, spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'string': {
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}; got '${raw}'`, name);
      }
      return raw;
    }
    case 'number':
    case 'int':
      return checkNumber(name, spec, raw);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'numbers':
      return raw.split(',').map((s) => checkNumber(name, spec, s.trim()));
    default:
      throw new UsageError(`--${name}: unsupported flag type`, name);
  }
}

/** Parses one number and checks it against the spec's type and bounds; the error names the flag. */
export function checkNumber(name: string, spec: Pick<FlagSpec, 'type' | 'min' | 'max'>, raw: string): number {
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got '${raw}'`, name);
  if (spec.type === 'int' && !Number.isInteger(v)) {
    throw new UsageError(`--${name} must be a whole number, got '${raw}'`, name);
  }
  if (spec.min !== undefined && v < spec.min) throw new UsageError(`--${name} must be >= ${spec.min}, got ${raw}`, name);
  if (spec.max !== undefined && v > spec.max) throw new UsageError(`--${name} must be <= ${spec.max}, got ${raw}`, name);
  return v;
}

/** Reads a flag that must be present. */
export function required<T extends FlagValue>(parsed: Parsed, name: string): NonNullable<T> {
  const v = parsed.flags[name];
  if (v === undefined) throw new UsageError(`--${name} is required`, name);
  return v as NonNullable<T>;
}

/** Help text for a subcommand, one line per flag. */
export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: lab ${command} [flags]`, '', summary, ''];
  for (const [name, spec] of Object.entries(specs)) {
    const kind = spec.type === 'boolean' ? '' : ` <${spec.choices ? spec.choices.join('|') : spec.type}>`;
    const def = spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : '';
    lines.push(`  --${name}${kind}`.padEnd(34) + ` ${spec.help}${def}`);
  }
  return lines.join('\n');
}

/** A list flag of whole numbers >= 0 (neuron indices); the error names the flag. */
export function indices(list: string[], name: string): number[] {
  const out = list.map((s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isInteger(v) || v < 0) throw new UsageError(`--${name} takes whole numbers >= 0, comma-separated; got '${s}'`, name);
    return v;
  });
  if (out.length === 0) throw new UsageError(`--${name}: give at least one`, name);
  return out;
}
