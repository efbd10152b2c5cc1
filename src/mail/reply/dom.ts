// Small DOM edits shared by the HTML reply rules: replacing a parent's
// children in one go (removing nodes one by one would cost a splice each).

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
