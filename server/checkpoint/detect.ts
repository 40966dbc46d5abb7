// Recognises a checkpoint format from its first bytes; file extensions lie.

export type DetectedFormat = 'pytorch-zip' | 'safetensors' | 'legacy-torch' | 'unknown';

/** torch's legacy serializer starts with this magic number pickled as a protocol-2 LONG1. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function detectFormat(bytes: Uint8Array): DetectedFormat {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'pytorch-zip';
  if (bytes.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => bytes[i] === b)) return 'legacy-torch';
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' */) return 'safetensors';
  return 'unknown';
}
