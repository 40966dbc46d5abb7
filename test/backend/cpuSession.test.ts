// The CPU backend's session source: a private temporary model file, removed once the session exists,
// and the bytes directly where no temporary folder can be written.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import { presetConfig } from '../../server/model/config';
import { randomInput, randomWeights } from './randomModel';

const config = { ...presetConfig('tiny'), imageSize: 32, patchSize: 16, dim: 32, depth: 2, heads: 2, dimHead: 16, numClasses: 5, labels: undefined };

async function logitsWith(tmp: string): Promise<Float32Array> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const backend = await createCpuBackend(config, randomWeights(config), { threads: 1, activations: false });
    try {
      return (await backend.forward(randomInput(3 * 32 * 32, 5), 1)).logits;
    } finally {
      await backend.dispose();
    }
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

describe('CPU backend session source', () => {
  it('leaves no temporary model behind, and gives the same logits when no temporary folder is writable', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'crate-lens-test-'));
    try {
      const viaFile = await logitsWith(tmp);
      // (Other tools may leave their own files there: only the backend's folder is looked for.)
      assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('crate-lens-model-')), [], 'the temporary model folder is removed once the session exists');
      const viaBytes = await logitsWith(join(tmp, 'missing', 'folder'));
      assert.deepEqual(Array.from(viaBytes), Array.from(viaFile));
      assert.ok(viaFile.length === 5 && viaFile.every(Number.isFinite));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
