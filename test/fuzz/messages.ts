// What the test thread and the fuzz worker tell each other.

/** Where a worker finds a property: a module and the export holding the named properties. */
export interface PropertySource {
  module: string;
  exportName: string;
}

export interface FuzzRequest {
  id: number;
  source: PropertySource;
  name: string;
  runs: number;
  seed: number;
  path?: string;
}

export interface FuzzReply {
  id: number;
  failed: boolean;
  numRuns: number;
  report?: string;
  /** The shrunk failing input. */
  counterexample?: Uint8Array;
  counterexampleLabel?: string;
}

/** Layout of the shared buffer: [bytes recorded, cases started] as Int32, then the current input. */
export const SHARED_HEADER_BYTES = 8;
