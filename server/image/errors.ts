/** The one error type the imaging code throws for bad, unsupported or oversized input. */
export class ImageError extends Error {
  /** `cause` is set only when an unexpected JS error was converted, which tests use to find unchecked paths. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageError';
  }
}
