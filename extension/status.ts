// The status bar item: model, backend and state (loading, ready, blocked, error), and crashes survived.
import * as vscode from 'vscode';
import type { DaemonState } from '../server/protocol';

export class Status implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('crateLens.status', vscode.StatusBarAlignment.Right, 100);
  private restarts = 0;

  constructor() {
    this.item.name = 'CRATE Lens';
    this.item.command = 'crateLens.inspectModel';
    this.show({ state: 'loading', checkpoint: 'starting daemon' });
    this.item.show();
  }

  daemonRestarted(): void { this.restarts++; }

  show(state: DaemonState): void {
    const notes = [
      this.restarts > 0 ? `daemon restarted after a crash${this.restarts > 1 ? ` ${this.restarts}×` : ''}` : '',
      state.worker?.restarts ? `inference worker restarted after a crash${state.worker.restarts > 1 ? ` ${state.worker.restarts}×` : ''}, last: ${state.worker.lastCrash}` : '',
    ].filter((n) => n);
    const restarted = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    this.item.backgroundColor = undefined;
    switch (state.state) {
      case 'loading':
        this.item.text = '$(sync~spin) CRATE: loading';
        this.item.tooltip = `CRATE Lens: loading ${state.checkpoint}`;
        break;
      case 'ready': {
        const m = state.model;
        const name = m.checkpoint.split(/[\\/]/).pop();
        this.item.text = `$(eye) CRATE: ready`;
        this.item.tooltip = new vscode.MarkdownString(
          `**CRATE Lens** ready${restarted}\n\n${name} · ${m.dim}×${m.depth}, ${m.heads} heads · ${m.parameters.toLocaleString('en-US')} parameters\n\n` +
          `config: ${m.configSource}\n\nbackend: ${m.backend} (${m.device})\n\nClick to inspect the model.`);
        break;
      }
      case 'blocked':
        this.item.text = '$(shield) CRATE: not trusted';
        this.item.tooltip = `CRATE Lens: ${state.message}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'error':
        this.item.text = '$(error) CRATE: error';
        this.item.tooltip = `CRATE Lens: ${state.message}${restarted}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  }

  dispose(): void { this.item.dispose(); }
}
