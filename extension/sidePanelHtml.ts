// The layer comparison page's HTML: the bundled script and stylesheet from dist/webview, a strict CSP.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** The only folder the page may load files from. */
export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [webviewRoot(extensionUri)] };
}

export function layerPanelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, surface: 'view' | 'editor'): string {
  const nonce = randomBytes(18).toString('base64');
  const root = webviewRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css'));
  // Pictures come from the daemon as data: URIs; charts draw on canvases; nothing is fetched.
  const csp = [
    "default-src 'none'",
    `img-src data: ${webview.cspSource}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>Layer Comparison</title>
</head>
<body data-surface="${surface}">
<main id="app" aria-label="CRATE Lens layer comparison"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
