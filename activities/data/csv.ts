/** One CSV record: its raw fields and the 1-based line on which it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Malformed CSV text: where it is (line, 0-based field index) and what is wrong. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly field: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 34;
const CR = 13;
const LF = 10;
const BOM = 0xfeff;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Inside a quoted field, just after a quote: either an escaped quote or the closing one. */
  QuoteSeen,
  /** After a CR that ended a record: a following LF belongs to it. */
  AfterCr,
}

/**
 * An incremental RFC 4180 parser: feed it text in chunks of any size, get complete records back.
 * Accepts LF, CRLF and lone CR line ends, quoted fields with `""` escapes and line breaks, and
 * a leading byte-order mark. Blank lines are skipped. A quote inside an unquoted field is kept
 * as text, as most writers of such files intend.
 */
export class CsvParser {
  private readonly delimiter: number;
  private state = State.FieldStart;
  private fields: string[] = [];
  private field = '';
  /** Whether the current record has any character or delimiter, to tell it from a blank line. */
  private started = false;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** A CR inside quotes was the last character: a following LF does not start another line. */
  private quotedCr = false;
  private first = true;
  private out: CsvRecord[] = [];

  constructor(delimiter = ',') {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new Error(`CSV delimiter must be one character other than a quote or line break, got '${delimiter}'`);
    }
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Parses the next chunk; returns the records it completed. */
  push(text: string): CsvRecord[] {
    let i = 0;
    const n = text.length;
    if (this.first && n > 0) {
      this.first = false;
      if (text.charCodeAt(0) === BOM) i = 1;
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case State.AfterCr:
          this.state = State.FieldStart;
          if (c === LF) i++;
          break;
        case State.FieldStart:
          if (c === QUOTE) {
            this.state = State.Quoted;
            this.started = true;
            this.quoteLine = this.line;
            this.quotedCr = false;
            i++;
          } else {
            this.state = State.Unquoted;
          }
          break;
        case State.Unquoted: {
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === this.delimiter || d === CR || d === LF) break;
            j++;
          }
          if (j > i) {
            this.field += text.slice(i, j);
            this.started = true;
          }
          if (j < n) this.separator(text.charCodeAt(j));
          i = j + 1;
          break;
        }
        case State.Quoted: {
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === QUOTE) break;
            if (d === LF) {
              if (!this.quotedCr) this.line++;
              this.quotedCr = false;
            } else if (d === CR) {
              this.line++;
              this.quotedCr = true;
            } else {
              this.quotedCr = false;
            }
            j++;
          }
          this.field += text.slice(i, j);
          if (j < n) {
            this.state = State.QuoteSeen;
            this.quotedCr = false;
          }
          i = j + 1;
          break;
        }
        case State.QuoteSeen:
          if (c === QUOTE) {
            this.field += '"';
            this.state = State.Quoted;
          } else if (c === this.delimiter || c === CR || c === LF) {
            this.separator(c);
          } else {
            throw new CsvSyntaxError(
              this.line,
              this.fields.length,
              `unexpected '${String.fromCharCode(c)}' after the closing quote of a field; a quote inside a quoted field is written as ""`,
            );
          }
          i++;
          break;
      }
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Ends the input; returns the last record, or throws if a quoted field was left open. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) {
      throw new CsvSyntaxError(
        this.quoteLine,
        this.fields.length,
        'a quoted field opened here is never closed before the end of the file; add the closing quote',
      );
    }
    if (this.state !== State.AfterCr && (this.started || this.fields.length > 0)) this.endRecord();
    this.state = State.FieldStart;
    const out = this.out;
    this.out = [];
    return out;
  }

  private separator(c: number): void {
    if (c === this.delimiter) {
      this.fields.push(this.field);
      this.field = '';
      this.started = true;
      this.state = State.FieldStart;
      return;
    }
    this.endRecord();
    this.line++;
    this.recordLine = this.line;
    this.state = c === CR ? State.AfterCr : State.FieldStart;
  }

  private endRecord(): void {
    if (this.started || this.fields.length > 0) {
      this.fields.push(this.field);
      this.out.push({ fields: this.fields, line: this.recordLine });
    }
    this.fields = [];
    this.field = '';
    this.started = false;
  }
}

/** Streams records out of UTF-8 bytes or text, decoding across chunk boundaries. */
export async function* parseCsv(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: { delimiter?: string } = {},
): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser(options.delimiter);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of source) {
    yield* parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  }
  yield* parser.push(decoder.decode());
  yield* parser.end();
}
