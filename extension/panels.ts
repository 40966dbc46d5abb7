// Webview panels: the analysis report, all heads of a layer, and two layers side by side.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  parsePanelMessage, type ExtensionToPanel, type RenderResult, type RenderedLayer,
} from '../server/protocol';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function csp(nonce: string): string {
  return `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">`;
}

function panel(id: string, title: string, scripts = false): vscode.WebviewPanel {
  // Pictures arrive as data: URIs from the daemon, so the page needs no local resources at all.
  return vscode.window.createWebviewPanel(id, title, vscode.ViewColumn.Beside, { enableScripts: scripts, localResourceRoots: [] });
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 12px; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; } figure { margin: 0; } img { width: 160px; height: 160px; image-rendering: pixelated; border-radius: 3px; }
figcaption { font-size: 12px; color: var(--vscode-descriptionForeground); }
select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border); padding: 2px 4px; }
.side { display: flex; gap: 24px; } h2 { font-size: 13px; font-weight: 600; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 1px 8px; text-align: right; }
`;

/** The daemon's self-contained HTML report, with a CSP and its style allowed by nonce. */
export function showReport(title: string, html: string): void {
  const nonce = randomBytes(16).toString('base64');
  const p = panel('crateLens.report', title);
  // The report picks colours from the OS scheme; inside VS Code it follows the editor's theme instead.
  const theme = `<style nonce="${nonce}">:root { --fg: var(--vscode-foreground); --bg: var(--vscode-editor-background); --muted: var(--vscode-descriptionForeground); --card: var(--vscode-sideBar-background, var(--vscode-editorWidget-background)); --accent: var(--vscode-charts-orange); }</style>`;
  p.webview.html = html.replace('<head>', `<head>${csp(nonce)}`).replace('<style>', `<style nonce="${nonce}">`).replace('</head>', `${theme}</head>`);
}

function figure(src: string, caption: string): string {
  return `<figure><img src="${src}" alt="${escape(caption)}"><figcaption>${escape(caption)}</figcaption></figure>`;
}

export function showHeads(render: RenderResult): void {
  const layer = render.layers[0];
  const nonce = randomBytes(16).toString('base64');
  const name = render.result.image.split(/[\\/]/).pop() ?? render.result.image;
  const p = panel('crateLens.heads', `${name}: layer ${layer.index} heads`);
  const l = render.result.layers![layer.index];
  p.webview.html = `<!doctype html><html><head>${csp(nonce)}<style nonce="${nonce}">${STYLE}</style></head><body>
<h2>${escape(name)} · layer ${layer.index} of ${render.model.depth} · sparsity ${l.sparsity.toFixed(3)}</h2>
<div class="grid">${figure(render.view, 'input')}${figure(layer.merged, 'heads merged')}${figure(layer.mask, 'DINO 0.6 mask')}
${layer.heads.map((h, i) => figure(h, `head ${i}`)).join('')}</div></body></html>`;
}

/** Two layers of one image side by side; the page asks for other layers through typed messages. */
export function showComparison(image: string, depth: number, fetchLayers: (a: number, b: number) => Promise<RenderResult>): void {
  const nonce = randomBytes(16).toString('base64');
  const name = image.split(/[\\/]/).pop() ?? image;
  const p = panel('crateLens.compare', `${name}: layers`, true);
  const options = Array.from({ length: depth }, (_, i) => `<option value="${i}">layer ${i}</option>`).join('');
  p.webview.html = `<!doctype html><html><head>${csp(nonce)}<style nonce="${nonce}">${STYLE}</style></head><body>
<h2>${escape(name)}</h2>
<label>A <select id="a">${options}</select></label> <label>B <select id="b">${options}</select></label> <span id="status"></span>
<div class="side"><div id="A"></div><div id="B"></div></div>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const a = document.getElementById('a'), b = document.getElementById('b');
a.value = '0'; b.value = String(${depth - 1});
const send = () => { document.getElementById('status').textContent = 'rendering…'; vscode.postMessage({ type: 'selectLayers', a: Number(a.value), b: Number(b.value) }); };
a.addEventListener('change', send); b.addEventListener('change', send);
const show = (el, l) => { el.replaceChildren(); for (const [src, cap] of [[l.merged, 'layer ' + l.index + ', heads merged'], [l.mask, 'DINO 0.6 mask']]) {
  const f = document.createElement('figure'); const img = document.createElement('img'); img.src = src; img.alt = cap;
  const c = document.createElement('figcaption'); c.textContent = cap; f.append(img, c); el.append(f); } };
window.addEventListener('message', (e) => { const m = e.data;
  if (m.type === 'layers') { show(document.getElementById('A'), m.a); show(document.getElementById('B'), m.b); document.getElementById('status').textContent = ''; }
  else if (m.type === 'error') document.getElementById('status').textContent = m.message; });
vscode.postMessage({ type: 'ready' });
</script></body></html>`;
  const post = (m: ExtensionToPanel) => void p.webview.postMessage(m);
  let last = { a: 0, b: depth - 1 };
  p.webview.onDidReceiveMessage(async (raw) => {
    const message = parsePanelMessage(raw);
    if (!message) return;
    if (message.type === 'selectLayers') last = { a: message.a, b: message.b };
    try {
      const render = await fetchLayers(last.a, last.b);
      const [la, lb]: RenderedLayer[] = render.layers;
      post({ type: 'layers', a: la, b: lb, depth });
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
    }
  });
}
