// A small RFC 6902 JSON Patch (add, remove, replace, move, copy, test) over RFC 6901 pointers.
//
// applyPatch(doc, ops) applies the operations IN PLACE and returns the new root (a patch may
// replace the root itself). It is not atomic: on the first failing operation it throws a
// PatchError and the document may be half-patched. The board client never shows such a
// document: it asks the server for a fresh snapshot instead (see protocol.js).

export class PatchError extends Error {
  constructor(message, index, op) {
    super(index === undefined ? message : `op ${index} (${op && op.op} ${op && op.path}): ${message}`);
    this.name = "PatchError";
    this.index = index;
    this.op = op;
  }
}

/** "/a/b~1c/~0d" -> ["a", "b/c", "~d"]; "" -> []. */
export function parsePointer(pointer) {
  if (typeof pointer !== "string") throw new PatchError("pointer must be a string");
  if (pointer === "") return [];
  if (pointer[0] !== "/") throw new PatchError(`invalid pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new PatchError(`invalid escape in pointer ${JSON.stringify(pointer)}`);
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

export function escapeToken(token) {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function arrayIndex(arr, token, forAdd) {
  if (token === "-" && forAdd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index ${JSON.stringify(token)}`);
  const i = Number(token);
  if (forAdd ? i > arr.length : i >= arr.length) throw new PatchError(`array index ${i} out of range`);
  return i;
}

function parentOf(doc, tokens) {
  let node = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)];
    else if (isObject(node) && hasOwn(node, t)) node = node[t];
    else throw new PatchError(`path not found at ${JSON.stringify(t)}`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new PatchError("parent is not a container");
  return node;
}

function getValue(doc, tokens) {
  let node = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)];
    else if (isObject(node) && hasOwn(node, t)) node = node[t];
    else throw new PatchError(`path not found at ${JSON.stringify(t)}`);
  }
  return node;
}

function addValue(doc, tokens, value) {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return doc;
}

function removeValue(doc, tokens) {
  if (tokens.length === 0) throw new PatchError("cannot remove the root");
  const parent = parentOf(doc, tokens);
  const key = tokens[tokens.length - 1];
  let old;
  if (Array.isArray(parent)) {
    old = parent.splice(arrayIndex(parent, key, false), 1)[0];
  } else {
    if (!hasOwn(parent, key)) throw new PatchError(`no member ${JSON.stringify(key)} to remove`);
    old = parent[key];
    delete parent[key];
  }
  return old;
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

const clone = (v) => (v === null || typeof v !== "object" ? v : JSON.parse(JSON.stringify(v)));

export function applyOperation(doc, op, index) {
  try {
    if (!op || typeof op !== "object") throw new PatchError("operation is not an object");
    const tokens = parsePointer(op.path);
    switch (op.op) {
      case "add":
        if (!hasOwn(op, "value")) throw new PatchError("add without value");
        return addValue(doc, tokens, op.value);
      case "remove":
        removeValue(doc, tokens);
        return doc;
      case "replace": {
        if (!hasOwn(op, "value")) throw new PatchError("replace without value");
        if (tokens.length === 0) return op.value;
        const parent = parentOf(doc, tokens);
        const key = tokens[tokens.length - 1];
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, false)] = op.value;
        else if (hasOwn(parent, key)) parent[key] = op.value;
        else throw new PatchError(`no member ${JSON.stringify(key)} to replace`);
        return doc;
      }
      case "move": {
        const from = parsePointer(op.from);
        if (op.path === op.from) return doc;
        if (op.path.startsWith(op.from + "/")) throw new PatchError("cannot move a value into itself");
        const value = getValue(doc, from);
        removeValue(doc, from);
        return addValue(doc, tokens, value);
      }
      case "copy":
        return addValue(doc, tokens, clone(getValue(doc, parsePointer(op.from))));
      case "test":
        if (!deepEqual(getValue(doc, tokens), op.value)) throw new PatchError("test failed");
        return doc;
      default:
        throw new PatchError(`unknown op ${JSON.stringify(op.op)}`);
    }
  } catch (err) {
    if (err instanceof PatchError && err.index === undefined) throw new PatchError(err.message, index, op);
    throw err;
  }
}

export function applyPatch(doc, ops) {
  if (!Array.isArray(ops)) throw new PatchError("patch is not a list");
  let root = doc;
  for (let i = 0; i < ops.length; i++) root = applyOperation(root, ops[i], i);
  return root;
}
