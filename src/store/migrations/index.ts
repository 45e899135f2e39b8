/** The ordered list of schema migrations; append new ones, never edit a released one. */
import { Migration0001ResourceStore } from './migration-0001-resource-store.ts';

export const migrationsList = [{ name: '0001-resource-store', class: Migration0001ResourceStore }];
