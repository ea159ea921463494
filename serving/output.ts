import type { ServingSignature } from './signature';

// A version's raw scores as an answer: the label by the threshold (binary) or the top class, and
// the shape a caller receives. The model server and the stream consumer answer alike through these.

/** One scored row: the label and the raw probabilities (a regressor's value as a one-element row). */
export interface Output {
  label: string;
  probabilities: number[];
  value?: number;
}

/** What a caller receives for one row: a regressor's value, or the label with probabilities by class. */
export type ShownOutput = { value: number } | { label: string; probabilities: Record<string, number | undefined> };

const argmax = (p: readonly number[]) => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);

/** Labels one row's scores: a binary model predicts its positive class at or above `threshold`. */
export function outputOf(signature: ServingSignature, p: number[], threshold: number): Output {
  const { classes, task } = signature;
  if (task === 'regression') return { value: p[0]!, label: String(p[0]), probabilities: p };
  const label = classes[task === 'binary' ? (p[1]! >= threshold ? 1 : 0) : argmax(p)]!;
  return { label, probabilities: p };
}

/** The answer for one row as the predict route returns it. */
export function shownOutput(signature: ServingSignature, output: Output): ShownOutput {
  return signature.task === 'regression'
    ? { value: output.value! }
    : {
        label: output.label,
        probabilities: Object.fromEntries(signature.classes.map((c, i) => [c, output.probabilities[i]])),
      };
}
