/**
 * The text the prefix-cache scorer hashes, from an OpenAI request body: the prompt of a completion,
 * or the chat messages in a canonical form (role + text of each message, in order; key order,
 * whitespace between JSON tokens and content-part splitting do not change it).
 */

/** Canonical prefix text of a parsed request body; "" when it has neither prompt nor messages. */
export function requestPrefixText(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const b = body as { prompt?: unknown; messages?: unknown; input?: unknown };
  if (typeof b.prompt === "string") return b.prompt;
  if (Array.isArray(b.prompt))
    return b.prompt.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join("\n");
  if (Array.isArray(b.messages)) return b.messages.map(canonicalMessage).join("");
  if (typeof b.input === "string") return b.input;
  if (Array.isArray(b.input)) return b.input.map(canonicalMessage).join("");
  return "";
}

function canonicalMessage(m: unknown): string {
  if (typeof m === "string") return `<|user|>${m}`;
  if (typeof m !== "object" || m === null) return "";
  const msg = m as { role?: unknown; content?: unknown; name?: unknown };
  const role = typeof msg.role === "string" ? msg.role : "user";
  const name = typeof msg.name === "string" ? `:${msg.name}` : "";
  return `<|${role}${name}|>${contentText(msg.content)}`;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content))
    return content === undefined || content === null ? "" : JSON.stringify(content);
  let out = "";
  for (const part of content) {
    if (typeof part === "string") out += part;
    else if (
      typeof part === "object" &&
      part !== null &&
      typeof (part as { text?: unknown }).text === "string"
    ) {
      out += (part as { text: string }).text;
    } else out += JSON.stringify(part);
  }
  return out;
}
