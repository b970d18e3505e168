#!/usr/bin/env node
// `npx framewise`: runs the TypeScript CLI through tsx (registered as a module loader in this process).
import { register } from 'tsx/esm/api';

register();
await import('../framewise.ts');
