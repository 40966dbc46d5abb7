// crate-lens: the analysis engine from the command line.
import { chooseBackend } from '../backend/select';
import { analyzeImages, writeHtmlReport } from '../engine/analyze';
import type { ReportImage } from '../report/html';
import { dictionaryStats } from '../engine/inspect';
import { loadModel } from '../engine/loadModel';
import { modelSummary } from '../engine/summary';
import { evaluate } from '../engine/evaluate';
import { readLabelledSet } from '../engine/labelledSet';
import { labelNames } from '../labels';
import type { AnalyzeReport, InspectReport } from '../protocol';
import { parseCli, USAGE, UsageError, type AnalyzeArgs, type EvalArgs, type InspectArgs } from './args';
import { formatAnalyze, formatEval, formatInspect } from './format';
import { expandImages } from './images';

declare const CRATE_LENS_VERSION: string | undefined;

function print(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text + '\n', () => resolve()));
}

async function analyze(args: AnalyzeArgs): Promise<number> {
  const images = expandImages(args.images);
  if (images.length === 0) throw new UsageError('no images found in the given folders');
  const model = loadModel(args);
  const { backend, note } = await chooseBackend(args.backend, model.config, model.weights);
  if (note) process.stderr.write(`crate-lens: ${note}\n`);
  const collected: ReportImage[] = [];
  try {
    const results = await analyzeImages(model, backend, images, {
      batchSize: args.batch,
      topK: args.top,
      rolloutFusion: args.rolloutFusion,
      rolloutDiscard: args.rolloutDiscard,
      heatmaps: args.out ? { dir: args.out, layer: args.layer, head: args.head, collect: collected } : undefined,
      onProgress: process.stderr.isTTY && images.length > 8 ? (done, total) => process.stderr.write(`\ranalysed ${done}/${total}`) : undefined,
    });
    if (process.stderr.isTTY && images.length > 8) process.stderr.write('\n');
    const report: AnalyzeReport = { model: modelSummary(model, backend), results };
    const reportFile = args.out ? await writeHtmlReport(args.out, report, collected) : undefined;
    await print(args.format === 'json' ? JSON.stringify(report) : formatAnalyze(report, reportFile));
    const failed = results.filter((r) => r.error);
    for (const f of failed) process.stderr.write(`crate-lens: ${f.image}: ${f.error}\n`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await backend.dispose();
  }
}

async function inspect(args: InspectArgs): Promise<number> {
  const model = loadModel(args);
  const report: InspectReport = {
    model: modelSummary(model, { name: 'cpu', device: 'none (inspection only)' }),
    dictionaries: await dictionaryStats(model),
  };
  await print(args.format === 'json' ? JSON.stringify(report) : formatInspect(report));
  return 0;
}

async function evalCommand(args: EvalArgs): Promise<number> {
  const model = loadModel(args);
  if (model.config.numClasses === 0) throw new Error(`eval needs a classifier: this ${model.family} model has none (analyze computes its per-layer measures)`);
  const set = readLabelledSet(args.set, labelNames(model.config));
  if (set.length === 0) throw new UsageError(`no images in ${args.set}`);
  const outOfRange = set.find((s) => s.label >= model.config.numClasses);
  if (outOfRange) throw new Error(`${outOfRange.path}: label ${outOfRange.label} is outside the model's ${model.config.numClasses} classes`);
  const { backend, note } = await chooseBackend(args.backend, model.config, model.weights);
  if (note) process.stderr.write(`crate-lens: ${note}\n`);
  try {
    const progress = process.stderr.isTTY || args.format === 'text';
    const report = await evaluate(model, backend, set, {
      batchSize: args.batch,
      segmentation: args.segmentation,
      onProgress: progress ? (done, total) => process.stderr.write(`\revaluated ${done}/${total}`) : undefined,
    });
    if (progress) process.stderr.write('\n');
    await print(args.format === 'json' ? JSON.stringify(report) : formatEval(report, labelNames(model.config)));
    for (const f of report.failed) process.stderr.write(`crate-lens: ${f.image}: ${f.error}\n`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await backend.dispose();
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseCli(argv);
    switch (args.command) {
      case 'help': await print(USAGE); return 0;
      case 'version': await print(typeof CRATE_LENS_VERSION === 'string' ? CRATE_LENS_VERSION : 'dev'); return 0;
      case 'analyze': return await analyze(args);
      case 'inspect': return await inspect(args);
      case 'eval': return await evalCommand(args);
    }
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    process.stderr.write(`crate-lens: ${message}\n`);
    if (e instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
