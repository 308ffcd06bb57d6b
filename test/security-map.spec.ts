/**
 * docs/SECURITY.md maps each security line to tests by file and exact title: this keeps the map
 * honest (every line mapped, every named test present in its file).
 */
import { existsSync, readFileSync } from 'node:fs';

const LINES = [
  'P1',
  'P2',
  'P3',
  'P4',
  'P5',
  'P6',
  'P7',
  'B1',
  'B2',
  'B3',
  'B4',
  'R1',
  'R2',
  'R3',
  'R4',
  'R5',
  'R6',
  'R7',
  'S1',
  'S2',
  'S3',
  'S4',
  'S5',
  'J1',
  'J2',
  'A1',
  'A2',
  'A3',
  'A4',
  'A5',
  'A6',
  'A7',
  'L1',
  'L2',
  'L3',
  'F1',
  'F2',
  'F3',
  'F4',
  'M1',
  'M2',
  'M3',
  'M4',
  'M5',
  'M6',
  'M7',
  'M8',
  'K1',
  'K2',
  'K3',
];
const doc = readFileSync('docs/SECURITY.md', 'utf8');

/** A title as written in Markdown, its escapes (`\\_` for `_`, which Markdown would read as emphasis) undone. */
const unescapeMarkdown = (text: string) => text.replace(/\\([\\`*_{}[\]()#+.!-])/g, '$1');

/** The bullets under each `### <line>` heading: a file and the titles it holds. */
function sections(): Map<string, Array<{ file: string; titles: string[] }>> {
  const result = new Map<string, Array<{ file: string; titles: string[] }>>();
  let current: string | undefined;
  for (const line of doc.split('\n')) {
    const heading = /^### ([A-Z]\d) /.exec(line);
    if (heading) {
      current = heading[1];
      result.set(current, []);
      continue;
    }
    const bullet = /^- `([^`]+\.ts)`: (.*)$/.exec(line);
    if (current && bullet)
      result.get(current)!.push({ file: bullet[1], titles: [...bullet[2].matchAll(/«([^»]+)»/g)].map((match) => unescapeMarkdown(match[1])) });
  }
  return result;
}

describe('docs/SECURITY.md', () => {
  const map = sections();

  it.each(LINES)('maps %s to at least one test', (line) => {
    expect(map.get(line)?.length).toBeGreaterThan(0);
  });

  it.each([...map].flatMap(([line, bullets]) => bullets.map((bullet) => [line, bullet.file, bullet.titles] as const)))(
    '%s: every test named in %s exists there',
    (_line, file, titles) => {
      expect(existsSync(file)).toBe(true);
      const source = readFileSync(file, 'utf8').replace(/\\'/g, "'");
      expect(titles.length).toBeGreaterThan(0);
      for (const title of titles) expect(source).toContain(title);
    },
  );
});
