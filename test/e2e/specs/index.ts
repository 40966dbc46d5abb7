// The specs, in the order they run. Each one waits for what it needs, so one failing does not
// make the next ones fail (the runner closes editors and hovers between them).
import type { Spec } from '../harness';
import { analyzeImage } from './analyze';
import { brokenCheckpoint } from './broken';
import { allHeads } from './heads';
import { hoverMarkdown, hoverPython } from './hover';
import { inspectModel } from './inspect';
import { layerPanel } from './panel';
import { status } from './status';

export const specs: Spec[] = [status, hoverMarkdown, hoverPython, allHeads, inspectModel, analyzeImage, brokenCheckpoint, layerPanel];
