/** `upkeep initctl`: not written yet (placeholder so dispatch type-checks). */

export function initctlMain(_args: string[], program: string): Promise<number> {
  console.error(`${program}: not implemented yet`);
  return Promise.resolve(1);
}
