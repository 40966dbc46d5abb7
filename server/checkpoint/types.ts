// Public shapes of a loaded checkpoint.

export type SourceDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export interface TensorData {
  dtype: SourceDType;
  shape: number[];
  /** values as float32, row-major contiguous (a zero-copy view onto the file bytes when the source is contiguous aligned little-endian float32) */
  data: Float32Array;
}

export interface Checkpoint {
  format: 'pytorch-zip' | 'safetensors';
  /** the model state dict, container unwrapped and 'module.' prefixes stripped */
  tensors: Map<string, TensorData>;
  /** human description of where the state dict was found, e.g. "bare state dict", "{'state_dict': ...} with 'module.' prefix stripped" */
  container: string;
}
