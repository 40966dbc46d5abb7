// Human-readable renderings of the CLI's reports.
import { dirname } from 'node:path';
import { familyLabel, type AnalyzeReport, type EvalReport, type InspectReport, type ModelSummary } from '../protocol';

const num = (v: number, digits = 4) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

export function formatModel(m: ModelSummary): string {
  const lines = [
    `model       ${m.checkpoint} (${m.checkpointFormat}, ${m.container})`,
    `family      ${familyLabel(m)}`,
    `config      ${m.configSource}`,
    `shape       ${m.imageSize}px / ${m.patchSize}px patches, ${m.channels} channel(s), dim ${m.dim}, ${m.depth} layers, ${m.heads} heads x ${m.dimHead}, ${m.numClasses} classes, pool ${m.pool}`,
    `ista        step ${m.istaStepSize}, lambda ${m.istaLambda}; resize ${m.resize}`,
    `parameters  ${m.parameters.toLocaleString('en-US')}`,
    `backend     ${m.backend}: ${m.device}`,
  ];
  for (const w of m.configWarnings) lines.push(`warning     ${w}`);
  return lines.join('\n');
}

/** One line per image; per-layer tables too when there are few images. */
export function formatAnalyze(report: AnalyzeReport, reportFile?: string): string {
  const parts = [formatModel(report.model)];
  const detailed = report.results.length <= 3;
  if (!detailed) parts.push(summaryTable(report));
  for (const r of detailed ? report.results : []) {
    if (r.error) { parts.push(`\n${r.image}\n  error: ${r.error}`); continue; }
    const lines = [`\n${r.image} (${r.width}x${r.height})`];
    lines.push(r.top!.length ? `  top: ${r.top!.map((t) => `${t.label} ${(t.probability * 100).toFixed(1)}%`).join(', ')}` : '  top: none (no classifier head)');
    lines.push('  layer  sparsity  reconErr  istaResid  codingRate');
    for (const l of r.layers!) {
      lines.push(`  ${String(l.index).padStart(5)}  ${num(l.sparsity).padStart(8)}  ${num(l.reconstructionError).padStart(8)}  ${num(l.istaResidual).padStart(9)}  ${num(l.codingRate, 3).padStart(10)}`);
    }
    for (const h of r.heatmaps ?? []) lines.push(`  heatmap: ${h}`);
    parts.push(lines.join('\n'));
  }
  const heatmaps = report.results.filter((r) => r.heatmaps?.length).length;
  if (!detailed && heatmaps > 0) parts.push(`\n${heatmaps} heatmap(s) written to ${dirname(report.results.find((r) => r.heatmaps?.length)!.heatmaps![0])}`);
  if (reportFile) parts.push(`${detailed ? '\n' : ''}report: ${reportFile}`);
  return parts.join('\n');
}

function summaryTable(report: AnalyzeReport): string {
  const rows = report.results.map((r) => {
    if (r.error) return [r.image, `error: ${r.error}`, '', ''];
    const best = r.top![0];
    const last = r.layers![r.layers!.length - 1];
    if (!best) return [r.image, '(no classifier head)', '', num(last.sparsity, 3)];
    return [r.image, best.label, `${(100 * best.probability).toFixed(1)}%`, num(last.sparsity, 3)];
  });
  const header = ['image', 'prediction', 'conf.', 'sparsity (last layer)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return ['', line(header), ...rows.map(line)].join('\n');
}

export function formatInspect(report: InspectReport): string {
  const lines = [formatModel(report.model), '', report.model.family === 'crate-alpha' ? 'layer  ||DDt-I||/sqrt(d)  sigma_min  sigma_max' : 'layer  ||DtD-I||/sqrt(d)  sigma_min  sigma_max'];
  for (const d of report.dictionaries) {
    lines.push(`${String(d.layer).padStart(5)}  ${num(d.orthogonalityGap).padStart(17)}  ${num(d.singularMin).padStart(9)}  ${num(d.singularMax).padStart(9)}`);
  }
  return lines.join('\n');
}

export function formatEval(report: EvalReport, labels?: string[]): string {
  const lines = [formatModel(report.model), ''];
  lines.push(`accuracy    ${report.accuracy.toFixed(2)}% (${report.correct} of ${report.images} images, ${report.seconds.toFixed(1)} s)`);
  if (report.failed.length) lines.push(`failed      ${report.failed.length} image(s) could not be read`);
  lines.push('', 'per class   correct / images');
  report.confusion.forEach((row, k) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) lines.push(`  ${(labels?.[k] ?? `class ${k}`).padEnd(20)} ${String(row[k]).padStart(6)} / ${total}`);
  });
  lines.push('', 'layer  sparsity (mean ± sd)  reconErr          istaResid         codingRate');
  const ms = (s: { mean: number; std: number }, d = 4) => `${num(s.mean, d)} ± ${num(s.std, d)}`.padEnd(18);
  for (const l of report.layers) {
    lines.push(`${String(l.index).padStart(5)}  ${ms(l.sparsity).padEnd(21)} ${ms(l.reconstructionError)}${ms(l.istaResidual)}${ms(l.codingRate, 2)}`);
  }
  const seg = report.segmentation;
  if (seg) {
    lines.push('', `attention mask (last layer, heads merged, DINO ${seg.threshold}) vs foreground, ${seg.images} images:`);
    lines.push(`  mean IoU ${seg.meanIoU.toFixed(4)}; centre prior of the same area ${seg.centrePriorIoU.toFixed(4)}; mask covers ${(100 * seg.meanMaskArea).toFixed(1)}% of patches`);
  }
  return lines.join('\n');
}
