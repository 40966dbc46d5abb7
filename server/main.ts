// The CRATE Lens daemon: a language server that answers hovers and analysis requests. The model itself
// lives in an inference worker process (server/worker/) that the daemon restarts if it crashes.
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createConnection, LSPErrorCodes, MarkupKind, ProposedFeatures, ResponseError, TextDocuments, TextDocumentSyncKind,
  type CancellationToken, type Hover, type DocumentLink, type InitializeParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CancelledError, resolveLayer } from './engine/analyze';
import { findImageRefs, imageRefAt } from './daemon/imageRefs';
import { ModelHost } from './daemon/modelHost';
import { hoverMarkdown, markdownText, renderLayer, renderView } from './daemon/render';
import { outsideMessage, resolveImagePath, type ResolveContext } from './daemon/resolve';
import { ResultCache } from './daemon/results';
import { panelImage, panelLayers, panelRollout, summarize } from './daemon/panel';
import { renderHtmlReport, type ReportImage } from './report/html';
import { encodePng, renderHeatmapOverlay } from './image';
import { mergedPatchAttention } from './analysis/attention';
import { upscaleNearest } from './report/upscale';
import {
  Methods, PanelMethods, type PanelImageParams, type PanelLayersParams, type PanelRolloutParams, type SummarizeParams, type AnalyzeParams, type AnalyzeReport,
  type DaemonSettings, type DaemonStatus, type InspectReport, type RenderParams, type RenderResult,
} from './protocol';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = (message: string) => connection.console.info(message);
const host = new ModelHost((state) => void connection.sendNotification(Methods.state, state), log);
const cache = new ResultCache(64);
let settings: DaemonSettings | undefined;
let workspaceFolders: string[] = [];

function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

/** Runs a request handler, turning cancellation and engine errors into LSP errors with a clear message. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof CancelledError) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    if (e instanceof ResponseError) throw e;
    throw new ResponseError(LSPErrorCodes.RequestFailed, (e as Error).message);
  }
}

function documentPath(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

function resolveContext(uri: string): ResolveContext {
  return { documentPath: documentPath(uri), workspaceFolders, allowOutside: settings?.security?.allowImagesOutsideWorkspace === true };
}

connection.onInitialize((params: InitializeParams) => {
  workspaceFolders = (params.workspaceFolders ?? []).map((f) => documentPath(f.uri)).filter((p): p is string => !!p);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      documentLinkProvider: { resolveProvider: false },
    },
  };
});

connection.onInitialized(() => {
  connection.workspace.onDidChangeWorkspaceFolders(async () => {
    const folders = await connection.workspace.getWorkspaceFolders();
    workspaceFolders = (folders ?? []).map((f) => documentPath(f.uri)).filter((p): p is string => !!p);
  });
});

connection.onRequest(Methods.configure, (next: DaemonSettings) => {
  settings = next;
  cache.resize(next.cacheSize);
  host.configure(next);
});

connection.onHover(async (params, token): Promise<Hover | null> => {
  if (!settings?.hover.enabled) return null;
  const document = documents.get(params.textDocument.uri);
  if (!document) return null;
  const line = document.getText({ start: { line: params.position.line, character: 0 }, end: { line: params.position.line + 1, character: 0 } });
  const ref = imageRefAt(line, params.position.character);
  if (!ref) return null;
  const resolution = resolveImagePath(ref.path, resolveContext(document.uri));
  const range = { start: { line: params.position.line, character: ref.start }, end: { line: params.position.line, character: ref.end } };
  if (resolution.status === 'missing') return null;
  const markdown = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range });
  // Messages quote paths and file contents: escaped, so they cannot add links or HTML to the hover.
  const problem = (message: string): Hover => markdown(`**CRATE Lens:** ${markdownText(message)}`);
  if (resolution.status === 'outside') return problem(outsideMessage(ref.path, resolution));
  try {
    const signal = signalOf(token);
    const path = resolution.path;
    const { result, view } = await host.use((active) => cache.analyse(active, path, signal));
    return markdown(hoverMarkdown(view, result, { layer: settings.hover.layer, head: settings.hover.head }));
  } catch (e) {
    if (e instanceof CancelledError || token.isCancellationRequested) return null;
    return problem((e as Error).message);
  }
});

connection.onDocumentLinks((params): DocumentLink[] => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  const text = document.getText();
  const links: DocumentLink[] = [];
  for (const ref of findImageRefs(text)) {
    // Only images a hover may read get a link, so a link never confirms a file outside exists.
    const resolution = resolveImagePath(ref.path, resolveContext(document.uri));
    if (resolution.status !== 'ok') continue;
    links.push({ range: { start: document.positionAt(ref.start), end: document.positionAt(ref.end) }, target: pathToFileURL(resolution.path).toString(), tooltip: 'Open image' });
  }
  return links;
});

connection.onRequest(Methods.analyze, (params: AnalyzeParams, token): Promise<AnalyzeReport> => guarded(() => host.use(async (active) => {
  const results = await active.inference.analyzeImages(params.images, {}, signalOf(token));
  return { model: active.summary, results };
})));

connection.onRequest(Methods.render, (params: RenderParams, token): Promise<RenderResult> => guarded(() => host.use(async (active) => {
  const { result, view } = await cache.analyse(active, params.image, signalOf(token));
  return {
    model: active.summary,
    result,
    view: renderView(view),
    layers: params.layers.map((layer) => renderLayer(view, result, layer, params.allHeads)),
  };
})));

connection.onRequest(Methods.report, (params: AnalyzeParams, token): Promise<{ html: string }> => guarded(() => host.use(async (active) => {
  const signal = signalOf(token);
  const layer = settings?.hover.layer ?? -1;
  const images: ReportImage[] = [];
  for (const path of params.images) {
    if (signal.aborted) throw new CancelledError();
    try {
      const { result, view } = await cache.analyse(active, path, signal);
      const index = resolveLayer(layer, result.layers!.length);
      const grid = result.grid!.width;
      const overlay = renderHeatmapOverlay(view, mergedPatchAttention(result.layers![index].clsAttention), grid, grid);
      images.push({ result, viewPng: encodePng(upscaleNearest(view, 224)), overlayPng: encodePng(overlay), overlayCaption: `layer ${index}, heads merged` });
    } catch (e) {
      if (e instanceof CancelledError) throw e;
      images.push({ result: { image: path, error: (e as Error).message } });
    }
  }
  return { html: renderHtmlReport({ model: active.summary, results: images.map((i) => i.result) }, images) };
})));

connection.onRequest(Methods.inspect, (_params, token): Promise<InspectReport> => guarded(() => host.use(async (active) => (
  { model: active.summary, dictionaries: await active.inference.dictionaryStats(signalOf(token)) }
))));

connection.onRequest(Methods.status, (): DaemonStatus => ({ pid: process.pid, worker: host.workerInfo() }));

// The layer comparison panel.
connection.onRequest(PanelMethods.image, (params: PanelImageParams, token) => guarded(() => host.use((active) => panelImage(active, cache, params, signalOf(token)))));
connection.onRequest(PanelMethods.layers, (params: PanelLayersParams, token) => guarded(() => host.use((active) => panelLayers(active, cache, params, signalOf(token)))));
connection.onRequest(PanelMethods.rollout, (params: PanelRolloutParams, token) => guarded(() => host.use((active) => panelRollout(active, cache, params, signalOf(token)))));
connection.onRequest(PanelMethods.summarize, (params: SummarizeParams, token) => guarded(() => host.use((active) => summarize(active, params, signalOf(token)))));

connection.onShutdown(() => host.dispose());

documents.listen(connection);
connection.listen();
