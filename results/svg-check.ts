/**
 * A strict reader for the SVG that vega writes, so tests and the report can check a chart without a
 * browser: it parses the XML into a tree (failing on unbalanced or malformed tags) and counts the mark
 * items of a named mark (`<g class="... NAME_marks">` holds one `role="graphics-symbol"` child per item).
 */
export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;
const ATTR = /([^\s=\/>]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

/** Parses well-formed XML (no DTDs); throws with the offset of the first error. */
export function parseXml(text: string): XmlNode {
  const root: XmlNode = { tag: '#document', attrs: {}, children: [] };
  const stack: XmlNode[] = [root];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new Error(`unterminated comment at ${lt}`);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt);
      if (end < 0) throw new Error(`unterminated processing instruction at ${lt}`);
      i = end + 2;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0) throw new Error(`unterminated CDATA at ${lt}`);
      i = end + 3;
      continue;
    }
    const gt = findTagEnd(text, lt);
    if (gt < 0) throw new Error(`unterminated tag at ${lt}`);
    const inner = text.slice(lt + 1, gt);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      const open = stack.pop();
      if (!open || open === root || open.tag !== name) {
        throw new Error(`closing </${name}> at ${lt} does not match <${open?.tag ?? '(none)'}>`);
      }
    } else {
      const selfClosing = inner.endsWith('/');
      const body = selfClosing ? inner.slice(0, -1) : inner;
      const sp = body.search(/\s/);
      const tag = sp < 0 ? body : body.slice(0, sp);
      if (!NAME.test(tag)) throw new Error(`bad tag name '${tag}' at ${lt}`);
      const attrs: Record<string, string> = {};
      const rest = sp < 0 ? '' : body.slice(sp);
      for (const m of rest.matchAll(ATTR)) {
        if (m[1]! in attrs) throw new Error(`duplicate attribute ${m[1]} on <${tag}> at ${lt}`);
        attrs[m[1]!] = m[3] ?? m[4] ?? '';
      }
      if (rest.replace(ATTR, '').trim() !== '') throw new Error(`malformed attributes on <${tag}> at ${lt}`);
      const node: XmlNode = { tag, attrs, children: [] };
      stack[stack.length - 1]!.children.push(node);
      if (!selfClosing) stack.push(node);
    }
    i = gt + 1;
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.tag}> at end of document`);
  if (root.children.length !== 1) throw new Error(`expected one root element, found ${root.children.length}`);
  return root.children[0]!;
}

function findTagEnd(text: string, from: number): number {
  let quote = '';
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
  }
  return -1;
}

export function* walkXml(node: XmlNode): Generator<XmlNode> {
  yield node;
  for (const c of node.children) yield* walkXml(c);
}

/** The mark items of every `<g>` whose class names `NAME_marks` (facets repeat the group per panel). */
export function markItems(svgRoot: XmlNode, name: string): XmlNode[] {
  const cls = `${name}_marks`;
  const out: XmlNode[] = [];
  for (const n of walkXml(svgRoot)) {
    if (n.tag === 'g' && (n.attrs.class ?? '').split(/\s+/).includes(cls)) {
      out.push(...n.children.filter((c) => c.attrs.role === 'graphics-symbol'));
    }
  }
  return out;
}

/** Parses an SVG string and counts the items of a named mark; throws if the SVG is not well formed. */
export function countMarks(svg: string, name: string): number {
  return markItems(parseXml(svg), name).length;
}
