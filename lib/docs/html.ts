/** Text into HTML: the one escaper (the docs page; the embedded provider's login page uses it too). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
