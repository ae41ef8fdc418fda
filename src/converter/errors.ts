/** Errors the converter reports to users (the CLI prints the message and exits non-zero). */
export class ConversionError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(details.length > 0 ? `${message}\n${details.map((d) => `  - ${d}`).join('\n')}` : message);
    this.name = 'ConversionError';
  }
}

/** One node the converter cannot translate, with its position in the source graph. */
export interface UnsupportedNode {
  index: number;
  name: string;
  op: string;
  reason?: string;
}

export function unsupportedOpsError(format: string, nodes: UnsupportedNode[]): ConversionError {
  const ops = [...new Set(nodes.map((n) => n.op))].sort();
  return new ConversionError(`${format} graph uses ${nodes.length} node(s) the converter does not support ` +
    `(ops: ${ops.join(', ')}):`, nodes.map((n) => `node #${n.index} '${n.name}' (${n.op})${n.reason ? `: ${n.reason}` : ''}`));
}
