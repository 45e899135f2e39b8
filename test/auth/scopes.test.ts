import { describe, expect, it } from 'vitest';
import { ScopeSet, grantScope, isValidScopeString, parseScope, scopesNotHeld } from '../../src/auth/scopes.ts';

describe('SMART scopes', () => {
  it('reads v1 read/write/* as v2 permissions', () => {
    expect([...parseScope('system/Patient.read')!.permissions]).toEqual(['r', 's']);
    expect([...parseScope('system/*.write')!.permissions]).toEqual(['c', 'u', 'd']);
    expect([...parseScope('system/*.*')!.permissions]).toEqual(['c', 'r', 'u', 'd', 's']);
  });

  it('reads v2 cruds in order and refuses disordered or foreign scopes', () => {
    expect([...parseScope('system/Observation.rs')!.permissions]).toEqual(['r', 's']);
    expect(parseScope('system/Observation.sr')).toBeUndefined();
    expect(parseScope('patient/Observation.rs')).toBeUndefined();
    expect(parseScope('system/Observation.')).toBeUndefined();
    expect(parseScope('openid')).toBeUndefined();
    expect(isValidScopeString('system/*.read system/Patient.cud')).toBe(true);
    expect(isValidScopeString('system/*.read launch')).toBe(false);
    expect(isValidScopeString('')).toBe(false);
  });

  it('grants the intersection of requested and allowed scopes', () => {
    expect(grantScope('system/Patient.read', 'system/*.*')).toBe('system/Patient.read');
    expect(grantScope('system/*.read', 'system/Patient.cruds system/Observation.rs')).toBe('system/Patient.read system/Observation.read');
    expect(grantScope('system/Patient.cruds', 'system/*.read')).toBe('system/Patient.rs');
    expect(grantScope('system/Observation.write', 'system/Patient.*')).toBe('');
    expect(grantScope(undefined, 'system/Patient.rs system/*.read')).toBe('system/Patient.rs system/*.read');
  });

  it('answers permission checks per type and for wildcards', () => {
    const scopes = new ScopeSet('system/Patient.rs system/Observation.c system/*.r');
    expect(scopes.permits('Patient', 's')).toBe(true);
    expect(scopes.permits('Patient', 'u')).toBe(false);
    expect(scopes.permits('Observation', 'c')).toBe(true);
    expect(scopes.permits('Encounter', 'r')).toBe(true);
    expect(scopes.permits('Encounter', 's')).toBe(false);
    expect(scopes.permitsAll('r')).toBe(true);
    expect(scopes.typesWith('s')).toEqual(['Patient']);
  });

  it('names the requested scopes an admin does not hold (a grant must be a subset)', () => {
    expect(scopesNotHeld('system/Patient.r system/Patient.read', 'system/Patient.rs')).toEqual([]);
    expect(scopesNotHeld('system/*.*', 'system/Patient.rs')).toEqual(['system/*.*']);
    expect(scopesNotHeld('system/Patient.cruds system/Observation.rs', 'system/Patient.rs system/*.read')).toEqual(['system/Patient.cruds']);
    expect(scopesNotHeld('system/*.rs', 'system/Patient.rs')).toEqual(['system/*.rs']);
    expect(scopesNotHeld('system/Observation.cruds system/*.rs', 'system/*.*')).toEqual([]);
    expect(scopesNotHeld('system/Patient.cud', 'system/*.write system/Patient.rs')).toEqual([]);
  });
});
