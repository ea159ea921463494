#!/usr/bin/env node
// The `kiln` command as a package installs it: the TypeScript CLI, loaded through tsx (a
// dependency of Kiln), so an installed Kiln needs neither a build step nor this repository.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
