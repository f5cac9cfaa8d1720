// `hashctl schema NAME`: prints the JSON Schema of a document hashctl produces. Each schema loads
// lazily (zod stays out of `hashctl --help`); add one by adding an entry to SCHEMAS.
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions, RegisterCommand } from './shared.js';

export const SCHEMAS: Record<string, () => Promise<Record<string, unknown>>> = {
  snapshot: async () => (await import('../miners/schema.js')).snapshotJsonSchema(),
  upload: async () => {
    const [{ snapshotSchema }, { uploadBatchJsonSchema }] = await Promise.all([
      import('../miners/schema.js'),
      import('../upload/payload.js'),
    ]);
    return uploadBatchJsonSchema(snapshotSchema);
  },
};

export async function runSchema(name: string, _globals: GlobalOptions, ctx: Context): Promise<number> {
  const load = SCHEMAS[name];
  if (!load)
    throw new UsageError(`unknown schema '${name}'; valid: ${Object.keys(SCHEMAS).sort().join(', ')}`);
  const { writeJson } = await import('../output/render.js');
  writeJson(ctx.stdout, await load());
  return 0;
}

export const registerSchema: RegisterCommand = (program, env) => {
  program
    .command('schema')
    .description('print the JSON Schema of a document hashctl produces')
    .argument('<name>', `schema name (${Object.keys(SCHEMAS).sort().join(', ')})`)
    .action(async (name: string, _raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runSchema(name, globals, env.ctx));
    });
};
