// Memory of the daemon and its inference worker, read from /proc (Linux only).
import { readFileSync } from 'node:fs';

export interface Memory { rssKb: number; hwmKb: number }

/** VmRSS and VmHWM (peak RSS over the process's life) of a process; undefined once it is gone. */
export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const memory = { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
    return Number.isFinite(memory.rssKb) ? memory : undefined;
  } catch {
    return undefined;
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s).map(Number);
  } catch {
    return [];
  }
}

/** Running, not exited: an orphan's zombie may wait a while for its reaper. */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Samples a daemon and its children (the worker, restarted ones included) and keeps the peaks. */
export class MemorySampler {
  readonly peak = { daemon: { rssKb: 0, hwmKb: 0 }, worker: { rssKb: 0, hwmKb: 0 } };
  private readonly timer: NodeJS.Timeout;
  private daemons = new Set<number>();

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  watch(daemonPid: number): void { this.daemons.add(daemonPid); }

  sample(): void {
    const keep = (into: Memory, m: Memory | undefined) => {
      if (!m) return;
      into.rssKb = Math.max(into.rssKb, m.rssKb);
      into.hwmKb = Math.max(into.hwmKb, m.hwmKb);
    };
    for (const pid of this.daemons) {
      keep(this.peak.daemon, memoryOf(pid));
      for (const child of childrenOf(pid)) keep(this.peak.worker, memoryOf(child));
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}
