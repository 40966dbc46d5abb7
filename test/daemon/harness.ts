// Drives the real daemon bundle over LSP (stdio), as the extension does over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection, CancellationTokenSource } from 'vscode-jsonrpc/node';
import { Methods, type DaemonSettings, type DaemonState, type DaemonStatus } from '../../server/protocol';

export const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

export const baseSettings = (over: Partial<DaemonSettings> = {}): DaemonSettings => ({
  checkpoint: '', config: '', backend: 'cpu', resize: 'config',
  hover: { enabled: true, layer: -1, head: 'mean' }, cacheSize: 16, security: { allowImagesOutsideWorkspace: false }, ...over,
});

export class Daemon {
  readonly states: DaemonState[] = [];
  /** The daemon's log (window/logMessage), the last 1000 lines. */
  readonly logs: string[] = [];
  private waiters: { test: (s: DaemonState) => boolean; resolve: (s: DaemonState) => void }[] = [];
  private version = 0;

  private constructor(readonly process: ChildProcess, readonly connection: MessageConnection) {
    connection.onNotification(Methods.state, (s: DaemonState) => {
      this.states.push(s);
      this.waiters = this.waiters.filter((w) => (w.test(s) ? (w.resolve(s), false) : true));
    });
    connection.onNotification('window/logMessage', (m: { message: string }) => {
      this.logs.push(m.message);
      if (this.logs.length > 1000) this.logs.shift();
    });
    connection.onRequest('workspace/configuration', () => []);
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.listen();
  }

  /** `env`: extra environment for the daemon (and so its worker), e.g. a test fault hook. */
  static async start(workspace: string, env: Record<string, string> = {}): Promise<Daemon> {
    const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const daemon = new Daemon(child, connection);
    await connection.sendRequest('initialize', {
      processId: process.pid, rootUri: pathToFileURL(workspace).toString(), capabilities: {},
      workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: 'ws' }],
    });
    await connection.sendNotification('initialized', {});
    return daemon;
  }

  /** Resolves with the first state (from now on) that passes `test`. */
  waitForState(test: (s: DaemonState) => boolean, timeoutMs = 30000): Promise<DaemonState> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching state within ${timeoutMs} ms; saw ${JSON.stringify(this.states.map((s) => s.state))}`)), timeoutMs);
      this.waiters.push({ test, resolve: (s) => { clearTimeout(timer); resolve(s); } });
    });
  }

  async configure(settings: DaemonSettings, until: DaemonState['state'] = 'ready'): Promise<DaemonState> {
    const reached = this.waitForState((s) => s.state === until);
    await this.connection.sendRequest(Methods.configure, settings);
    return reached;
  }

  async open(path: string, text: string, languageId = 'markdown'): Promise<string> {
    const uri = pathToFileURL(path).toString();
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: ++this.version, text } });
    return uri;
  }

  hover(uri: string, line: number, character: number, cancel?: CancellationTokenSource): Promise<{ contents: { kind: string; value: string } } | null> {
    const params = { textDocument: { uri }, position: { line, character } };
    return cancel ? this.connection.sendRequest('textDocument/hover', params, cancel.token) : this.connection.sendRequest('textDocument/hover', params);
  }

  status(): Promise<DaemonStatus> {
    return this.connection.sendRequest(Methods.status, {});
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch { /* already gone */ }
    this.connection.dispose();
    this.process.kill();
  }
}
