/**
 * The built-in ranking methods, in the order help texts list them. Adding a method is its own file in
 * this folder (exporting a defineRankMethod spec) plus its entry here: see ADDING_A_RANKING_METHOD.md.
 * The RankMethod type is derived from this list, so code naming a built-in method is checked by the
 * compiler; a method registered at run time (registerRankMethod) is known to validation and help but
 * not to the type.
 */
import { adaptive } from './adaptive.ts';
import { fStat } from './f-stat.ts';
import { l1Path } from './l1-path.ts';
import { meanDif } from './mean-dif.ts';
import { mutualInfo } from './mutual-info.ts';
import { osp } from './osp.ts';
import { registerRankMethod } from './registry.ts';

const BUILT_IN = [meanDif, fStat, mutualInfo, l1Path, adaptive, osp] as const;

export type RankMethod = (typeof BUILT_IN)[number]['name'];

for (const spec of BUILT_IN) registerRankMethod(spec);

/** The built-in method names (a run-time registration appears in rankMethodNames(), not here). */
export const BUILT_IN_RANK_METHODS: readonly RankMethod[] = BUILT_IN.map((m) => m.name);
