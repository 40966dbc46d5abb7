// Checkpoint readers that never execute pickle code: PyTorch zip archives
// (torch >= 1.6) through a restricted unpickler, and safetensors files.

import { readFileSync, statSync } from 'node:fs';
import { detectFormat } from './detect';
import { CheckpointError } from './errors';
import { readSafetensors } from './safetensors';
import { readTorchZip } from './torchZip';
import type { Checkpoint } from './types';

export { CheckpointError, ForbiddenGlobalError } from './errors';
export type { Checkpoint, SourceDType, TensorData } from './types';

export function readCheckpointBytes(bytes: Uint8Array, fileName: string): Checkpoint {
  const format = detectFormat(bytes);
  try {
    switch (format) {
      case 'pytorch-zip':
        return readTorchZip(bytes);
      case 'safetensors':
        return readSafetensors(bytes);
      case 'legacy-torch':
        throw new CheckpointError(
          `${fileName} uses the legacy (pre-1.6) PyTorch format, which is unsupported: re-save it with torch>=1.6 (torch.save(torch.load(path), path))`,
        );
      case 'unknown':
        throw new CheckpointError(`${fileName} is not a PyTorch or safetensors checkpoint`);
    }
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    // Defence in depth: a bug in a reader must still surface as one clear line.
    throw new CheckpointError(`cannot read ${fileName}: ${(error as Error).message}`, { cause: error });
  }
}

export function readCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new CheckpointError(`not a file: ${path}`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`no such file: ${path}`);
    throw new CheckpointError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return readCheckpointBytes(bytes, path);
}
