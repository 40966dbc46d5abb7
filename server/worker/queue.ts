// Forward passes one at a time, in arrival order: a request cancelled while it waits is dropped
// before it runs (a pass already running cannot be stopped), and backends never see concurrent passes.
import { CancelledError } from '../engine/analyze';

export class ForwardQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(() => {
      if (signal?.aborted) throw new CancelledError();
      return work();
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}
