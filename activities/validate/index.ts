import { checkGatesImpl } from './gates';
import { validateChampionImpl } from './champion';

/** The validation steps' implementations, for a worker to register; the champion step needs the worker's store. */
export const validateSteps = [checkGatesImpl, validateChampionImpl];
