// The CRATE Lens daemon: a language server that owns the model and answers analysis requests.
import { createConnection, ErrorCodes, LSPErrorCodes, ProposedFeatures, ResponseError } from 'vscode-languageserver/node';
import { createCpuBackend } from './backend/cpu';
import type { Backend } from './backend/types';
import { analyzeImages, CancelledError } from './engine/analyze';
import { dictionaryStats } from './engine/inspect';
import { loadModel, type LoadedModel } from './engine/loadModel';
import { modelSummary } from './engine/summary';
import { PRESETS } from './model/config';
import { Methods, type AnalyzeParams, type AnalyzeReport, type DaemonState, type InspectReport, type ModelSelection } from './protocol';

const connection = createConnection(ProposedFeatures.all);

interface Active { model: LoadedModel; backend: Backend }
let active: Promise<Active> | undefined;

function announce(state: DaemonState): void { void connection.sendNotification(Methods.state, state); }

async function select(selection: ModelSelection): Promise<void> {
  const previous = active;
  active = (async () => {
    if (previous) await previous.then((a) => a.backend.dispose(), () => undefined);
    if (!selection.checkpoint) throw new Error('no checkpoint configured: set crateLens.checkpoint');
    announce({ state: 'loading', checkpoint: selection.checkpoint });
    const isPreset = selection.config in PRESETS;
    const model = loadModel({
      checkpoint: selection.checkpoint,
      config: selection.config && !isPreset ? selection.config : undefined,
      preset: isPreset ? selection.config : undefined,
    });
    const backend = await createCpuBackend(model.config, model.weights);
    announce({ state: 'ready', model: modelSummary(model, backend) });
    connection.console.info(`loaded ${model.checkpointPath} (${model.parameters} parameters, config: ${model.source.kind})`);
    return { model, backend };
  })();
  active.catch((e: Error) => {
    announce({ state: 'error', message: e.message });
    connection.console.error(`model load failed: ${e.message}`);
  });
}

async function current(): Promise<Active> {
  if (!active) throw new ResponseError(ErrorCodes.InvalidRequest, 'no model selected');
  try {
    return await active;
  } catch (e) {
    throw new ResponseError(ErrorCodes.InvalidRequest, `model not loaded: ${(e as Error).message}`);
  }
}

connection.onInitialize(() => ({ capabilities: {} }));

connection.onRequest(Methods.selectModel, async (selection: ModelSelection) => { await select(selection); });

connection.onRequest(Methods.analyze, async (params: AnalyzeParams, token): Promise<AnalyzeReport> => {
  const { model, backend } = await current();
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort());
  try {
    const results = await analyzeImages(model, backend, params.images, { signal: controller.signal });
    return { model: modelSummary(model, backend), results };
  } catch (e) {
    if (e instanceof CancelledError) throw new ResponseError(LSPErrorCodes.RequestCancelled, "cancelled");
    throw e;
  }
});

connection.onRequest(Methods.inspect, async (): Promise<InspectReport> => {
  const { model, backend } = await current();
  return { model: modelSummary(model, backend), dictionaries: await dictionaryStats(model) };
});

connection.listen();
