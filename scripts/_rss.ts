import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ort from 'onnxruntime-node';
import { createCpuBackend } from '../server/backend/cpu';
import { buildModelGraph } from '../server/backend/onnx/modelGraph';
import { loadModel } from '../server/engine/loadModel';
const hwm = () => { const s = readFileSync('/proc/self/status', 'utf8'); return `HWM ${Number(/VmHWM:\s+(\d+)/.exec(s)![1]) >> 10} RSS ${Number(/VmRSS:\s+(\d+)/.exec(s)![1]) >> 10}`; };
setFlagsFromString('--expose-gc'); const gc = runInNewContext('gc') as () => void;
const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all' };
async function main() {
  const mode = process.argv[3];
  console.log('start', hwm());
  let model: any = loadModel({ checkpoint: process.argv[2], preset: 'base' });
  console.log('loaded', hwm());
  const config = model.config;
  const input = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
  if (mode === 'A') {
    const b = await createCpuBackend(config, model.weights, { activations: false });
    console.log('session', hwm()); model = undefined; gc();
    await b.forward(input, 1); console.log('forward', hwm());
  } else {
    let bytes: Uint8Array | undefined = buildModelGraph(config, model.weights);
    console.log('bytes', hwm()); model = undefined; gc(); console.log('gc', hwm());
    let s: ort.InferenceSession;
    if (mode === 'B') { s = await ort.InferenceSession.create(bytes, opts); }
    else { writeFileSync('/tmp/_m.onnx', bytes); bytes = undefined; gc(); console.log('written', hwm()); s = await ort.InferenceSession.create('/tmp/_m.onnx', opts); unlinkSync('/tmp/_m.onnx'); }
    console.log('session', hwm()); bytes = undefined; gc();
    await s.run({ pixels: new ort.Tensor('float32', input, [1, 3, 224, 224]), extremes: new ort.Tensor('bool', Uint8Array.of(0), []) }); console.log('forward', hwm());
  }
}
main();
