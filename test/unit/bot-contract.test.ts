import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { botMessageJsonSchemas } from '#contracts/bot-schemas.js';
import { parseIngressMessage } from '#contracts/messages.js';

const SCHEMAS = join(import.meta.dirname, '..', '..', 'schemas');

describe("the bot's contract", () => {
  it('is checked in as generated from the zod schemas the register function validates with (npm run schemas)', () => {
    const generated = botMessageJsonSchemas();
    expect(
      readdirSync(SCHEMAS)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')), file).toEqual(schema);
    }
  });

  it('states every field the register function reads, and allows no other', () => {
    const register = botMessageJsonSchemas()['register.v1.schema.json'] as {
      properties: {
        position: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
      };
    };
    const position = register.properties.position;
    expect(Object.keys(position.properties).sort()).toEqual(
      ['noStopIntended', 'positionIdx', 'side', 'size', 'stopPrice', 'symbol', 'updatedAt'].sort(),
    );
    expect(position.required.sort()).toEqual(['positionIdx', 'side', 'size', 'symbol', 'updatedAt']);
    expect(position.additionalProperties).toBe(false);
  });

  it("accepts docs/BOT.md's examples as written", () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'BOT.md'), 'utf8');
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) expect(() => parseIngressMessage(example)).not.toThrow();
  });
});
