//! Reading the apps' settings from the environment, with a clear error when one is missing.

export function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (see the example's README)`);
  return value;
}
