// Values quoted in messages are cut short: a file of junk must not come back whole in the report.

/** At most this many characters of a value appear in a message. */
export const EXCERPT_LENGTH = 60;

/** The value in double quotes with JSON escapes (control characters stay visible), cut to a short excerpt. */
export function quote(value: string, max = EXCERPT_LENGTH): string {
  if (value.length <= max) {
    const whole = JSON.stringify(value);
    if (whole.length <= max + 2) return whole;
  }
  let out = '';
  for (const ch of value) {
    const escaped = JSON.stringify(ch).slice(1, -1);
    if (out.length + escaped.length > max) break;
    out += escaped;
  }
  return `"${out}…"`;
}

/** Free text (an error message from a library) cut to `max` characters. */
export function excerpt(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
