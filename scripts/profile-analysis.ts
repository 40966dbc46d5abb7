// Where a full analysis spends its time on the CPU backend: the forward pass with captures, the bare
// forward pass, and each family of measures, for one checkpoint at batch 1 (medians of --runs).
//   node --import tsx scripts/profile-analysis.ts CHECKPOINT [--preset base] [--runs 20]
import { createBareCpuSession, createCpuBackend } from '../server/backend/cpu';
import { DEFAULT_MEASURE_OPTIONS, lastLayerPca, layerMeasures, rollout } from '../server/analysis/measures';
import { loadModel } from '../server/engine/loadModel';

const args = process.argv.slice(2);
const option = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const runs = Number(option('--runs') ?? 20);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

async function main() {
  const t0 = performance.now();
  const model = loadModel({ checkpoint: args[0], preset: option('--preset') });
  const parsed = performance.now();
  const backend = await createCpuBackend(model.config, model.weights);
  const ready = performance.now();
  const bare = await createBareCpuSession(model.config, model.weights);
  const { imageSize: S, channels: C } = model.config;
  const input = new Float32Array(C * S * S).map((_, i) => Math.sin(i) * 2);
  const times: Record<string, number[]> = { bare: [], forward: [], layers: [], rollout: [], pca: [] };
  for (let r = -2; r < runs; r++) {
    let t = performance.now();
    await bare.logits(input, 1);
    const tb = performance.now() - t;
    t = performance.now();
    const capture = await backend.forward(input, 1);
    const tf = performance.now() - t;
    t = performance.now();
    layerMeasures(capture, 0, model.config, 0.6);
    const tl = performance.now() - t;
    t = performance.now();
    rollout(capture, 0, model.config, DEFAULT_MEASURE_OPTIONS.rolloutFusion, 0);
    const tr = performance.now() - t;
    t = performance.now();
    lastLayerPca(capture, 0, model.config);
    const tp = performance.now() - t;
    if (r >= 0) { times.bare.push(tb); times.forward.push(tf); times.layers.push(tl); times.rollout.push(tr); times.pca.push(tp); }
  }
  console.log(`load: parse ${(parsed - t0).toFixed(0)} ms, session ${(ready - parsed).toFixed(0)} ms`);
  for (const [k, v] of Object.entries(times)) console.log(`${k.padEnd(8)} ${median(v).toFixed(2)} ms (min ${Math.min(...v).toFixed(2)})`);
  await backend.dispose();
  await bare.release();
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
