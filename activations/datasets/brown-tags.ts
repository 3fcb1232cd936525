/**
 * Brown corpus tags -> part-of-speech features. The Brown tag set (Francis & Kucera 1979, 87 base
 * tags) marks words with compound tags; this is how each part is read:
 *
 * - `-tl` (word in a title), `-hl` (headline), `-nc` (cited word) and truncated forms (`-t`, `-n`)
 *   are suffixes that do not change the part of speech: stripped (`nn-tl` -> `nn`).
 * - `fw-` marks a foreign word: stripped, and the word also gets `foreign_word` (`fw-nn` -> noun).
 * - `+` joins the tags of a contraction (`ppss+md` = I'll, `vb+ppo` = let's): the word gets the
 *   union of its parts' features (I'll is pronoun and verb and modal), because a word is one unit of
 *   text and its tokens cannot be split between the parts.
 * - a trailing `$` is possessive (`np$` = Atlanta's, `pp$` = his): base tag plus `possessive`.
 * - a trailing `*` is a negated form (`do*` = don't, `md*` = can't); the tag `*` alone is not/n't:
 *   both give `negation`.
 *
 * Base tags (with features):
 *   noun: nn nns nr nrs (nr = adverbial noun: home, today)   proper_noun: np nps
 *   pronoun: pn pp$ pp$$ ppl ppls ppo pps ppss wp$ wpo wps
 *   verb: vb vbd vbg vbn vbz, be bed bedz beg bem ben ber bez, hv hvd hvg hvn hvz, do dod doz, md
 *   modal: md    past_tense_verb: vbd bed bedz hvd dod    plural_noun: nns nps nrs
 *   adjective: jj jjr jjs jjt    adverb: rb rbr rbt rn ql qlp wql wrb abl (abl = quite, rather)
 *   preposition: in    determiner: at ap abn abx dt dti dts dtx wdt    conjunction: cc cs
 *   number: cd od    particle: rp to (to = infinitival to; UD calls both PART)    interjection: uh
 *   wh_word: wdt wp$ wpo wps wql wrb
 * Unlabelled (all features 0): punctuation tags, `ex` (existential there), `nil`.
 */

export const POS_FEATURES = [
  'noun', 'proper_noun', 'pronoun', 'verb', 'modal', 'adjective', 'adverb', 'preposition', 'determiner',
  'conjunction', 'number', 'particle', 'interjection', 'wh_word', 'plural_noun', 'past_tense_verb',
  'possessive', 'negation', 'foreign_word',
] as const;
export type PosFeature = (typeof POS_FEATURES)[number];

const BASE: Record<string, PosFeature[]> = {};
function tagAll(features: PosFeature[], tags: string): void {
  for (const t of tags.split(' ')) (BASE[t] ??= []).push(...features);
}
tagAll(['noun'], 'nn nns nr nrs');
tagAll(['proper_noun'], 'np nps');
tagAll(['pronoun'], 'pn pp ppl ppls ppo pps ppss wp wpo wps');
tagAll(['verb'], 'vb vbd vbg vbn vbz be bed bedz beg bem ben ber bez hv hvd hvg hvn hvz do dod doz md');
tagAll(['modal'], 'md');
tagAll(['past_tense_verb'], 'vbd bed bedz hvd dod');
tagAll(['plural_noun'], 'nns nps nrs');
tagAll(['adjective'], 'jj jjr jjs jjt');
tagAll(['adverb'], 'rb rbr rbt rn ql qlp wql wrb abl');
tagAll(['preposition'], 'in');
tagAll(['determiner'], 'at ap abn abx dt dti dts dtx wdt');
tagAll(['conjunction'], 'cc cs');
tagAll(['number'], 'cd od');
tagAll(['particle'], 'rp to');
tagAll(['interjection'], 'uh');
tagAll(['wh_word'], 'wdt wp wpo wps wql wrb');

/** Base tags that carry no part-of-speech feature on purpose (so an unknown tag can be told apart). */
const UNLABELLED = new Set(['ex', 'nil', '.', ',', ':', ';', '(', ')', '``', "''", "'", '--', '']);

const cache = new Map<string, ReadonlySet<PosFeature>>();

/** The features of a (possibly compound) Brown tag. Unknown tags give no features. */
export function tagFeatures(tag: string): ReadonlySet<PosFeature> {
  const hit = cache.get(tag);
  if (hit) return hit;
  const out = new Set<PosFeature>();
  for (const raw of tag.toLowerCase().split('+')) {
    let part = raw;
    if (part.startsWith('fw-')) {
      out.add('foreign_word');
      part = part.slice(3);
    }
    // Strip title/headline/cited suffixes, also when repeated (nn-tl-hl) or truncated (at-t).
    part = part.replace(/(?:-(?:tl|hl|nc|t|n))+$/, '');
    if (part === '*') {
      out.add('negation');
      continue;
    }
    while (part.length > 1 && (part.endsWith('$') || part.endsWith('*'))) {
      out.add(part.endsWith('$') ? 'possessive' : 'negation');
      part = part.slice(0, -1);
    }
    for (const f of BASE[part] ?? []) out.add(f);
  }
  cache.set(tag, out);
  return out;
}

/** Whether the base of every part of a tag is known (mapped or deliberately unlabelled). */
export function isKnownTag(tag: string): boolean {
  return tag.toLowerCase().split('+').every((raw) => {
    let part = raw.replace(/^fw-/, '').replace(/(?:-(?:tl|hl|nc|t|n))+$/, '');
    if (part === '*') return true;
    while (part.length > 1 && (part.endsWith('$') || part.endsWith('*'))) part = part.slice(0, -1);
    return part in BASE || UNLABELLED.has(part);
  });
}
