/**
 * Drops the union branches of a search expression that start from another resource type: R4
 * shares one SearchParameter between types (`AllergyIntolerance.code | Condition.code | ...`), so
 * each type compiles only its own branches. https://hl7.org/fhir/R4/searchparameter.html#expression
 */

/** Splits `text` at top-level `|` (outside parentheses, brackets and quotes). */
function splitUnion(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/**
 * Keeps the branches whose leading type name satisfies `appliesTo` (branches that start with an
 * element name or `%resource` are kept); null when no branch is left.
 */
export function pruneExpression(expression: string, appliesTo: (typeName: string) => boolean): string | null {
  const kept = splitUnion(expression).filter((branch) => {
    const first = /^\(*\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(branch)?.[1];
    return !first || !/^[A-Z]/.test(first) || appliesTo(first);
  });
  return kept.length === 0 ? null : kept.join(' | ');
}
