// The CRATE Lens extension: starts the daemon, keeps it pointed at the configured model.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { Methods, type DaemonState, type InspectReport, type ModelSelection } from '../server/protocol';

let client: LanguageClient | undefined;

function selection(): ModelSelection {
  const config = vscode.workspace.getConfiguration('crateLens');
  return { checkpoint: config.get<string>('checkpoint', ''), config: config.get<string>('config', '') };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('CRATE Lens');
  const status = vscode.languages.createLanguageStatusItem('crateLens.status', { language: '*' });
  status.name = 'CRATE Lens';
  status.text = 'CRATE Lens: starting';
  context.subscriptions.push(output, status);

  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = { documentSelector: [{ scheme: 'file' }], outputChannel: output };
  client = new LanguageClient('crateLens', 'CRATE Lens', serverOptions, clientOptions);
  context.subscriptions.push(client.onNotification(Methods.state, (state: DaemonState) => {
    status.severity = state.state === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
    status.busy = state.state === 'loading';
    status.text = state.state === 'ready' ? `CRATE ${state.model.dim}x${state.model.depth} ready (${state.model.backend})`
      : state.state === 'loading' ? 'CRATE Lens: loading model' : `CRATE Lens: ${state.message}`;
  }));
  await client.start();
  await client.sendRequest(Methods.selectModel, selection());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('crateLens')) await client?.sendRequest(Methods.selectModel, selection());
    }),
    vscode.commands.registerCommand('crateLens.showLog', () => output.show()),
    vscode.commands.registerCommand('crateLens.restartDaemon', async () => {
      await client?.restart();
      await client?.sendRequest(Methods.selectModel, selection());
    }),
    vscode.commands.registerCommand('crateLens.inspectModel', async () => {
      try {
        const report = await client!.sendRequest<InspectReport>(Methods.inspect, {});
        const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(report, null, 2) });
        await vscode.window.showTextDocument(doc);
      } catch (e) {
        void vscode.window.showErrorMessage(`CRATE Lens: ${(e as Error).message}`);
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
