// Property-based fuzzing of the checkpoint readers: restricted unpickler, zip reader,
// safetensors reader and the whole loader. See config.ts for long runs and replays.
import { join } from 'node:path';
import { fuzzProperties } from './harness';

fuzzProperties('checkpoint readers keep their contract on hostile input', { module: join(__dirname, 'properties.ts'), exportName: 'CHECKPOINT_PROPERTIES' }, __filename);
