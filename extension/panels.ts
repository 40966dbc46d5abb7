// Webview panels: the analysis report and all heads of a layer (the layer comparison is sidePanel.ts).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { RenderResult } from '../server/protocol';

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
