import type { DeadLetters } from '#ports/dead-letter.js';

export class MemoryDeadLetters implements DeadLetters {
  readonly messages: { body: string; reason: string }[] = [];

  async send(body: string, reason: string): Promise<void> {
    this.messages.push({ body, reason });
  }
}
