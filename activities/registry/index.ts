import { registerModelImpl } from './register';
import { setAliasImpl } from './set-alias';

/** The registry steps' implementations, for a worker to register; they need the worker's store. */
export const registrySteps = [registerModelImpl, setAliasImpl];
