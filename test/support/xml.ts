/**
 * A small strict XML parser for tests: enough of XML 1.0 to prove an SVG well-formed (one root, balanced
 * tags, quoted and unique attributes, only the predefined entities or character references, no stray
 * '<' or '&') and to query the result. Throws an Error naming the problem and its offset.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside this element (entities decoded). */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

function decode(raw: string, at: number): string {
  return raw.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
    if (ent == null) throw new Error(`bare '&' near offset ${at}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ent in named) return named[ent];
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ent);
    if (num) return String.fromCodePoint(num[1][0] === 'x' ? parseInt(num[1].slice(1), 16) : Number(num[1]));
    throw new Error(`unknown entity '&${ent};' near offset ${at}`);
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0].length;
      i += ws;
      if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i);
        if (end < 0) throw new Error(`unterminated processing instruction at ${i}`);
        i = end + 2;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new Error(`unterminated comment at ${i}`);
        i = end + 3;
      } else return;
    }
  };
  skipMisc();
  while (i < src.length) {
    if (src[i] === '<') {
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new Error(`unterminated comment at ${i}`);
        i = end + 3;
        continue;
      }
      if (src.startsWith('</', i)) {
        const m = NAME.exec(src.slice(i + 2));
        if (!m) throw new Error(`bad closing tag at ${i}`);
        const open = stack.pop();
        if (open == null || open.name !== m[0]) {
          throw new Error(`closing </${m[0]}> at ${i} does not match <${open?.name ?? '(none)'}>`);
        }
        i += 2 + m[0].length;
        i += /^\s*/.exec(src.slice(i))![0].length;
        if (src[i] !== '>') throw new Error(`expected '>' at ${i}`);
        i++;
        if (stack.length === 0) {
          skipMisc();
          if (i < src.length) throw new Error(`content after the root element at ${i}`);
        }
        continue;
      }
      const m = NAME.exec(src.slice(i + 1));
      if (!m) throw new Error(`bad tag at ${i}`);
      if (root != null && stack.length === 0) throw new Error(`second root element at ${i}`);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      i += 1 + m[0].length;
      for (;;) {
        const ws = /^\s*/.exec(src.slice(i))![0].length;
        i += ws;
        if (src.startsWith('/>', i)) { i += 2; break; }
        if (src[i] === '>') { i++; stack.push(el); break; }
        if (ws === 0) throw new Error(`expected whitespace before an attribute at ${i}`);
        const a = /^([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(src.slice(i));
        if (!a) throw new Error(`bad attribute in <${el.name}> at ${i}: ${src.slice(i, i + 30)}`);
        if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]} in <${el.name}> at ${i}`);
        el.attrs[a[1]] = decode(a[3] ?? a[4], i);
        i += a[0].length;
      }
      if (stack.length > 0 && stack[stack.length - 1] !== el) stack[stack.length - 1].children.push(el);
      else if (stack.length > 1) stack[stack.length - 2].children.push(el);
      if (root == null) root = el;
      if (stack.length === 0) { // self-closing root
        skipMisc();
        if (i < src.length) throw new Error(`content after the root element at ${i}`);
      }
      continue;
    }
    const end = src.indexOf('<', i);
    const raw = src.slice(i, end < 0 ? src.length : end);
    if (stack.length === 0) throw new Error(`text outside the root element at ${i}`);
    if (raw.includes('>') && raw.includes(']]>')) throw new Error(`']]>' in text at ${i}`);
    stack[stack.length - 1].text += decode(raw, i);
    i += raw.length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (root == null) throw new Error('no root element');
  return root;
}

/** Every element below (and including) `el`, depth first. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** All text inside `el`, concatenated. */
export function textOf(el: XmlElement): string {
  return el.text + el.children.map(textOf).join('');
}
