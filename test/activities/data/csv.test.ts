import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvParser, CsvSyntaxError, parseCsv, type CsvRecord } from '../../../activities/data/csv';

const parse = (text: string): CsvRecord[] => {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
};

/** Feeds the text one character at a time, to prove chunk boundaries do not matter. */
const parseByChar = (text: string): CsvRecord[] => {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (const ch of text) out.push(...parser.push(ch));
  return [...out, ...parser.end()];
};

describe('CsvParser', () => {
  it('splits fields and records and numbers records by their first line', () => {
    assert.deepEqual(parse('a,b\n1,2\n3,4\n'), [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
    ]);
  });

  it('reads quoted fields with escaped quotes, delimiters and line breaks', () => {
    const text = 'name,note\n"Smith, J","said ""hi""\nthen left"\nx,y';
    assert.deepEqual(parse(text), [
      { fields: ['name', 'note'], line: 1 },
      { fields: ['Smith, J', 'said "hi"\nthen left'], line: 2 },
      { fields: ['x', 'y'], line: 4 },
    ]);
  });

  it('accepts CRLF and lone CR line ends, keeping CRLF inside quotes', () => {
    assert.deepEqual(parse('a,b\r\n1,"x\r\ny"\r\n2,3\r4,5'), [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', 'x\r\ny'], line: 2 },
      { fields: ['2', '3'], line: 4 },
      { fields: ['4', '5'], line: 5 },
    ]);
  });

  it('strips a byte-order mark from the first header name', () => {
    assert.deepEqual(parse('\uFEFFa,b\n1,2')[0], { fields: ['a', 'b'], line: 1 });
  });

  it('keeps empty fields and skips blank lines', () => {
    assert.deepEqual(parse('a,b,c\n,,\n\n1,"",3\n\n'), [
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['', '', ''], line: 2 },
      { fields: ['1', '', '3'], line: 4 },
    ]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = '\uFEFFa,b\r\n"q""uo\r\nted",2\r\n\r\n"",x\ry,"z"';
    assert.deepEqual(parseByChar(text), parse(text));
  });

  it('reports an unterminated quote at the line where it opened', () => {
    const parser = new CsvParser();
    parser.push('a,b\n1,2\n3,"open\nmore\n');
    assert.throws(
      () => parser.end(),
      (error: unknown) =>
        error instanceof CsvSyntaxError && error.line === 3 && error.field === 1 && /never closed/.test(error.message),
    );
  });

  it('rejects text after a closing quote', () => {
    assert.throws(
      () => parse('a,b\n"x"y,2'),
      (error: unknown) => error instanceof CsvSyntaxError && error.line === 2 && error.field === 0,
    );
  });

  it('decodes UTF-8 split across byte chunks', async () => {
    const bytes = Buffer.from('név,ár\nÁrvíztűrő,"tükörfúrógép"\n');
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    const records: CsvRecord[] = [];
    for await (const record of parseCsv(chunks)) records.push(record);
    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ['név', 'ár'],
        ['Árvíztűrő', 'tükörfúrógép'],
      ],
    );
  });
});
