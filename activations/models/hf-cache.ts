/**
 * `--model org/name` resolved offline in the Hugging Face cache, as huggingface_hub lays it out
 * (huggingface_hub file_download.py / constants.py): the cache root is $HF_HUB_CACHE, else
 * $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; a model is
 * `models--org--name/` with `refs/<branch or tag>` (a file holding a commit hash),
 * `snapshots/<commit>/` (the files, as symlinks into `blobs/`) and `blobs/`. Nothing is downloaded: a
 * model not in the cache is an error that says where it looked and what to run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, UsageError } from '../../lab/core/index.ts';

/** The hub cache folder huggingface_hub would use with this environment. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** A Hub repo id: `name` or `org/name`, of letters, digits, '-', '_' and '.' (no '..', no leading '.'). */
const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

/**
 * A model folder for `--model`: an existing folder as given (a `revision` then is a usage error), or
 * a Hub repo id looked up in the cache at `revision` (a branch or tag under refs/, or a commit hash;
 * default main).
 */
export function resolveModelDir(model: string, revision?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (existsSync(model)) {
    if (revision !== undefined) throw new UsageError(`--revision applies to a Hugging Face repo id in the cache, but --model ${model} is a local path`, 'revision');
    return model;
  }
  if (!REPO_ID.test(model) || model.includes('..')) {
    throw new InputError(`--model ${model} does not exist (and is not a Hugging Face repo id such as EleutherAI/pythia-70m)`, model);
  }
  const cache = hubCacheDir(env);
  const repo = join(cache, `models--${model.replace('/', '--')}`);
  const rev = revision ?? 'main';
  if (!existsSync(repo)) {
    throw new InputError(
      `--model ${model}: not a local folder, and not in the Hugging Face cache (looked in ${repo}; the cache is $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub). ` +
        `The lab never downloads: fetch it first, e.g. huggingface-cli download ${model}${revision ? ` --revision ${revision}` : ''}`,
      repo,
    );
  }
  if (!/^[\w.\-/]+$/.test(rev) || rev.includes('..')) throw new UsageError(`--revision ${rev} is not a branch, tag or commit name`, 'revision');
  let commit: string | undefined;
  const ref = join(repo, 'refs', rev);
  if (existsSync(ref) && statSync(ref).isFile()) commit = readFileSync(ref, 'utf8').trim();
  else if (/^[0-9a-f]{40}$/.test(rev)) commit = rev;
  const snapshots = join(repo, 'snapshots');
  const have = existsSync(snapshots) ? readdirSync(snapshots).sort() : [];
  if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit) || !have.includes(commit)) {
    const refs = existsSync(join(repo, 'refs')) ? listRefs(join(repo, 'refs')) : [];
    throw new InputError(
      `--model ${model}: revision '${rev}' is not in the cache (${commit ? `commit ${commit} has no snapshot; ` : ''}refs: ${refs.join(', ') || 'none'}; snapshots: ${have.join(', ') || 'none'})`,
      repo,
    );
  }
  const dir = join(snapshots, commit);
  if (!existsSync(join(dir, 'config.json'))) throw new InputError(`--model ${model}: the cached snapshot ${dir} has no config.json (a partial download?)`, dir);
  return dir;
}

/** Branch and tag names under refs/ (refs/pr/1 style nesting included). */
function listRefs(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...listRefs(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(prefix + e.name);
  }
  return out.sort();
}
