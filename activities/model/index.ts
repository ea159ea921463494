import { exportOnnxImpl } from './export-onnx';
import { importOnnxImpl } from './import-onnx';
import { scoreModelImpl } from './score';
import { scoreRegisteredImpl } from './score-registered';

/** The model steps' implementations (ONNX export and import, batch scoring), for a worker to register. */
export const modelSteps = [exportOnnxImpl, importOnnxImpl, scoreModelImpl, scoreRegisteredImpl];
