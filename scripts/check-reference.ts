// Compares the engine with a PyTorch reference JSON (as written by make_fixtures.py --big-ref) and
// prints, per field, the worst error as a fraction of its crate-math tolerance (<= 1 passes).
// usage: node --import tsx scripts/check-reference.ts REFERENCE.json CHECKPOINT [CONFIG.json]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createCpuBackend } from '../server/backend/cpu';
import { analyzeImages } from '../server/engine/analyze';
import { loadModel } from '../server/engine/loadModel';
import { parseConfig } from '../server/model/config';
import type { Reference } from '../test/golden/reference';

async function main(): Promise<number> {
  const [refPath, checkpoint, config] = process.argv.slice(2);
  if (!refPath || !checkpoint) { console.error('usage: check-reference.ts REFERENCE.json CHECKPOINT [CONFIG.json]'); return 2; }
  const ref: Reference = JSON.parse(readFileSync(refPath, 'utf8'));
  const model = loadModel({ checkpoint, config });
  // Without a config file, the reference's own config is authoritative (heads are not in the weights).
  if (!config) Object.assign(model.config, parseConfig(ref.config, refPath));
  const backend = await createCpuBackend(model.config, model.weights);
  const images = ref.results.map((r) => resolve(r.image.startsWith('images/') ? `test/fixtures/${r.image}` : r.image));
  const started = performance.now();
  const results = await analyzeImages(model, backend, images);
  const failed = results.find((r) => r.error);
  if (failed) { console.error(`${failed.image}: ${failed.error}`); return 2; }
  const ms = performance.now() - started;
  const worst: Record<string, number> = {};
  const note = (k: string, v: number) => { worst[k] = Math.max(worst[k] ?? 0, v); };
  results.forEach((res, i) => {
    const r = ref.results[i];
    const scale = Math.max(...r.logits.map(Math.abs));
    res.logits!.forEach((v, j) => note('logits', Math.abs(v - r.logits[j]) / (1e-4 * scale + 1e-6)));
    res.layers!.forEach((l, k) => {
      const e = r.layers[k];
      l.clsAttention.forEach((row, h) => row.forEach((v, t) => note('clsAttention', Math.abs(v - e.clsAttention[h][t]) / 1e-6)));
      note('zeroCount', Math.abs(l.zeroCount - e.zeroCount) / (e.nearZeroCount + 1));
      for (const key of ['reconstructionError', 'istaResidual', 'codingRate'] as const) note(key, Math.abs(l[key] - e[key]) / Math.abs(e[key]) / 1e-5);
    });
  });
  console.log(`analysed ${results.length} image(s) in ${ms.toFixed(0)} ms with ${backend.device}`);
  for (const [k, v] of Object.entries(worst)) console.log(`${k.padEnd(20)} worst ${v.toFixed(3)} of tolerance ${v <= 1 ? 'ok' : 'FAIL'}`);
  await backend.dispose();
  return Object.values(worst).every((v) => v <= 1) ? 0 : 1;
}

main().then((code) => { process.exitCode = code; });
