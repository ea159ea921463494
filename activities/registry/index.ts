import { registerModelImpl } from './register';
import { setAliasImpl } from './set-alias';

export { registerModelImpl } from './register';
export { setAliasImpl, ACCESS_DENIED } from './set-alias';
export { requireStore, STORE_REQUIRED } from './store-required';
export { modelSignature } from './signature';

/** The registry steps' implementations, for a worker to register; they need the worker's store. */
export const registrySteps = [registerModelImpl, setAliasImpl];
