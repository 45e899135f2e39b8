/**
 * A parser for the part of FHIRPath that R4 search parameter expressions use: paths, unions,
 * indexers, `as`/`is` (operator and function form), `where(...)`, `resolve()`, `exists()`,
 * `=`/`!=`, `and`/`or`, string/number/boolean literals and `%resource`.
 * https://hl7.org/fhirpath/N1/#grammar  https://hl7.org/fhir/R4/fhirpath.html
 *
 * Anything outside that subset throws a {@link FhirPathSyntaxError}; the compiler then falls back to
 * the `fhirpath` package, so an unusual (custom) SearchParameter still works, only slower.
 */

/** An expression tree node. */
export type PathAst =
  | { k: 'name'; name: string }
  | { k: 'invoke'; target: PathAst; member: PathAst }
  | { k: 'fn'; name: string; args: PathAst[] }
  | { k: 'index'; target: PathAst; index: PathAst }
  | { k: 'binop'; op: BinaryOp; left: PathAst; right: PathAst }
  | { k: 'type'; op: 'as' | 'is'; target: PathAst; typeName: string }
  | { k: 'lit'; value: string | number | boolean }
  | { k: 'var'; name: string };

/** Binary operators of the subset, loosest binding last in {@link LEVELS}. */
export type BinaryOp = '|' | '=' | '!=' | 'and' | 'or' | 'xor';

/** Thrown for syntax the subset does not cover. */
export class FhirPathSyntaxError extends Error {
  override name = 'FhirPathSyntaxError';
}

type Token = { t: 'id' | 'str' | 'num' | 'var' | 'sym'; v: string };

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]*)`|'((?:[^'\\]|\\.)*)'|(\d+(?:\.\d+)?)|%([A-Za-z_][A-Za-z0-9_]*)|(!=|[.()[\]|=,]))/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new FhirPathSyntaxError(`unexpected text at ${start}: ${text.slice(start, start + 20)}`);
    if (m[1] !== undefined) out.push({ t: 'id', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'str', v: m[3].replace(/\\(.)/g, '$1') });
    else if (m[4] !== undefined) out.push({ t: 'num', v: m[4] });
    else if (m[5] !== undefined) out.push({ t: 'var', v: m[5] });
    else out.push({ t: 'sym', v: m[6] });
  }
  return out;
}

/** Operator levels from the loosest to the tightest (FHIRPath §Operator precedence). */
const LEVELS: readonly (readonly string[])[] = [['or', 'xor'], ['and'], ['=', '!='], ['|']];

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): PathAst {
    const ast = this.parseLevel(0);
    if (this.pos < this.tokens.length) throw new FhirPathSyntaxError(`unexpected '${this.tokens[this.pos].v}'`);
    return ast;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isOp(tok: Token | undefined, ops: readonly string[]): boolean {
    return !!tok && (tok.t === 'sym' || tok.t === 'id') && ops.includes(tok.v);
  }

  private expect(sym: string): void {
    const tok = this.tokens[this.pos++];
    if (!tok || tok.t !== 'sym' || tok.v !== sym) throw new FhirPathSyntaxError(`expected '${sym}'`);
  }

  private parseLevel(level: number): PathAst {
    if (level === LEVELS.length) return this.parseTypeExpr();
    let left = this.parseLevel(level + 1);
    while (this.isOp(this.peek(), LEVELS[level])) {
      const op = this.tokens[this.pos++].v as BinaryOp;
      left = { k: 'binop', op, left, right: this.parseLevel(level + 1) };
    }
    return left;
  }

  private parseTypeExpr(): PathAst {
    let target = this.parsePostfix();
    while (this.isOp(this.peek(), ['as', 'is'])) {
      const op = this.tokens[this.pos++].v as 'as' | 'is';
      target = { k: 'type', op, target, typeName: this.parseTypeName() };
    }
    return target;
  }

  private parseTypeName(): string {
    const parts = [this.identifier()];
    while (this.isOp(this.peek(), ['.'])) {
      this.pos++;
      parts.push(this.identifier());
    }
    return parts[parts.length - 1];
  }

  private identifier(): string {
    const tok = this.tokens[this.pos++];
    if (!tok || tok.t !== 'id') throw new FhirPathSyntaxError('expected an identifier');
    return tok.v;
  }

  private parsePostfix(): PathAst {
    let ast = this.parsePrimary();
    for (;;) {
      const tok = this.peek();
      if (this.isOp(tok, ['.'])) {
        this.pos++;
        ast = { k: 'invoke', target: ast, member: this.parseMember() };
      } else if (tok?.t === 'sym' && tok.v === '[') {
        this.pos++;
        const index = this.parseLevel(0);
        this.expect(']');
        ast = { k: 'index', target: ast, index };
      } else return ast;
    }
  }

  private parseMember(): PathAst {
    const name = this.identifier();
    const next = this.peek();
    if (next?.t !== 'sym' || next.v !== '(') return { k: 'name', name };
    this.pos++;
    const args: PathAst[] = [];
    if (!this.isOp(this.peek(), [')'])) {
      args.push(this.parseLevel(0));
      while (this.isOp(this.peek(), [','])) {
        this.pos++;
        args.push(this.parseLevel(0));
      }
    }
    this.expect(')');
    return { k: 'fn', name, args };
  }

  private parsePrimary(): PathAst {
    const tok = this.peek();
    if (!tok) throw new FhirPathSyntaxError('unexpected end of expression');
    if (tok.t === 'sym' && tok.v === '(') {
      this.pos++;
      const inner = this.parseLevel(0);
      this.expect(')');
      return inner;
    }
    if (tok.t === 'str') return this.pos++, { k: 'lit', value: tok.v };
    if (tok.t === 'num') return this.pos++, { k: 'lit', value: Number(tok.v) };
    if (tok.t === 'var') return this.pos++, { k: 'var', name: tok.v };
    if (tok.t === 'id' && (tok.v === 'true' || tok.v === 'false')) return this.pos++, { k: 'lit', value: tok.v === 'true' };
    if (tok.t === 'id') return this.parseMember();
    throw new FhirPathSyntaxError(`unexpected '${tok.v}'`);
  }
}

/** Parses a FHIRPath expression of the search-parameter subset into a tree. */
export function parseFhirPath(expression: string): PathAst {
  return new Parser(tokenize(expression)).parseAll();
}
