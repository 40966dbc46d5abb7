// Softmax over the logits and the top-k classes with their labels.

export interface Prediction { index: number; label: string; probability: number }

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

export function topK(logits: ArrayLike<number>, k: number, labelOf: (index: number) => string): Prediction[] {
  const probabilities = softmax(logits);
  return probabilities
    .map((probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k)
    .map(({ index, probability }) => ({ index, label: labelOf(index), probability }));
}
