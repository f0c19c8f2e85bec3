// The robot's completeness score comes from its steps' outputs: a step that judges how complete
// its result is (e.g. `extract`) says so as `completenessScore` (0–1).

/** The score of the last step output that has one, or undefined when no step reported one. */
export function completenessFromOutput(output: Record<string, unknown> | undefined): number | undefined {
  if (!output) return undefined;
  let score: number | undefined;
  for (const stepOutput of Object.values(output)) {
    if (typeof stepOutput !== 'object' || stepOutput === null) continue;
    const value = (stepOutput as Record<string, unknown>).completenessScore;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) score = value;
  }
  return score;
}
