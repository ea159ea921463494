import { scoreModelImpl } from './score';

export { PREDICTION_COLUMN, probabilityColumn, SCORE_BATCH, scoreModel, scoreModelImpl } from './score';

/** The scoring steps' implementations, for a worker to register. */
export const scoreSteps = [scoreModelImpl];
