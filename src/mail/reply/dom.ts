// Small DOM edits shared by the HTML reply rules: replacing a parent's
// children in one go (removing nodes one by one would cost a splice each),
// and rewriting everything from a node on, in document order.

import type { ChildNode, ParentNode } from 'domhandler';

/** Gives `parent` a new list of children and links each one to its parent and siblings. */
export function setChildren(parent: ParentNode, children: ChildNode[]): void {
  parent.children = children;
  let prev: ChildNode | null = null;
  for (const child of children) {
    child.parent = parent;
    child.prev = prev;
    if (prev !== null) prev.next = child;
    prev = child;
  }
  if (prev !== null) prev.next = null;
}

export function detach(node: ChildNode): void {
  node.parent = null;
  node.prev = null;
  node.next = null;
}

/**
 * Replaces `from` and everything after it in document order with what
 * `rewrite` makes of it, one slice per ancestor: the slice of `from`'s own
 * parent starting at `from`, then at each ancestor the siblings after the
 * branch that holds `from`.
 */
export function rewriteFollowing(from: ChildNode, rewrite: (slice: ChildNode[]) => ChildNode[]): void {
  let node: ChildNode | ParentNode = from;
  let inclusive = true;
  while (node.parent) {
    const parent: ParentNode = node.parent;
    const idx = parent.children.indexOf(node as ChildNode);
    const start = inclusive ? idx : idx + 1;
    if (start < parent.children.length) setChildren(parent, [...parent.children.slice(0, start), ...rewrite(parent.children.slice(start))]);
    node = parent;
    inclusive = false;
  }
}
