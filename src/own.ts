/**
 * Reads `obj[key]` only when `key` is the object's own property, so names typed in a chat, a URL or
 * an alert (`constructor`, `toString`, `__proto__`) never reach `Object.prototype`. Every lookup by
 * name in the config (people, schedules, chats, policies, integrations) goes through here.
 */
export function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
