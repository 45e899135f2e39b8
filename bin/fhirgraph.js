#!/usr/bin/env node
// The operator CLI (`npx fhirgraph <command>`): loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
