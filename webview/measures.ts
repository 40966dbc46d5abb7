// How the page names and prints the measures (the CLI's text output uses the same digits).
import { PANEL_MEASURES, type PanelMeasure } from '../server/protocol';

export interface MeasureInfo { key: PanelMeasure; title: string; short: string; description: string; digits: number }

export const MEASURES: MeasureInfo[] = [
  { key: 'sparsity', title: 'Sparsity', short: 'sparsity', description: 'fraction of exact zeros in the ISTA output', digits: 4 },
  { key: 'reconstructionError', title: 'Reconstruction error', short: 'recon. error', description: '‖x − z Dᵀ‖ / ‖x‖', digits: 4 },
  { key: 'istaResidual', title: 'ISTA residual', short: 'ISTA residual', description: '‖x D − x Dᵀ D‖ / ‖x D‖', digits: 4 },
  { key: 'codingRate', title: 'Coding rate', short: 'coding rate', description: 'Σₖ ½ logdet(I + p/(Tε²) XₖXₖᵀ)', digits: 3 },
];

if (MEASURES.some((m, i) => m.key !== PANEL_MEASURES[i])) throw new Error('MEASURES out of step with PANEL_MEASURES');

export const format = (v: number | undefined, digits: number) => (v === undefined ? '–' : Number.isFinite(v) ? v.toFixed(digits) : String(v));

export const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
