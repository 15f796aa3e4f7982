// What every page of the workbench shares, loaded before the page's own script.
"use strict";

const $ = (id) => document.getElementById(id);

// An element with attributes (`class`, `onEVENT` handlers, the rest as attributes) and children.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}
