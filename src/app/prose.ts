// Turns scenario prose (paragraphs, **bold**, `code`) into plain segments the page renders without HTML injection.

export interface ProseSpan {
  text: string;
  style: 'plain' | 'bold' | 'code';
}

/** Paragraphs are separated by blank lines; inside them, **bold** and `code` are recognised. */
export function parseProse(source: string): ProseSpan[][] {
  return source
    .split(/\n\s*\n/)
    .map((p) => p.trim().replace(/\s*\n\s*/g, ' '))
    .filter(Boolean)
    .map(parseInline);
}

function parseInline(paragraph: string): ProseSpan[] {
  const spans: ProseSpan[] = [];
  const pattern = /\*\*([^*]+)\*\*|`([^`]+)`/g;
  let last = 0;
  for (const match of paragraph.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) spans.push({ text: paragraph.slice(last, at), style: 'plain' });
    if (match[1] !== undefined) spans.push({ text: match[1], style: 'bold' });
    else spans.push({ text: match[2], style: 'code' });
    last = at + match[0].length;
  }
  if (last < paragraph.length) spans.push({ text: paragraph.slice(last), style: 'plain' });
  return spans;
}
