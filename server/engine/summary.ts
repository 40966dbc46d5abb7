// The model summary every report carries.
import type { Backend } from '../backend/types';
import type { ModelSummary } from '../protocol';
import { codeWidth } from '../model/families/alpha';
import { configSourceText, type LoadedModel } from './loadModel';

export function modelSummary(model: Omit<LoadedModel, 'weights'>, backend: Pick<Backend, 'name' | 'device'>): ModelSummary {
  const c = model.config;
  return {
    family: model.family, codeDim: codeWidth(c),
    imageSize: c.imageSize, patchSize: c.patchSize, channels: c.channels, dim: c.dim, depth: c.depth,
    heads: c.heads, dimHead: c.dimHead, numClasses: c.numClasses, parameters: model.parameters,
    configSource: configSourceText(model.source), configWarnings: model.source.warnings,
    pool: c.pool, istaStepSize: c.istaStepSize, istaLambda: c.istaLambda, resize: c.resize,
    checkpoint: model.checkpointPath, checkpointFormat: model.format, container: model.container,
    backend: backend.name, device: backend.device,
  };
}
