/** `upkeep install` / `upkeep uninstall`: not written yet (placeholder so dispatch type-checks). */

export function installMain(command: string, _args: string[]): Promise<number> {
  console.error(`upkeep: ${command} is not implemented yet`);
  return Promise.resolve(1);
}
