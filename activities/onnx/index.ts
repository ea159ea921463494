import { exportOnnxImpl, probeRecords } from './export-step';
import { importOnnxImpl } from './import-step';

export {
  exportOnnx,
  importOnnx,
  onnxElementType,
  onnxRef,
  onnxSignature,
  onnxValue,
  type OnnxElementType,
  type OnnxRef,
  type OnnxSignature,
  type OnnxValue,
} from './steps';
export {
  buildOnnx,
  IR_VERSION,
  LABEL,
  ML_OPSET,
  OnnxExportError,
  onnxSignatureOf,
  OPSET,
  PROBABILITIES,
} from './export';
export {
  createScorer,
  inputTensors,
  OnnxInputError,
  openOnnx,
  rowsOf,
  type OnnxRecord,
  type OnnxScorer,
  type ScorerOptions,
} from './session';
export { signatureFrom, signatureMismatches, type ValueMetadata } from './signature';
export {
  DataType,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto';
export { exportOnnxImpl, importOnnxImpl, probeRecords };

/** The ONNX steps' implementations, for a worker to register. */
export const onnxSteps = [exportOnnxImpl, importOnnxImpl];
