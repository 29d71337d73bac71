/** `upkeep show-config`: not written yet (placeholder so dispatch type-checks). */

export function showConfigMain(_args: string[]): Promise<number> {
  console.error("upkeep: show-config is not implemented yet");
  return Promise.resolve(1);
}
