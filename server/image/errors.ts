/** The one error type the imaging code throws for bad, unsupported or oversized input. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}
