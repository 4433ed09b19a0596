import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { botMessageJsonSchemas } from '#contracts/bot-schemas.js';

/**
 * Writes the bot's contract (one JSON Schema per message the bot may send) to schemas/:
 *   npm run schemas            # regenerate after changing functions/contracts/messages.ts
 *   npm run schemas -- --check # exit 1 when the checked-in files differ from the zod schemas
 */
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const dir = join(import.meta.dirname, '..', 'schemas');
const generated = Object.entries(botMessageJsonSchemas()).map(
  ([file, schema]) => [file, `${JSON.stringify(schema, null, 2)}\n`] as const,
);
if (values.check) {
  const present = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const stale = generated.filter(
    ([file, text]) => !present.includes(file) || readFileSync(join(dir, file), 'utf8') !== text,
  );
  for (const [file] of stale)
    console.error(`schemas/${file} differs from the zod schema: run npm run schemas`);
  process.exitCode = stale.length > 0 ? 1 : 0;
} else {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of generated) writeFileSync(join(dir, file), text);
  console.log(`wrote ${generated.map(([file]) => `schemas/${file}`).join(', ')}`);
}
