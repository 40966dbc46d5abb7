// Property-based fuzzing of the PNG, JPEG, GIF and BMP decoders behind decodeImage.
// See config.ts for long runs and replays.
import { join } from 'node:path';
import { fuzzProperties } from './harness';

fuzzProperties('image decoders keep their contract on hostile input', { module: join(__dirname, 'properties.ts'), exportName: 'IMAGE_PROPERTIES' }, __filename);
