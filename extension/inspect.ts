// Inspect Model: the model summary and dictionary statistics as a read-only Markdown document.
import * as vscode from 'vscode';
import { familyLabel, type InspectReport } from '../server/protocol';

export const INSPECT_SCHEME = 'crate-lens-inspect';

export function inspectMarkdown(report: InspectReport): string {
  const m = report.model;
  const lines = [
    '# CRATE Lens: model',
    '',
    '| | |', '|---|---|',
    `| checkpoint | ${m.checkpoint} |`,
    `| format | ${m.checkpointFormat}, ${m.container} |`,
    `| family | ${familyLabel(m)} |`,
    `| config | ${m.configSource} |`,
    `| shape | ${m.imageSize} px, ${m.patchSize} px patches, ${m.channels} channel(s), dim ${m.dim}, ${m.depth} layers, ${m.heads} heads × ${m.dimHead}, ${m.numClasses} classes, pool ${m.pool} |`,
    `| ISTA | step ${m.istaStepSize}, lambda ${m.istaLambda} |`,
    `| parameters | ${m.parameters.toLocaleString('en-US')} |`,
    `| backend | ${m.backend} |`,
    `| device | ${m.device} |`,
    ...m.configWarnings.map((w) => `| warning | ${w} |`),
    '',
    '## Dictionaries',
    '',
    m.family === 'crate-alpha' ? '| layer | ‖DDᵀ − I‖_F / √dim | σ min | σ max |' : '| layer | ‖DᵀD − I‖_F / √dim | σ min | σ max |', '|---:|---:|---:|---:|',
    ...report.dictionaries.map((d) => `| ${d.layer} | ${d.orthogonalityGap.toFixed(4)} | ${d.singularMin.toFixed(4)} | ${d.singularMax.toFixed(4)} |`),
    '',
  ];
  return lines.join('\n');
}

/** Serves the latest inspection under a fixed URI so the document refreshes in place. */
export class InspectDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private content = '';
  readonly uri = vscode.Uri.parse(`${INSPECT_SCHEME}:CRATE Model.md`);

  provideTextDocumentContent(): string { return this.content; }

  update(report: InspectReport): void {
    this.content = inspectMarkdown(report);
    this.changed.fire(this.uri);
  }
}
